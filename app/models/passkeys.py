"""Staff passkeys (WebAuthn credentials), their single-use challenges, and which roles must
use them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Base
from app.models.clock import utcnow
from app.models.staff import StaffUser

__all__ = ["PasskeyRoleRequirement", "StaffPasskey", "WebAuthnChallenge"]


class StaffPasskey(Base):
    """One WebAuthn credential of a staff member. ``prf_wrapped_private_key`` is the copy of
    their private key wrapped under a key from this passkey's PRF output (crypto/SPEC.md 8.12),
    when the authenticator gave one; deleting the row deletes it."""

    __tablename__ = "staff_passkeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1023), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # COSE_Key, as the authenticator sent
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    name: Mapped[str] = mapped_column(String(64))
    prf_wrapped_private_key: Mapped[bytes | None] = mapped_column(LargeBinary(73))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]

    staff: Mapped[StaffUser] = relationship()


class WebAuthnChallenge(Base):
    """A challenge handed to a browser, kept here rather than in a worker's memory so that any
    app node can check the answer, and deleted by the one request that uses it (a second
    request with the same answer, on any node, finds nothing). Only its SHA-256 is kept."""

    __tablename__ = "webauthn_challenges"

    challenge_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))  # register, sign_in, step_up, unlock
    # The staff session it was given to (its token's hash), for every purpose but sign_in.
    session_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class PasskeyRoleRequirement(Base):
    """A role whose holders must sign in and step up with a passkey (TOTP alone is refused)."""

    __tablename__ = "passkey_role_requirements"

    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    required_at: Mapped[datetime] = mapped_column(default=utcnow)
    required_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), index=True
    )
