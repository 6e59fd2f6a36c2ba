"""statistics snapshots

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 22:50:00

The raw counts of the standard statistics windows, counted daily by the scheduler so the
governance pages answer without scanning every case.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('statistics_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('last_quarter', sa.String(length=8), nullable=False),
    sa.Column('counted_for', sa.Date(), nullable=False),
    sa.Column('taxonomy_version', sa.String(length=32), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statistics_snapshots')),
    sa.UniqueConstraint('scope', 'last_quarter',
                        name=op.f('uq_statistics_snapshots_scope'))
    )


def downgrade():
    op.drop_table('statistics_snapshots')
