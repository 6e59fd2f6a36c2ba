"""Server-side staff sessions: the cookie holds a random token, the database only its hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app

from app import get_config
from app.extensions import db
from app.models import SessionPrincipal, StaffSession, StaffUser, utcnow

STAGE_ENROLMENT = "enrolment"  # signed in, TOTP not yet set up: only enrolment pages open
STAGE_FULL = "full"
_LAST_SEEN_GRANULARITY = timedelta(seconds=60)
# However active, a session ends this long after sign-in.
MAX_SESSION_AGE = timedelta(hours=12)


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii", "replace")).digest()


def open_session(staff: StaffUser, stage: str) -> SessionPrincipal:
    token = secrets.token_urlsafe(32)
    row = StaffSession(token_hash=_hash(token), staff_id=staff.id, stage=stage)
    db.session.add(row)
    return SessionPrincipal(staff, row, token)


def load_principal(token: str) -> SessionPrincipal | None:
    """Flask-Login's loader: the session must exist, be fresh and belong to an enabled account."""
    row = db.session.get(StaffSession, _hash(token))
    if row is None:
        return None
    now = utcnow()
    idle = timedelta(minutes=get_config(current_app).staff_idle_minutes)
    if (row.staff.disabled_at is not None or now - row.last_seen_at > idle
            or now - row.created_at > MAX_SESSION_AGE):
        db.session.delete(row)
        db.session.commit()
        return None
    if now - row.last_seen_at > _LAST_SEEN_GRANULARITY:
        row.last_seen_at = now
        db.session.commit()
    return SessionPrincipal(row.staff, row, token)


def close_session(principal: SessionPrincipal) -> None:
    db.session.delete(principal.session)


def close_all_sessions(staff: StaffUser, keep: StaffSession | None = None) -> None:
    """End every session of ``staff`` except ``keep``."""
    statement = db.delete(StaffSession).where(StaffSession.staff_id == staff.id)
    if keep is not None:
        statement = statement.where(StaffSession.token_hash != keep.token_hash)
    db.session.execute(statement)
