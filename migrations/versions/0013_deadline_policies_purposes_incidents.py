"""deadline policy versions in the database, message purposes, critical safety incidents

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 06:30:00

- ``deadline_policy_versions``: every process reads the policy versions from here, so a case's
  version is the same for the web workers, the scheduler and a second machine.
- ``case_records.purpose``: a message to the reporter may be a status update, feedback or the
  outcome at closure; only those meet the clocks of the same names. Messages already written
  are marked "legacy" and still count as status updates, as they did when they were written.
- ``cases``: the critical-safety-incident flag, its day, and the notice made to the authority.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

CASE_COLUMNS = ('critical_incident', 'imminent_risk', 'critical_incident_on',
                'authority_notified_on', 'authority_reference')


def upgrade():
    op.create_table(
        'deadline_policy_versions',
        sa.Column('version', sa.String(length=32), nullable=False),
        sa.Column('settings', sa.Text(), nullable=False),
        sa.Column('registered_at', sa.DateTime(), nullable=False),
        sa.Column('current_since', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('version', name=op.f('pk_deadline_policy_versions')),
    )
    with op.batch_alter_table('case_records') as batch:
        batch.add_column(sa.Column('purpose', sa.String(length=16), nullable=True))
    # Messages written to reporters before this revision met the status-update clock then;
    # they keep meeting it (as "legacy"), so that an upgrade invents no missed deadline and
    # releases no escrow copy. From now on only updates, feedback and outcomes count.
    op.execute("UPDATE case_records SET purpose = 'legacy' WHERE author = 'staff' "
               "AND kind = 'message' AND visible_to_reporter")
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('critical_incident', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column('imminent_risk', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column('critical_incident_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('authority_notified_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('authority_reference', sa.String(length=120), nullable=True))
    with op.batch_alter_table('cases') as batch:
        batch.alter_column('critical_incident', server_default=None)
        batch.alter_column('imminent_risk', server_default=None)


def downgrade():
    with op.batch_alter_table('cases') as batch:
        for column in reversed(CASE_COLUMNS):
            batch.drop_column(column)
    with op.batch_alter_table('case_records') as batch:
        batch.drop_column('purpose')
    op.drop_table('deadline_policy_versions')
