"""index the attachment columns that point to case records

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 04:50:00

Retention deletes a case's records; for each one, the database looks for attachments whose
key_record_id or name_record_id points to it (to set them to null). Without an index on each,
every deleted record meant a scan of the whole attachments table.

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

COLUMNS = ('key_record_id', 'name_record_id')


def upgrade():
    for column in COLUMNS:
        op.create_index(f'ix_attachments_{column}', 'attachments', [column], unique=False)


def downgrade():
    for column in COLUMNS:
        op.drop_index(f'ix_attachments_{column}', table_name='attachments')
