"""The scheduler's lease: one row per lease name, held by one process until it expires.

Taking or renewing is one conditional UPDATE (ours already, or expired), so two schedulers can
never both hold it; the first ever holder INSERTs the row, and the unique primary key lets only
one of two first holders in. Times are the database clients' UTC clocks, which a lease of
minutes tolerates being a few seconds apart.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from app.extensions import DbSession
from app.models import SchedulerLease

SCHEDULER_LEASE = "scheduler"


def holder_id() -> str:
    """This process, recognisably in the database: host, process id and a random suffix."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


def acquire(session: DbSession, holder: str, now: datetime, ttl: timedelta,
            name: str = SCHEDULER_LEASE) -> bool:
    """Take or renew the lease for ``ttl``; False while another live holder has it."""
    result = session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == name,
               or_(SchedulerLease.holder == holder, SchedulerLease.expires_at < now))
        .values(holder=holder, expires_at=now + ttl, renewed_at=now),
        execution_options={"synchronize_session": False})
    if result.rowcount:  # type: ignore[attr-defined]
        session.commit()
        return True
    if session.get(SchedulerLease, name) is not None:
        session.commit()
        return False
    try:
        session.add(SchedulerLease(name=name, holder=holder, expires_at=now + ttl,
                                   renewed_at=now))
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def release(session: DbSession, holder: str, now: datetime, name: str = SCHEDULER_LEASE) -> None:
    """Give the lease up at once (a clean stop), so a standby need not wait for it to expire."""
    session.execute(update(SchedulerLease)
                    .where(SchedulerLease.name == name, SchedulerLease.holder == holder)
                    .values(expires_at=now), execution_options={"synchronize_session": False})
    session.commit()


def current_holder(session: DbSession, now: datetime, name: str = SCHEDULER_LEASE
                   ) -> SchedulerLease | None:
    lease = session.get(SchedulerLease, name)
    return lease if lease is not None and lease.expires_at >= now else None
