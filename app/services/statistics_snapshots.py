"""Statistics kept ready, so a governance page answers without scanning every case.

Counting a window scans every case received in it (``statistics.gather``): with 100,000 cases
that takes the better part of a second on SQLite, too long for a page. So the scheduler counts
the windows people open (the dashboard's, and the last ended quarter's packs) after its tick,
and keeps the raw counts in ``statistics_snapshots``; a page reads one row. Suppression is
applied when a pack is built, never stored.

How fresh a page is:

- counts are reused unchanged while the *data version* (the newest audit entry and the newest
  case: every change to a case is audited in the same transaction) is unchanged, so then they
  are exact;
- after a change, a page shows the last snapshot, marked with the time it was counted, for at
  most ``SERVE_STALE_FOR`` refresh intervals; the scheduler recounts a changed window once
  ``statistics_refresh_seconds`` have passed since its last count (so a busy day costs one
  count per window per interval, not one per change);
- a window without a usable snapshot (another quarter asked for, a new day, no scheduler
  running) is counted on the spot and reused by this process while the data is unchanged.

The public report counts the same cases as the Board pack (only its k differs), so both read
the Board's snapshot.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import DbSession
from app.models import AuditEntry, Case, StatisticsSnapshot
from app.services.statistics import (
    Quarter,
    Raw,
    Scope,
    gather,
    last_ended_quarter,
    window,
)
from app.taxonomy import Taxonomy

log = logging.getLogger(__name__)
SERVE_STALE_FOR = 3  # refresh intervals a snapshot may lag behind the data when shown


@dataclass(frozen=True)
class Counted:
    """Raw counts, when they were counted, and whether the data has changed since."""

    raw: Raw
    counted_at: datetime
    version: str
    behind: bool = False


def data_version(session: DbSession) -> str:
    """Changes whenever a case's metadata may have: every change to a case is audited in the
    same transaction (app/services/audit.py), and a new case has a new id. Two index look-ups."""
    audit_head = session.scalar(select(func.max(AuditEntry.id)))
    newest_case = session.scalar(select(func.max(Case.id)))
    return f"{audit_head}:{newest_case}"


def counted_scope(scope: Scope) -> Scope:
    """Whose cases a scope counts: the public report's are the Board pack's."""
    return "board" if scope == "public" else scope


def standard_windows(today: date) -> list[tuple[Scope, Quarter]]:
    """The windows kept ready: the dashboard's (ending this quarter) and the packs' (ending
    the last ended quarter) for the Board (and public report) and for officers and
    directors."""
    last = last_ended_quarter(today)
    return [("board", Quarter.of(today)), ("board", last), ("officers", last)]


def refresh(session: DbSession, taxonomy: Taxonomy, now: datetime,
            interval: timedelta) -> list[str]:
    """Recount each standard window whose snapshot is missing, of another day or taxonomy, or
    behind the data and older than ``interval``. Commits each; returns what was recounted."""
    today, version = now.date(), data_version(session)
    keep = standard_windows(today)
    wanted = {(scope, last.label) for scope, last in keep}
    for old in session.scalars(select(StatisticsSnapshot)):
        if (old.scope, old.last_quarter) not in wanted:  # a window of an earlier quarter
            session.delete(old)
    session.commit()
    recounted = []
    for scope, last in keep:
        row = session.scalar(select(StatisticsSnapshot).where(
            StatisticsSnapshot.scope == scope, StatisticsSnapshot.last_quarter == last.label))
        if (row is not None and row.counted_for == today
                and row.taxonomy_version == taxonomy.version
                and (row.data_version == version or now - row.counted_at < interval)):
            continue
        # The version is read before counting: a change made during the count makes the
        # snapshot look behind, never newer than it is.
        version = data_version(session)
        raw = gather(session, window(last), scope, today, taxonomy)
        if row is None:
            row = StatisticsSnapshot(scope=scope, last_quarter=last.label)
            session.add(row)
        row.counted_for, row.counted_at = today, now
        row.taxonomy_version, row.data_version = taxonomy.version, version
        row.raw = json.dumps(raw.to_json(), separators=(",", ":"))
        try:
            session.commit()
        except IntegrityError:  # a second ``candor tick`` stored the same window just now
            session.rollback()
            log.info("statistics for %s %s stored by another run", scope, last.label)
            continue
        recounted.append(f"{scope} {last.label}")
    return recounted


@dataclass
class StatisticsCache:
    """Counts made on the spot by this process, reused while the data version and the day are
    unchanged. Bounded: the oldest window goes first."""

    limit: int = 32
    entries: dict[tuple[Any, ...], Counted] = field(default_factory=dict)

    def counted(self, session: DbSession, scope: Scope, last: Quarter, today: date,
                taxonomy: Taxonomy, now: datetime, interval: timedelta) -> Counted:
        """The raw counts of ``scope``'s window ending with ``last``: a snapshot, this
        process's own count, or a new count (see the module docstring)."""
        scope = counted_scope(scope)
        version = data_version(session)
        key = (scope, last, today, taxonomy.version)
        hit = self.entries.get(key)
        if hit is not None and hit.version == version:
            return hit
        row = session.scalar(select(StatisticsSnapshot).where(
            StatisticsSnapshot.scope == scope, StatisticsSnapshot.last_quarter == last.label,
            StatisticsSnapshot.counted_for == today,
            StatisticsSnapshot.taxonomy_version == taxonomy.version))
        if row is not None and (row.data_version == version
                                or now - row.counted_at < interval * SERVE_STALE_FOR):
            return Counted(Raw.from_json(json.loads(row.raw)), row.counted_at,
                           row.data_version, behind=row.data_version != version)
        counted = Counted(gather(session, window(last), scope, today, taxonomy), now, version)
        self.entries.pop(key, None)
        self.entries[key] = counted
        while len(self.entries) > self.limit:
            self.entries.pop(next(iter(self.entries)))
        return counted
