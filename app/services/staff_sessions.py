"""Server-side staff sessions: the cookie holds a random token, the database only its hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete

from app.extensions import DbSession
from app.models import SessionPrincipal, StaffSession, StaffUser, utcnow

STAGE_ENROLMENT = "enrolment"  # signed in, TOTP not yet set up: only enrolment pages open
STAGE_FULL = "full"
_LAST_SEEN_GRANULARITY = timedelta(seconds=60)
# However active, a session ends this long after sign-in.
MAX_SESSION_AGE = timedelta(hours=12)


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii", "replace")).digest()


def open_session(session: DbSession, staff: StaffUser, stage: str) -> SessionPrincipal:
    token = secrets.token_urlsafe(32)
    row = StaffSession(token_hash=_hash(token), staff_id=staff.id, stage=stage)
    session.add(row)
    return SessionPrincipal(staff, row, token)


def load_principal(session: DbSession, token: str, idle: timedelta) -> SessionPrincipal | None:
    """The session of ``token`` if it exists, was used within ``idle``, is younger than
    ``MAX_SESSION_AGE`` and belongs to an enabled account; a stale one is deleted."""
    row = session.get(StaffSession, _hash(token))
    if row is None:
        return None
    now = utcnow()
    if (row.staff.disabled_at is not None or now - row.last_seen_at > idle
            or now - row.created_at > MAX_SESSION_AGE):
        session.delete(row)
        session.commit()
        return None
    if now - row.last_seen_at > _LAST_SEEN_GRANULARITY:
        row.last_seen_at = now
        session.commit()
    return SessionPrincipal(row.staff, row, token)


def close_session(session: DbSession, principal: SessionPrincipal) -> None:
    session.delete(principal.session)


def close_all_sessions(session: DbSession, staff: StaffUser,
                       keep: StaffSession | None = None) -> None:
    """End every session of ``staff`` except ``keep``."""
    statement = delete(StaffSession).where(StaffSession.staff_id == staff.id)
    if keep is not None:
        statement = statement.where(StaffSession.token_hash != keep.token_hash)
    session.execute(statement)
