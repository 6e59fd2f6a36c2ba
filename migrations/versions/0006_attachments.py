"""attachments

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 19:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('attachment_ref', sa.String(length=64), nullable=False),
    sa.Column('blob_id', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('author', sa.String(length=16), nullable=False),
    sa.Column('author_staff_id', sa.Integer(), nullable=True),
    sa.Column('visible_to_reporter', sa.Boolean(), nullable=False),
    sa.Column('key_epoch', sa.Integer(), nullable=False),
    sa.Column('key_record_id', sa.Integer(), nullable=True),
    sa.Column('name_record_id', sa.Integer(), nullable=True),
    sa.Column('max_frames', sa.Integer(), nullable=False),
    sa.Column('chunk_count', sa.Integer(), nullable=False),
    sa.Column('frame_count', sa.Integer(), nullable=False),
    sa.Column('ciphertext_size', sa.BigInteger(), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['author_staff_id'], ['staff_users.id'], name=op.f('fk_attachments_author_staff_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_attachments_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['key_record_id'], ['case_records.id'], name=op.f('fk_attachments_key_record_id_case_records'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['name_record_id'], ['case_records.id'], name=op.f('fk_attachments_name_record_id_case_records'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('blob_id', name=op.f('uq_attachments_blob_id')),
    sa.UniqueConstraint('case_id', 'attachment_ref', name=op.f('uq_attachments_case_id'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_case_id'), ['case_id'], unique=False)


def downgrade():
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_case_id'))

    op.drop_table('attachments')
