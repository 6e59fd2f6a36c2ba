"""pending receipts of reports filed without JavaScript

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-02 06:30:00

A report filed without JavaScript redirects to its receipt, which is shown once
(app/services/receipts.py). Between the two requests the receipt waits here, encrypted under a
key only the reporter's session cookie holds.

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'pending_receipts',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('sealed', sa.LargeBinary(), nullable=False),
        sa.Column('created_on', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                                name=op.f('fk_pending_receipts_case_id_cases'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_receipts')),
    )
    with op.batch_alter_table('pending_receipts') as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_receipts_case_id'), ['case_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('pending_receipts') as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_receipts_case_id'))
    op.drop_table('pending_receipts')
