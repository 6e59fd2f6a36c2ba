"""Ending reporter sessions for good: what "Leave now" does on the server.

A reporter's session lives in its sealed cookie (``app/reporter_session.py``), so the server
cannot take back a copy of it. What it can do is remember, by a digest of the session's random
identifier, that the session ended, and refuse every cookie that carries that identifier. The
record holds no case, no person and no time of day; it is forgotten once no cookie of the
session can still be in use: a refused cookie is never refreshed, so after the idle timeout
from the moment of leaving, every copy has expired by itself.
"""

from __future__ import annotations

import hashlib
import math
from datetime import date, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from app.extensions import DbSession, savepoint
from app.models import EndedReporterSession


def _digest(session_id: str) -> bytes:
    return hashlib.sha256(b"candor/v1/ended-reporter-session\0" + session_id.encode()).digest()


def is_ended(session: DbSession, session_id: str) -> bool:
    return session.get(EndedReporterSession, _digest(session_id)) is not None


def end(session: DbSession, session_id: str, on: date, idle_minutes: int) -> None:
    """Record that the session ended (not committed), and forget sessions ended long enough
    ago that none of their cookies can still be in use."""
    # The day after the last day a copy could still be within its idle time.
    forget_after = on + timedelta(days=math.ceil(idle_minutes / (24 * 60)) + 1)
    session.execute(delete(EndedReporterSession)
                    .where(EndedReporterSession.forget_after < on))
    try:
        with savepoint(session):  # "Leave now" pressed twice at once ends it once
            session.add(EndedReporterSession(digest=_digest(session_id),
                                             forget_after=forget_after))
    except IntegrityError:
        pass

