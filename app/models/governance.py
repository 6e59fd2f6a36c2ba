"""Governance tables: signed checkpoints of the audit trail, what retention destroyed, and the
ledger of statistics released to each audience."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base

__all__ = ["AuditCheckpoint", "ContentDestruction", "ReleasedFigure", "StatisticsRelease"]


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


class StatisticsRelease(Base):
    """The ledger: one release of statistics to one audience (app/services/releases.py).

    What was shown, to whom and on which day; never who looked, never a time of day. A
    release is made once and never changed: its figures are what the audience holds for ever,
    and every later release is checked against them."""

    __tablename__ = "statistics_releases"
    __table_args__ = (UniqueConstraint("audience", "kind", "period", "covers_until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audience: Mapped[str] = mapped_column(String(16))  # board, officers, public
    kind: Mapped[str] = mapped_column(String(16))  # quarter, to_date
    period: Mapped[str] = mapped_column(String(8))  # the quarter, 2026-Q3
    covers_until: Mapped[date]  # cases received before this day
    released_on: Mapped[date]
    taxonomy_version: Mapped[str] = mapped_column(String(32))
    figures: Mapped[int]
    withheld: Mapped[int]


class ReleasedFigure(Base):
    """One figure of a release as the audience saw it: ``value`` is None when withheld
    (``state`` says which symbol was printed). ``terms`` names the finest counts it sums,
    space-separated, so later releases can be checked against it; empty for a median or a
    percentile, which are printed but are not counts."""

    __tablename__ = "released_figures"
    __table_args__ = (UniqueConstraint("release_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(
        ForeignKey("statistics_releases.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(120))
    terms: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    value: Mapped[int | None]
    k: Mapped[int]
