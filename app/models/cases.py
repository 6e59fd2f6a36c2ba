"""Cases: their metadata, the grants of their key, their encrypted records, their timeline,
who is left out of them, and the receipt waiting for a reporter without JavaScript."""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    and_,
    or_,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Base
from app.models.clock import today


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

    @hybrid_property
    def usable(self) -> bool:
        """Whether its staff member may open it: the one rule for "a grant this person may use",
        in Python and (on the class) in SQL."""
        return grant_usable(self.kind, self.released_on is not None)

    @usable.inplace.expression
    @classmethod
    def _usable_expression(cls) -> ColumnElement[bool]:
        return or_(cls.kind == "recipient",
                   and_(cls.kind == "escrow", cls.released_on.is_not(None)))


def grant_usable(kind: str, released: bool) -> bool:
    """A recipient grant always; an escrow copy once the server has released it (escalation)."""
    return kind == "recipient" or (kind == "escrow" and released)


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
