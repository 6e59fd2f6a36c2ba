"""staff passkeys, their challenges, passkey-only roles, step-up time

WebAuthn credentials of staff (with the copy of the private key wrapped under a passkey's PRF
output, crypto/SPEC.md 8.12), single-use challenges shared by every app node, the roles that
must use a passkey, and each staff session's last fresh user verification.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 18:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'staff_passkeys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('credential_id', sa.LargeBinary(length=1023), nullable=False),
        sa.Column('public_key', sa.LargeBinary(), nullable=False),
        sa.Column('sign_count', sa.BigInteger(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('prf_wrapped_private_key', sa.LargeBinary(length=73), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'],
                                name=op.f('fk_staff_passkeys_staff_id_staff_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_passkeys')),
        sa.UniqueConstraint('credential_id', name=op.f('uq_staff_passkeys_credential_id')),
    )
    op.create_index(op.f('ix_staff_passkeys_staff_id'), 'staff_passkeys', ['staff_id'])
    op.create_table(
        'webauthn_challenges',
        sa.Column('challenge_hash', sa.LargeBinary(length=32), nullable=False),
        sa.Column('purpose', sa.String(length=16), nullable=False),
        sa.Column('session_hash', sa.LargeBinary(length=32), nullable=True),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('challenge_hash', name=op.f('pk_webauthn_challenges')),
    )
    op.create_index(op.f('ix_webauthn_challenges_expires_at'), 'webauthn_challenges',
                    ['expires_at'])
    op.create_table(
        'passkey_role_requirements',
        sa.Column('role', sa.String(length=32), nullable=False),
        sa.Column('required_at', sa.DateTime(), nullable=False),
        sa.Column('required_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['required_by_id'], ['staff_users.id'],
                                name=op.f('fk_passkey_role_requirements_required_by_id_staff_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('role', name=op.f('pk_passkey_role_requirements')),
    )
    op.create_index(op.f('ix_passkey_role_requirements_required_by_id'),
                    'passkey_role_requirements', ['required_by_id'])
    with op.batch_alter_table('staff_sessions') as batch_op:
        batch_op.add_column(sa.Column('verified_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('staff_sessions') as batch_op:
        batch_op.drop_column('verified_at')
    op.drop_index(op.f('ix_passkey_role_requirements_required_by_id'),
                  table_name='passkey_role_requirements')
    op.drop_table('passkey_role_requirements')
    op.drop_index(op.f('ix_webauthn_challenges_expires_at'), table_name='webauthn_challenges')
    op.drop_table('webauthn_challenges')
    op.drop_index(op.f('ix_staff_passkeys_staff_id'), table_name='staff_passkeys')
    op.drop_table('staff_passkeys')
