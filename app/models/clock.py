"""The two ways the database is told the time: a naive UTC moment, and the UTC day."""

from __future__ import annotations

from datetime import UTC, date, datetime


def utcnow() -> datetime:
    """Naive UTC: both SQLite and PostgreSQL columns store it the same way."""
    return datetime.now(UTC).replace(tzinfo=None)


def today() -> date:
    """The UTC date: what is stored of any moment a reporter acted (never the time of day)."""
    return datetime.now(UTC).date()
