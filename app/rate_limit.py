"""Global rate limits that identify no one: counts of recent events per kind, shared by every
node of a deployment through the database (``rate_limit_counts``), so that two nodes behind a
load balancer allow together what one would, not twice as much.

A limit's window is cut into ``SLOTS`` slots; its row holds how many events fell in each of the
newest ``SLOTS + 1``. An event is allowed when those counts add up to less than the limit, so
no span of ``window`` seconds ever holds more than ``limit`` events (a span touches at most
``SLOTS + 1`` slots), and after a burst the next event waits at most one slot longer than an
exact count would ask. Counts only: the row says nothing about who acted, and dates nothing
more finely than a slot; the scheduler's tick deletes a row once its window has passed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, update

from app.extensions import DbSession, insert_or, table_of
from app.models import RateLimitCount

SLOTS = 6
WINDOW_SECONDS = 60.0


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True)
class GlobalRateLimit:
    """At most ``limit`` events of ``kind`` in any ``window`` seconds, across all callers on
    all nodes."""

    kind: str
    limit: int
    window: float = WINDOW_SECONDS

    def take(self, session: DbSession, now: float) -> None:
        """Count one event in the session's transaction, or raise :class:`RateLimited` with
        the seconds to wait (and then count nothing: the caller rolls back).

        The first statement writes the row, so it is locked (on SQLite, the database is) until
        the transaction ends: two nodes counting at once are counted one after the other, and
        neither can pass on a count the other is about to change. The caller commits at once
        (what else it holds is committed with the count)."""
        width = self.window / SLOTS
        slot = math.floor(now / width)
        table = table_of(RateLimitCount)
        empty = ",".join(["0"] * (SLOTS + 1))
        touch = insert_or(session, table).values(kind=self.kind, slot=slot, counts=empty)
        row = session.execute(
            touch.on_conflict_do_update(index_elements=[table.c.kind],
                                        set_={"kind": touch.excluded.kind})
            .returning(table.c.slot, table.c.counts)).one()
        newest, counts = int(row.slot), [int(count) for count in row.counts.split(",")]
        if slot > newest:  # slots gone by: they drop off the front
            counts = (counts + [0] * min(slot - newest, SLOTS + 1))[-(SLOTS + 1):]
            newest = slot
        # (A node whose clock is behind another's counts in the newest slot.)
        total = sum(counts)
        if total >= self.limit:
            gone = 0
            while total >= self.limit:
                total -= counts[gone]
                gone += 1
            raise RateLimited(max(1, math.ceil((newest + gone) * width - now)))
        counts[-1] += 1
        session.execute(update(table).where(table.c.kind == self.kind).values(
            slot=newest, counts=",".join(map(str, counts))))


def purge_past(session: DbSession, now: datetime, window: float = WINDOW_SECONDS) -> int:
    """Delete the counts of limits with no event within their window (plus a slot): they
    allow anything, and a count kept longer would only say when someone acted. ``now`` is
    naive UTC, as stored times are. Returns how many went."""
    width = window / SLOTS
    newest_past = math.floor(now.replace(tzinfo=UTC).timestamp() / width) - SLOTS - 1
    table = table_of(RateLimitCount)
    result = session.execute(delete(table).where(table.c.slot < newest_past))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
