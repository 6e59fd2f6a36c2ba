"""Staff invitations: an administrator names the person and their roles; the person opens a
one-time link and their own browser makes their key pair and password secrets; the operator
signs the new key into the directory."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from app.config import Config
from app.extensions import DbSession
from app.models import StaffInvitation, StaffRole, StaffUser, utcnow
from app.roles import Role
from app.services import staff_accounts
from app.services.staff_accounts import AccountError, PasswordMaterial
from crypto import kdf
from crypto.errors import CryptoError
from crypto.keys import BoxKeyPair
from crypto.primitives import check_public_key

INVITATION_LIFETIME = timedelta(days=3)
# Not an Argon2id string, so no login secret ever matches it: the account cannot sign in
# until the invitation is used.
UNUSABLE_LOGIN_HASH = "!"


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii", "replace")).digest()


def invite_staff(
    session: DbSession, *, username: str, roles: list[Role], invited_by: StaffUser,
    config: Config,
) -> str:
    """Reserve the account and return the one-time token for its activation link."""
    if staff_accounts.find_staff(session, username) is not None:
        raise AccountError(f"a staff member named {username!r} already exists")
    if not roles:
        raise AccountError("give at least one role")
    # Until activation the account has no key pair (a zero public key, never signed into the
    # directory) and a random salt with the current parameters, so that the sign-in page's
    # answers look like those of any other account.
    staff = StaffUser(
        username=username, login_hash=UNUSABLE_LOGIN_HASH, kdf_salt=kdf.generate_salt(),
        kdf_version=staff_accounts.staff_kdf_params(config).version,
        public_key=b"\0" * BoxKeyPair.PUBLIC_SIZE, wrapped_private_key=b"",
    )
    staff.role_rows = [StaffRole(role=role.value) for role in sorted(set(roles))]
    session.add(staff)
    session.flush()
    token = secrets.token_urlsafe(32)
    session.add(StaffInvitation(
        token_hash=_hash(token), staff_id=staff.id, created_by_id=invited_by.id,
        expires_at=utcnow() + INVITATION_LIFETIME,
    ))
    return token


def open_invitation(session: DbSession, token: str) -> StaffInvitation | None:
    """The invitation for this token if it is unused, unexpired and its account enabled."""
    invitation = session.scalars(
        select(StaffInvitation).where(StaffInvitation.token_hash == _hash(token))
    ).first()
    if (invitation is None or invitation.used_at is not None
            or invitation.expires_at < utcnow() or invitation.staff.disabled_at is not None):
        return None
    return invitation


def activate(
    invitation: StaffInvitation,
    *,
    password: PasswordMaterial,
    public_key: bytes,
    config: Config,
) -> StaffUser:
    """Store what the invitee's browser made and use up the link.

    The key is not signed here: the web server never holds the organisation key, and an
    administrator who could read the link must not be able to put a key of their own in the
    directory. The operator signs it with ``candor keys sign-directory`` after checking its
    fingerprint with the person.
    """
    try:
        check_public_key(public_key)
    except CryptoError:
        raise AccountError("The public key is malformed.") from None
    staff = invitation.staff
    staff_accounts.set_password(staff, password, config)
    staff.public_key = public_key
    staff.activated_at = invitation.used_at = utcnow()
    return staff
