"""Deadlines, escalation and notifications: the ladder steps taken, clock pauses, the outbox of
notification emails, per-person notification choices and the scheduler's lease."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base
from app.models.clock import utcnow

__all__ = [
    "ClockPause",
    "DeadlinePolicyVersion",
    "EscalationStep",
    "NotificationPreference",
    "OrgDeadlineStep",
    "OutboxMessage",
    "SchedulerLease",
]


class EscalationStep(Base):
    """One rung of a case's escalation ladder, taken once: the unique constraint is what makes
    a second scheduler, a retried tick or a restart after a crash harmless."""

    __tablename__ = "escalation_steps"
    __table_args__ = (UniqueConstraint("case_id", "clock", "cycle", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    clock: Mapped[str] = mapped_column(String(24))
    # Which occurrence of the clock: the feedback clock starts again when a case is reopened,
    # the status-update clock with every update (see app/services/deadlines.py).
    cycle: Mapped[int]
    step: Mapped[str] = mapped_column(String(16))  # before | due | route | board
    due_on: Mapped[date]
    taken_on: Mapped[date]
    # False when a later rung fell due in the same run (a tick missed for days): recorded, but
    # only the latest rung is sent, so nobody gets four emails about one deadline at once.
    notified: Mapped[bool] = mapped_column(default=True)


class OrgDeadlineStep(Base):
    """The same ladder for deadlines that belong to the organisation rather than one case (the
    quarterly pack); step "met" records that the duty was done."""

    __tablename__ = "org_deadline_steps"
    __table_args__ = (UniqueConstraint("clock", "cycle", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clock: Mapped[str] = mapped_column(String(24))
    cycle: Mapped[int]  # year * 10 + quarter for the quarterly pack
    step: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[date]
    taken_on: Mapped[date]
    actor_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))


class ClockPause(Base):
    """A clock stopped by a staff action (today: the feedback clock while the case waits for the
    reporter). It runs again with the reporter's next message, found as the first reporter
    record after ``after_record_id``: record ids order what happened within a day, which the
    dates alone cannot."""

    __tablename__ = "clock_pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    clock: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(String(32))
    started_on: Mapped[date]
    after_record_id: Mapped[int] = mapped_column(default=0)
    ended_on: Mapped[date | None]
    started_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))


class OutboxMessage(Base):
    """One notification email to one staff member. Content-free by construction (a case number,
    a clock, a date and a link path), written in the same transaction as the step it reports,
    and delivered by the tick: claimed with a lease, sent, then marked sent."""

    __tablename__ = "notification_outbox"
    __table_args__ = (
        Index("ix_notification_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"),
                                          index=True)
    # What produced the row, so the same cause never queues a second email.
    dedupe_key: Mapped[str] = mapped_column(String(80), unique=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # pending | sending | sent | failed | held (waiting for the person's daily digest) | digested
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_outbox.id", ondelete="SET NULL"))


class NotificationPreference(Base):
    """A staff member's choice of one daily digest instead of a reminder per deadline
    (escalations are always sent at once)."""

    __tablename__ = "notification_preferences"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True)
    daily_digest: Mapped[bool] = mapped_column(default=False)


class SchedulerLease(Base):
    """Who runs the periodic work: one row per lease, held until ``expires_at`` and renewed on
    every run, so a second scheduler waits and takes over only when the first stops renewing."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(96))
    expires_at: Mapped[datetime]
    renewed_at: Mapped[datetime]


class DeadlinePolicyVersion(Base):
    """A version of the deadline policy, as every process sees it: written once, when a process
    first reads it from its policy file, and never changed (a case keeps the version it was
    opened under). ``settings`` is the whole resolved version as JSON, holidays included;
    the version most recently made current is the one new cases take."""

    __tablename__ = "deadline_policy_versions"

    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    settings: Mapped[str] = mapped_column(Text)
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    current_since: Mapped[datetime | None]
