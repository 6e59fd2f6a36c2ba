"""Database models. Content is never stored here in plain form: only ciphertext, public keys,
wrapped private keys and the metadata workflow needs."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Base
from app.roles import Permission, Role, permissions_for


def utcnow() -> datetime:
    """Naive UTC: both SQLite and PostgreSQL columns store it the same way."""
    return datetime.now(UTC).replace(tzinfo=None)


def today() -> date:
    """The UTC date: what is stored of any moment a reporter acted (never the time of day)."""
    return datetime.now(UTC).date()


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

    staff: Mapped[StaffUser] = relationship()


class SessionPrincipal(UserMixin):  # type: ignore[misc]  # flask_login is untyped
    """What Flask-Login holds for a request: the staff member and their server-side session."""

    def __init__(self, staff: StaffUser, session: StaffSession, token: str) -> None:
        self.staff = staff
        self.session = session
        self._token = token

    def get_id(self) -> str:
        return self._token


class Case(Base):
    """One report (or a case opened by staff). Content lives only in ``CaseRecord`` ciphertext;
    these columns are the metadata workflow and statistics need. Nothing here records when in the
    day a reporter acted, from where, or with what."""

    __tablename__ = "cases"
    # The inbox walks these in its sort orders and stops after one page (app/services/cases.py).
    __table_args__ = (
        Index("ix_cases_open_due", "next_due_on", "id", sqlite_where=text("status != 'closed'"),
              postgresql_where=text("status != 'closed'")),
        Index("ix_cases_status_due", "status", "next_due_on"),
        Index("ix_cases_status_received", "status", "received_on"),
        Index("ix_cases_category_due", "category", "next_due_on"),
        Index("ix_cases_assignee_received", "assignee_id", "received_on"),
        # Statistics count one quarter at a time (app/services/releases.py): a range of days.
        Index("ix_cases_received_on", "received_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The identifier bound into every ciphertext's associated data; chosen by the reporter's
    # client before encrypting (random, so it says nothing).
    case_ref: Mapped[str] = mapped_column(String(64), unique=True)
    # Short number staff and notifications use ("C-7KQ2M").
    number: Mapped[str] = mapped_column(String(16), unique=True)
    # HMAC of the codename lookup identifier under a server key: the codename finds the case.
    lookup_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    reporter_salt: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    reporter_kdf_version: Mapped[int | None]
    reporter_public_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    route: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(48))
    taxonomy_version: Mapped[str] = mapped_column(String(32))
    concerns_rso: Mapped[bool] = mapped_column(default=False)
    material_risk: Mapped[bool] = mapped_column(default=False)
    sb53_disclosure: Mapped[bool] = mapped_column(default=False)
    identity_given: Mapped[bool] = mapped_column(default=False)
    # A critical safety incident the lab may have to report to the authority (B&P §22757.13(c)):
    # flagged by the reporter or a handler on ``critical_incident_on``, the day the lab learned
    # of it; ``imminent_risk`` (of death or serious injury) shortens the clock to 24 hours. The
    # notice made to the authority, with its reference, meets both clocks.
    critical_incident: Mapped[bool] = mapped_column(default=False)
    imminent_risk: Mapped[bool] = mapped_column(default=False)
    critical_incident_on: Mapped[date | None]
    authority_notified_on: Mapped[date | None]
    authority_reference: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(24), default="received")
    received_on: Mapped[date]
    acknowledged_on: Mapped[date | None]
    # "reporter", or "staff" for a case opened with no reporter ("otherwise identified").
    origin: Mapped[str] = mapped_column(String(16), default="reporter")
    opened_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    # Set at triage and findings (app/services/cases.py); plain metadata for workflow and stats.
    severity: Mapped[str | None] = mapped_column(String(16))
    retaliation_risk: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(32))
    material_risk_found: Mapped[bool | None]
    triaged_on: Mapped[date | None]
    findings_on: Mapped[date | None]
    closed_on: Mapped[date | None]
    approver_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    reopened_count: Mapped[int] = mapped_column(default=0)
    # Content written after an access revocation is under a new case key (epoch + 1).
    key_epoch: Mapped[int] = mapped_column(default=1)
    # The earliest open deadline and its clock, kept current by the services that move a case.
    next_due_on: Mapped[date | None] = mapped_column(index=True)
    next_due_clock: Mapped[str | None] = mapped_column(String(24))
    # The deadline policy the case was opened under, and the first day its escalation ladder
    # needs a look (app/services/deadlines.py): the tick reads only cases due a look.
    deadline_policy_version: Mapped[str | None] = mapped_column(String(32))
    next_escalation_on: Mapped[date | None] = mapped_column(index=True)
    linked_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    link_kind: Mapped[str | None] = mapped_column(String(16))  # retaliation | duplicate | related
    legal_hold: Mapped[bool] = mapped_column(default=False)  # retention never destroys it

    grants: Mapped[list[CaseGrant]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseGrant.id"
    )
    records: Mapped[list[CaseRecord]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseRecord.id"
    )
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseEvent.id"
    )
    exclusions: Mapped[list[CaseExclusion]] = relationship(
        back_populates="case", cascade="all, delete-orphan"
    )


class CaseGrant(Base):
    """The case key sealed to one public key: a current recipient, the reporter, or an escrow
    copy for the escalation tier that the server releases only when the case escalates."""

    __tablename__ = "case_grants"
    __table_args__ = (UniqueConstraint("case_id", "kind", "staff_id", "key_epoch"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Looked up by the unique constraint's index, which begins with case_id.
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # recipient | reporter | escrow
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    grant: Mapped[bytes] = mapped_column(LargeBinary)
    key_epoch: Mapped[int] = mapped_column(default=1)
    granted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    released_on: Mapped[date | None]

    case: Mapped[Case] = relationship(back_populates="grants")


class CaseRecord(Base):
    """One encrypted piece of a case: the report, a message, a note, the identity..."""

    __tablename__ = "case_records"
    __table_args__ = (UniqueConstraint("case_id", "record_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Looked up by the unique constraint's index, which begins with case_id.
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    record_ref: Mapped[str] = mapped_column(String(64))  # bound into the associated data
    kind: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(16))  # "reporter" or "staff"
    author_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    visible_to_reporter: Mapped[bool]
    # What a message to the reporter is for (app/services/cases.py MESSAGE_PURPOSES): a status
    # update, feedback, or the outcome at closure meet the clocks that a plain message does not.
    purpose: Mapped[str | None] = mapped_column(String(16))
    created_on: Mapped[date]
    key_epoch: Mapped[int] = mapped_column(default=1)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)

    case: Mapped[Case] = relationship(back_populates="records")


class CaseEvent(Base):
    """The case's timeline. Dates only: a reporter's actions are never timed to the minute."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    occurred_on: Mapped[date]
    visible_to_reporter: Mapped[bool]
    detail: Mapped[str | None] = mapped_column(String(200))  # never content: a status name
    # The staff member who acted; None for the reporter and the system.
    actor_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))

    case: Mapped[Case] = relationship(back_populates="events")


class CaseExclusion(Base):
    """A staff member the reporter named as concerned: they receive no key and, later, cannot
    learn the case exists."""

    __tablename__ = "case_exclusions"
    __table_args__ = (UniqueConstraint("case_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Looked up by the unique constraint's index, which begins with case_id.
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(16), default="concerned")  # or "recused"

    case: Mapped[Case] = relationship(back_populates="exclusions")


class PendingReceipt(Base):
    """The receipt of a report filed without JavaScript, between the POST that filed it and the
    GET that shows it once (app/services/receipts.py). ``sealed`` is the codename and the file
    names encrypted under a key that only the reporter's sealed session cookie holds, so neither
    this row nor the cookie alone reveals anything; the GET deletes the row."""

    __tablename__ = "pending_receipts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, never a row order
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_on: Mapped[date] = mapped_column(default=today)  # a day, as every reporter date


class AuditEntry(Base):
    """One link of the audit trail's hash chain (app/services/audit.py). Entries are only ever
    appended; each one's hash covers the previous one's, so an edit, a deletion, an insertion
    or a swap breaks the chain. Never content: an action name, a case number, staff ids."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Reporter actions are stored at midnight UTC of their day: never a time of day.
    occurred_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(32))  # "staff:<id>", "reporter" or "system"
    action: Mapped[str] = mapped_column(String(48))
    case_number: Mapped[str | None] = mapped_column(String(16), index=True)
    detail: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    # Unique, so two writers that read the same head cannot both append after it.
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    entry_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)


# Tables of the other capabilities, in modules of their own; imported here so that
# ``from app.models import ...`` and the migrations see one metadata.
from app.models.attachments import *  # noqa: E402, F403
from app.models.deadlines import *  # noqa: E402, F403
from app.models.disclosures import *  # noqa: E402, F403
from app.models.governance import *  # noqa: E402, F403
from app.models.limits import *  # noqa: E402, F403
from app.models.reporter_data import *  # noqa: E402, F403
from app.models.reporter_sessions import *  # noqa: E402, F403
