"""governance and retention

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 19:50:00

Signed checkpoints of the audit trail, the record of content destroyed at the end of its
retention period, and the legal-hold flag on cases.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legal_hold', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))

    op.create_table('audit_checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('entry_count', sa.Integer(), nullable=False),
    sa.Column('entry_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('previous_digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('verify_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('signature', sa.LargeBinary(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoints')),
    sa.UniqueConstraint('previous_digest', name=op.f('uq_audit_checkpoints_previous_digest'))
    )
    op.create_table('content_destructions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('destroyed_on', sa.Date(), nullable=False),
    sa.Column('rule', sa.String(length=32), nullable=False),
    sa.Column('grants_deleted', sa.Integer(), nullable=False),
    sa.Column('records_deleted', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_content_destructions_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_destructions')),
    sa.UniqueConstraint('case_id', name=op.f('uq_content_destructions_case_id'))
    )


def downgrade():
    op.drop_table('content_destructions')
    op.drop_table('audit_checkpoints')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('legal_hold')
