"""attachment ciphertext in the database

``CANDOR_BLOB_STORE=database`` keeps each attachment's encrypted stream as rows of
``blob_chunks`` (about 1 MiB each) instead of files, so that every app node and the standby
share it, retention deletes it in the same transaction as the case's records, and a backup of
the database holds it.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 14:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'blob_chunks',
        sa.Column('blob_id', sa.String(length=32), nullable=False),
        sa.Column('start', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('blob_id', 'start', name=op.f('pk_blob_chunks')),
    )
    if op.get_bind().dialect.name == 'postgresql':
        # Ciphertext does not compress: store it out of line without trying (TOAST would
        # otherwise run pglz over every megabyte for nothing).
        op.execute('ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL')


def downgrade():
    op.drop_table('blob_chunks')
