"""deadlines and notifications

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 19:50:00

Escalation steps (each taken once), clock pauses, the notification outbox, digest choices and
the scheduler lease; staff email addresses; each case's deadline policy version and the day
its ladder next needs a look.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deadline_policy_version', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('next_escalation_on', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_next_escalation_on'), ['next_escalation_on'], unique=False)

    op.create_table('escalation_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('clock', sa.String(length=24), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=16), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('taken_on', sa.Date(), nullable=False),
    sa.Column('notified', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_escalation_steps_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_steps')),
    sa.UniqueConstraint('case_id', 'clock', 'cycle', 'step', name=op.f('uq_escalation_steps_case_id'))
    )
    op.create_table('org_deadline_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clock', sa.String(length=24), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=16), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('taken_on', sa.Date(), nullable=False),
    sa.Column('actor_staff_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['actor_staff_id'], ['staff_users.id'], name=op.f('fk_org_deadline_steps_actor_staff_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_deadline_steps')),
    sa.UniqueConstraint('clock', 'cycle', 'step', name=op.f('uq_org_deadline_steps_clock'))
    )
    op.create_table('clock_pauses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('clock', sa.String(length=24), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('after_record_id', sa.Integer(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_clock_pauses_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['started_by_id'], ['staff_users.id'], name=op.f('fk_clock_pauses_started_by_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clock_pauses'))
    )
    with op.batch_alter_table('clock_pauses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clock_pauses_case_id'), ['case_id'], unique=False)

    op.create_table('notification_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=80), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.Column('claim_token', sa.String(length=32), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('digest_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['digest_id'], ['notification_outbox.id'], name=op.f('fk_notification_outbox_digest_id_notification_outbox'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_notification_outbox_staff_id_staff_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_outbox')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notification_outbox_dedupe_key'))
    )
    with op.batch_alter_table('notification_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_notification_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_outbox_staff_id'), ['staff_id'], unique=False)

    op.create_table('notification_preferences',
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('daily_digest', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_notification_preferences_staff_id_staff_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('staff_id', name=op.f('pk_notification_preferences'))
    )
    op.create_table('scheduler_leases',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('holder', sa.String(length=96), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('renewed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_leases'))
    )


def downgrade():
    op.drop_table('scheduler_leases')
    op.drop_table('notification_preferences')
    with op.batch_alter_table('notification_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_outbox_staff_id'))
        batch_op.drop_index('ix_notification_outbox_due')
    op.drop_table('notification_outbox')
    with op.batch_alter_table('clock_pauses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clock_pauses_case_id'))
    op.drop_table('clock_pauses')
    op.drop_table('org_deadline_steps')
    op.drop_table('escalation_steps')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_next_escalation_on'))
        batch_op.drop_column('next_escalation_on')
        batch_op.drop_column('deadline_policy_version')
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('email')
