"""Governance tables: signed checkpoints of the audit trail, what retention destroyed, and the
statistics kept ready for the governance pages."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base

__all__ = ["AuditCheckpoint", "ContentDestruction", "StatisticsSnapshot"]


class AuditCheckpoint(Base):
    """A signature (Ed25519, the audit checkpoint key) over the audit trail's head at one
    moment: the last entry's id and hash and how many entries lead up to it. Each checkpoint
    also covers the one before it, so removing one breaks the next. ``entry_id`` is a plain
    number, not a foreign key: a checkpoint must outlive the entry it names, so that a deleted
    entry is reported rather than prevented from being reported."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int]
    entry_count: Mapped[int]
    entry_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    previous_digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime]
    verify_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))


class ContentDestruction(Base):
    """A case whose content retention destroyed: every sealed copy of its key and every
    ciphertext are gone; the case row stays for the statistics."""

    __tablename__ = "content_destructions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    destroyed_on: Mapped[date]
    # The outcome whose retention period ran out ("closed" when the case had none).
    rule: Mapped[str] = mapped_column(String(32))
    grants_deleted: Mapped[int]
    records_deleted: Mapped[int]


class StatisticsSnapshot(Base):
    """The raw (unsuppressed) counts of one statistics window, counted by the scheduler once a
    day so the governance pages need not scan every case (app/services/statistics_snapshots.py).
    Only aggregates of metadata already in ``cases``; suppression is applied when a pack is
    built. One row per scope and window; ``counted_for`` is the day counted (cases received
    before it; clocks judged on it). Deliberately no time of day."""

    __tablename__ = "statistics_snapshots"
    __table_args__ = (UniqueConstraint("scope", "last_quarter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    last_quarter: Mapped[str] = mapped_column(String(8))
    counted_for: Mapped[date]
    taxonomy_version: Mapped[str] = mapped_column(String(32))
    raw: Mapped[str] = mapped_column(Text)
