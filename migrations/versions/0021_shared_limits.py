"""spent proof-of-work challenges and global rate limit counts in the database

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-02 14:20:00

Several nodes serve one deployment: a proof-of-work solution spent on one is spent on all, and
the global limits on anonymous submissions and codename look-ups count every node's events.
Both were kept in each process's memory before.

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'spent_challenges',
        sa.Column('digest', sa.LargeBinary(length=16), nullable=False),
        sa.Column('forget_after', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('digest', name=op.f('pk_spent_challenges')),
        sqlite_with_rowid=False,
    )
    op.create_table(
        'rate_limit_counts',
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('slot', sa.BigInteger(), nullable=False),
        sa.Column('counts', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('kind', name=op.f('pk_rate_limit_counts')),
    )


def downgrade():
    op.drop_table('rate_limit_counts')
    op.drop_table('spent_challenges')
