"""Per-account attempt limits that reveal nothing: names that do not exist are counted and
locked exactly like real ones, and every count is an atomic update, so parallel requests cannot
slip extra guesses past the limit."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.config import Config
from app.extensions import DbSession, savepoint
from app.models import LoginThrottle, utcnow

# Each purpose has its own count: failed recoveries cannot lock a person out of signing in.
SIGN_IN = "sign-in"
RECOVERY = "recovery"


class Locked(Exception):
    def __init__(self, until: datetime) -> None:
        super().__init__(until)
        self.until = until


def throttle_key(config: Config, purpose: str, username: str) -> bytes:
    message = f"{purpose}\0{username}".encode()
    return hmac.new(config.derived_key("login-throttle"), message, hashlib.sha256).digest()


def check(session: DbSession, key: bytes) -> None:
    """Raise :class:`Locked` while the name is locked for this purpose."""
    locked_until = session.scalar(select(LoginThrottle.locked_until)
                                  .where(LoginThrottle.key == key))
    if locked_until is not None and locked_until > utcnow():
        raise Locked(locked_until)


def record_failure(session: DbSession, key: bytes, config: Config) -> None:
    """Count one failure and commit; at the limit, lock and raise :class:`Locked`."""
    now = utcnow()
    try:
        with savepoint(session):
            session.add(LoginThrottle(key=key, failures=0, updated_at=now))
    except IntegrityError:
        pass  # the row exists already
    session.execute(update(LoginThrottle).where(LoginThrottle.key == key)
                    .values(failures=LoginThrottle.failures + 1, updated_at=now))
    failures = session.scalar(select(LoginThrottle.failures).where(LoginThrottle.key == key))
    if failures is not None and failures >= config.login_attempts_before_lockout:
        until = now + timedelta(minutes=config.login_lockout_minutes)
        session.execute(update(LoginThrottle).where(LoginThrottle.key == key)
                        .values(failures=0, locked_until=until))
        session.commit()
        raise Locked(until)
    session.commit()


def reset(session: DbSession, key: bytes) -> None:
    session.execute(update(LoginThrottle).where(LoginThrottle.key == key)
                    .values(failures=0, locked_until=None, updated_at=utcnow()))
