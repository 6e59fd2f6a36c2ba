"""officers and directors, and SB 53 quarterly shares

The register of officers and directors is a staff role ("officer"), stored like every role; no
column changes for it. Each quarterly share is a summary sealed under a random share key, and
one grant of that key per officer or director it was sealed to.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 14:40:00

Labor Code §1107.1(e)(2): the disclosures and the responses are shared with officers and
directors at least quarterly, leaving out any officer or director the disclosure accuses.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'officer_shares',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('share_ref', sa.String(length=64), nullable=False),
        sa.Column('quarter', sa.String(length=8), nullable=False),
        sa.Column('created_on', sa.Date(), nullable=False),
        sa.Column('author_staff_id', sa.Integer(), nullable=True),
        sa.Column('summary', sa.LargeBinary(), nullable=False),
        sa.Column('message_record_ref', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                                name=op.f('fk_officer_shares_case_id_cases'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['author_staff_id'], ['staff_users.id'],
                                name=op.f('fk_officer_shares_author_staff_id_staff_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_officer_shares')),
        sa.UniqueConstraint('share_ref', name=op.f('uq_officer_shares_share_ref')),
    )
    op.create_index(op.f('ix_officer_shares_case_id'), 'officer_shares', ['case_id'],
                    unique=False)
    op.create_table(
        'officer_share_grants',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('share_id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('grant', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['share_id'], ['officer_shares.id'],
                                name=op.f('fk_officer_share_grants_share_id_officer_shares'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'],
                                name=op.f('fk_officer_share_grants_staff_id_staff_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_officer_share_grants')),
        sa.UniqueConstraint('share_id', 'staff_id',
                            name=op.f('uq_officer_share_grants_share_id')),
    )
    op.create_index(op.f('ix_officer_share_grants_staff_id'), 'officer_share_grants',
                    ['staff_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_officer_share_grants_staff_id'), table_name='officer_share_grants')
    op.drop_table('officer_share_grants')
    op.drop_index(op.f('ix_officer_shares_case_id'), table_name='officer_shares')
    op.drop_table('officer_shares')
