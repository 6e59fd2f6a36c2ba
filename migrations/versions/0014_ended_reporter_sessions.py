"""ended reporter sessions, so that "Leave now" ends every copy of a reporter's cookie; sign-in
counts without a lock

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 06:20:00

A reporter's cookie is sealed and carries its own state, so a copy taken before "Leave now"
went on opening the case. The server now keeps a digest of each session ended that way, dated
by the day only, until no cookie of it can still be in use.

Failed sign-ins no longer lock a name (a lock is something an attacker can hand its owner);
further attempts need a puzzle instead, so login_throttles.locked_until goes.

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'ended_reporter_sessions',
        sa.Column('digest', sa.LargeBinary(length=32), nullable=False),
        sa.Column('forget_after', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('digest', name=op.f('pk_ended_reporter_sessions')),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table('login_throttles') as batch:
        batch.drop_column('locked_until')


def downgrade():
    with op.batch_alter_table('login_throttles') as batch:
        batch.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))
    op.drop_table('ended_reporter_sessions')
