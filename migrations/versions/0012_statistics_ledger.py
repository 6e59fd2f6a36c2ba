"""statistics ledger

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 06:10:00

Every statistics release, to which audience and on which day, with every figure as it was
shown: later releases are checked against everything an audience already holds. The daily
counts of statistics windows (statistics_snapshots) give way to it: a page now reads the
figures released, never a window counted afresh. Cases get an index on the day received: a
release counts one quarter, a range of days.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('statistics_releases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('audience', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('period', sa.String(length=8), nullable=False),
    sa.Column('covers_until', sa.Date(), nullable=False),
    sa.Column('released_on', sa.Date(), nullable=False),
    sa.Column('taxonomy_version', sa.String(length=32), nullable=False),
    sa.Column('figures', sa.Integer(), nullable=False),
    sa.Column('withheld', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statistics_releases')),
    sa.UniqueConstraint('audience', 'kind', 'period', 'covers_until',
                        name=op.f('uq_statistics_releases_audience'))
    )
    op.create_table('released_figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('release_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Integer(), nullable=True),
    sa.Column('k', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['release_id'], ['statistics_releases.id'],
                            name=op.f('fk_released_figures_release_id_statistics_releases'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_released_figures')),
    sa.UniqueConstraint('release_id', 'key', name=op.f('uq_released_figures_release_id'))
    )
    op.drop_table('statistics_snapshots')
    # A release counts one quarter: a range of receipt days, not the whole table.
    op.create_index('ix_cases_received_on', 'cases', ['received_on'], unique=False)


def downgrade():
    op.drop_index('ix_cases_received_on', table_name='cases')
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
    op.drop_table('released_figures')
    op.drop_table('statistics_releases')
