"""Staff accounts, their roles, invitations, sessions and the organisation key."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Base
from app.models.clock import utcnow
from app.roles import Permission, Role, permissions_for


class OrganisationKey(Base):
    """The public half of an organisation signing key; the private half lives off the database."""

    __tablename__ = "organisation_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    verify_key: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # Argon2id string of the login secret the browser derives; never the password itself.
    login_hash: Mapped[str] = mapped_column(String(255))
    kdf_salt: Mapped[bytes] = mapped_column(LargeBinary(16))
    kdf_version: Mapped[int]
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    wrapped_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    recovery_salt: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    recovery_wrapped_private_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    directory_entry: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enrolled_at: Mapped[datetime | None]
    last_totp_step: Mapped[int | None]  # refuses a code replayed within its window
    disabled_at: Mapped[datetime | None]
    # None until the person has chosen a password through their invitation link.
    activated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    email: Mapped[str | None] = mapped_column(String(254))  # deadline notifications only

    role_rows: Mapped[list[StaffRole]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(row.role) for row in self.role_rows)

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_for(self.roles)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


class StaffRole(Base):
    __tablename__ = "staff_roles"
    __table_args__ = (UniqueConstraint("staff_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))

    staff: Mapped[StaffUser] = relationship(back_populates="role_rows")


class StaffInvitation(Base):
    """A one-time link with which a new staff member sets their own password and key pair, so
    no administrator ever holds either."""

    __tablename__ = "staff_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    staff: Mapped[StaffUser] = relationship(foreign_keys=[staff_id])


class LoginThrottle(Base):
    """Failed attempts per account name and purpose, kept for names that do not exist too, so
    the puzzles asked of further attempts say nothing about which accounts exist (nothing is
    ever locked: app/services/throttle.py). The key is a keyed hash of the name."""

    __tablename__ = "login_throttles"

    key: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffSession(Base):
    """A server-side staff session: the cookie carries only a random token whose hash is here,
    so logout, idle timeout and disabling an account take effect at once."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    # "enrolment" until TOTP is set up at first login, then "full".
    stage: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The last fresh user verification in this session (sign-in, a passkey with user
    # verification, or TOTP where no passkey is registered): step-up actions need a recent one.
    verified_at: Mapped[datetime | None]

    staff: Mapped[StaffUser] = relationship()


class SessionPrincipal(UserMixin):  # type: ignore[misc]  # flask_login is untyped
    """What Flask-Login holds for a request: the staff member and their server-side session."""

    def __init__(self, staff: StaffUser, session: StaffSession, token: str) -> None:
        self.staff = staff
        self.session = session
        self._token = token

    def get_id(self) -> str:
        return self._token
