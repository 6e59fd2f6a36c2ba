"""Periodic work that keeps stored state no larger than it needs to be."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete

from app.extensions import DbSession
from app.models import StaffSession
from app.services.staff_sessions import MAX_SESSION_AGE


def purge_idle_staff_sessions(session: DbSession, now: datetime, idle: timedelta) -> int:
    """Delete staff sessions idle for longer than ``idle`` or older than the maximum age;
    return how many went."""
    result = session.execute(delete(StaffSession).where(
        (StaffSession.last_seen_at < now - idle)
        | (StaffSession.created_at < now - MAX_SESSION_AGE)
    ))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
