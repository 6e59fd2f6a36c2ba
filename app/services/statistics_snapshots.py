"""Statistics counted once a day, so a governance page answers without scanning every case.

Counting a window scans every case received in it (``statistics.gather``): with 100,000 cases
that takes the better part of a second on SQLite, too long for a page. So the scheduler's first
run of each day (and ``candor tick``) counts the windows people open (the dashboard's, and the
last ended quarter's packs) and keeps the raw counts in ``statistics_snapshots``; a page reads
one row. Suppression is applied when a pack is built, never stored.

Once a day on purpose: a count kept current would move when a report came in, telling whoever
watches the page, or holds a copy of the database and of its counts, when that was to within
minutes. Figures never include cases received on the day itself (``statistics.gather``), so a
day's count can only be dated to the day, like the case rows; the table stores the day and no
time, and the scheduler's log says it counted only once a day.

A window without a count for today (another quarter, or no scheduler running) is counted on
request, under the same rule, and reused by that process while nothing changed (the audit
trail's head and the newest case say so: every change to a case is audited in its
transaction).

The public report counts the same cases as the Board pack (only its k differs), so both read
the Board's counts.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
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


@dataclass(frozen=True)
class Counted:
    """Raw counts, and whether they are the day's count (else counted on request)."""

    raw: Raw
    daily: bool


def counted_scope(scope: Scope) -> Scope:
    """Whose cases a scope counts: the public report's are the Board pack's."""
    return "board" if scope == "public" else scope


def standard_windows(today: date) -> list[tuple[Scope, Quarter]]:
    """The windows counted daily: the dashboard's (ending this quarter) and the packs' (ending
    the last ended quarter) for the Board (and public report) and for officers and
    directors."""
    last = last_ended_quarter(today)
    return [("board", Quarter.of(today)), ("board", last), ("officers", last)]


def _is_current(row: StatisticsSnapshot, today: date, taxonomy: Taxonomy) -> bool:
    """A stored count serves only the day it was made for, under the taxonomy it used."""
    return row.counted_for == today and row.taxonomy_version == taxonomy.version


def _stored(session: DbSession, scope: Scope, last: Quarter) -> StatisticsSnapshot | None:
    return session.scalar(select(StatisticsSnapshot).where(
        StatisticsSnapshot.scope == scope, StatisticsSnapshot.last_quarter == last.label))


def refresh(session: DbSession, taxonomy: Taxonomy, now: datetime) -> list[str]:
    """Count each standard window not yet counted for ``now``'s day (and taxonomy); drop the
    windows of earlier quarters. Commits each; returns what was counted."""
    today = now.date()
    keep = standard_windows(today)
    wanted = {(scope, last.label) for scope, last in keep}
    rows: dict[tuple[str, str], StatisticsSnapshot] = {}
    current: set[tuple[str, str]] = set()
    for row in session.scalars(select(StatisticsSnapshot)):
        key = (row.scope, row.last_quarter)
        if key not in wanted:  # a window of an earlier quarter
            session.delete(row)
            continue
        rows[key] = row
        if _is_current(row, today, taxonomy):
            current.add(key)
    session.commit()
    counted = []
    for scope, last in keep:
        if (scope, last.label) in current:
            continue
        raw = gather(session, window(last), scope, today, taxonomy)
        stored = rows.get((scope, last.label))
        if stored is None:
            stored = StatisticsSnapshot(scope=scope, last_quarter=last.label)
            session.add(stored)
        stored.counted_for, stored.taxonomy_version = today, taxonomy.version
        stored.raw = json.dumps(raw.to_json(), separators=(",", ":"))
        try:
            session.commit()
        except IntegrityError:  # a second ``candor tick`` stored the same window just now
            session.rollback()
            log.info("statistics for %s %s stored by another run", scope, last.label)
            continue
        counted.append(f"{scope} {last.label}")
    return counted


def data_version(session: DbSession) -> tuple[int | None, int | None]:
    """Changes whenever a case's metadata may have: every change to a case is audited in the
    same transaction (app/services/audit.py), and a new case has a new id. Two index look-ups.
    Kept in memory only."""
    return (session.scalar(select(func.max(AuditEntry.id))),
            session.scalar(select(func.max(Case.id))))


@dataclass
class StatisticsCache:
    """Counts made on request by this process, reused while the data version and the day are
    unchanged. Bounded: the oldest window goes first."""

    limit: int = 32
    entries: dict[tuple[Any, ...], tuple[tuple[int | None, int | None], Counted]] = field(
        default_factory=dict)

    def counted(self, session: DbSession, scope: Scope, last: Quarter, today: date,
                taxonomy: Taxonomy) -> Counted:
        """The raw counts of ``scope``'s window ending with ``last``: the day's count if the
        scheduler made it, else this process's own (see the module docstring)."""
        scope = counted_scope(scope)
        row = _stored(session, scope, last)
        if row is not None and _is_current(row, today, taxonomy):
            return Counted(Raw.from_json(json.loads(row.raw)), daily=True)
        key = (scope, last, today, taxonomy.version)
        version = data_version(session)
        hit = self.entries.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        counted = Counted(gather(session, window(last), scope, today, taxonomy), daily=False)
        self.entries.pop(key, None)
        self.entries[key] = (version, counted)
        while len(self.entries) > self.limit:
            self.entries.pop(next(iter(self.entries)))
        return counted
