"""case disclosures, record destructions and data requests

The register of identity reveals, exports and handovers; records a handler destroyed as
manifestly irrelevant; the reporter's requests to access or correct their data; reports taken
down by a handler by phone or in person, and when the reporter agreed the minutes.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 06:50:00

Directive 2019/1937 Art. 16(2)-(3): revealing the reporter's identity records a reason, and
passing it beyond the case's readers records whether the reporter was told beforehand (and if
not, why). Each row points to the encrypted records holding the words; it holds none.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'case_disclosures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('occurred_on', sa.Date(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=False),
        sa.Column('recipient', sa.String(length=32), nullable=True),
        sa.Column('includes_identity', sa.Boolean(), nullable=False),
        sa.Column('notice_record_ref', sa.String(length=64), nullable=True),
        sa.Column('withheld_note_ref', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                                name=op.f('fk_case_disclosures_case_id_cases'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'],
                                name=op.f('fk_case_disclosures_staff_id_staff_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_disclosures')),
    )
    op.create_index(op.f('ix_case_disclosures_case_id'), 'case_disclosures', ['case_id'],
                    unique=False)


    op.create_table(
        'record_destructions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('destroyed_on', sa.Date(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('author', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                                name=op.f('fk_record_destructions_case_id_cases'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'],
                                name=op.f('fk_record_destructions_staff_id_staff_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_record_destructions')),
    )
    op.create_index(op.f('ix_record_destructions_case_id'), 'record_destructions', ['case_id'],
                    unique=False)
    op.create_table(
        'data_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('received_on', sa.Date(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('answered_on', sa.Date(), nullable=True),
        sa.Column('answered_by_id', sa.Integer(), nullable=True),
        sa.Column('request_record_ref', sa.String(length=64), nullable=True),
        sa.Column('answer_record_ref', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                                name=op.f('fk_data_requests_case_id_cases'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['staff_users.id'],
                                name=op.f('fk_data_requests_recorded_by_id_staff_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['answered_by_id'], ['staff_users.id'],
                                name=op.f('fk_data_requests_answered_by_id_staff_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_requests')),
    )
    op.create_index(op.f('ix_data_requests_case_id'), 'data_requests', ['case_id'],
                    unique=False)
    op.create_table(
        'case_intakes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('taken_on', sa.Date(), nullable=False),
        sa.Column('taken_by_id', sa.Integer(), nullable=True),
        sa.Column('minutes_agreed_on', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                                name=op.f('fk_case_intakes_case_id_cases'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['taken_by_id'], ['staff_users.id'],
                                name=op.f('fk_case_intakes_taken_by_id_staff_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_intakes')),
        sa.UniqueConstraint('case_id', name=op.f('uq_case_intakes_case_id')),
    )


def downgrade():
    op.drop_table('case_intakes')
    op.drop_index(op.f('ix_data_requests_case_id'), table_name='data_requests')
    op.drop_table('data_requests')
    op.drop_index(op.f('ix_record_destructions_case_id'), table_name='record_destructions')
    op.drop_table('record_destructions')
    op.drop_index(op.f('ix_case_disclosures_case_id'), table_name='case_disclosures')
    op.drop_table('case_disclosures')
