"""drop the case_id indexes that a unique constraint's index already gives

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 04:20:00

case_grants, case_records, case_exclusions and attachments each have a unique constraint that
begins with case_id, and its index serves every look-up by case (and the cascade when a case is
deleted). The separate case_id index on each was a second copy that every insert had to write:
a submission wrote 24 database pages with them and 22 without.

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TABLES = ('case_grants', 'case_records', 'case_exclusions', 'attachments')


def upgrade():
    for table in TABLES:
        op.drop_index(f'ix_{table}_case_id', table_name=table)


def downgrade():
    for table in TABLES:
        op.create_index(f'ix_{table}_case_id', table, ['case_id'], unique=False)
