"""Governance statistics with 100,000 cases, on SQLite and on PostgreSQL: releases and pages.

Fills a fresh database with case metadata rows (bulk-inserted: statistics read no content)
spread over two years, with their events, and makes a year of releases (the four last
quarters, with their quarter-to-date releases, app/services/releases.py). Then times:

- a release including its audit: the last ended quarter released again to all three audiences
  (its ledger rows deleted first), which counts the quarter by month for both bases and checks
  every protected count with HiGHS against the quarter-to-date releases already held;
- GET /governance/ in-process (the WSGI call, no network), right after a case changed and warm:
  it reads released figures only;
- how useful the packs stay: for the last ended quarter, how many counts the Board pack prints
  exactly and how many it withholds, with the former one-table-at-a-time suppression (which
  the combination attack broke) and with releases checked against everything held.

Goals: a release with its audit p95 under 500 ms; the dashboard p95 under 300 ms.

Usage: .venv/bin/python bench/stats.py [--cases N] [--backends sqlite,postgresql] [--json PATH]
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from _instance import candor_instance, on_each_backend
from _report import Report
from sqlalchemy import delete, select

from app.extensions import DbSession, db
from app.models import StatisticsRelease
from app.quarters import Quarter
from app.roles import Role
from app.services import audit, releases, suppression
from app.services import statistics as stats
from app.taxonomy import RSP_V3
from app.vocabulary import OUTCOMES, STATUSES
from tests.support.case_metadata import generate
from tests.support.staff import StaffLogin

WARM_REPEATS = 30
COLD_REPEATS = 5
RELEASE_REPEATS = 10
LIMITS = releases.Limits(5, 10)


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _timed(call: Any) -> float:
    began = time.perf_counter()
    call()
    return (time.perf_counter() - began) * 1000


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) > 1 else values[0]


def usefulness(session: DbSession, quarter: Quarter, today: date, k: int
               ) -> tuple[tuple[int, int], tuple[int, int]]:
    """(shown, withheld) among the Board's category, route, status and finding counts of one
    quarter (their totals included): before, suppressed one table at a time; after, as
    released."""
    raw = stats.gather(session, [quarter], "board", today, RSP_V3)
    tables = [suppression.suppress_table([raw.by_category[c.id] for c in RSP_V3.categories],
                                         k),
              suppression.suppress_table([raw.by_route[r] for r in stats.ROUTES], k)]
    series = [suppression.suppress_series([raw.by_status.get(s, 0) for s in STATUSES],
                                          k),
              suppression.suppress_series([raw.by_outcome.get(o, 0) for o in OUTCOMES],
                                          k)]
    cells = [c for t in tables for c in (*[x for row in t.cells for x in row[:1]],
                                         *t.column_totals)]
    cells += [c for s in series for c in (*s.values, s.total)]
    before = (sum(c.shown for c in cells), sum(not c.shown for c in cells))
    released = releases.released(session, "board", quarter, today, RSP_V3, LIMITS)
    assert released is not None
    keys = ["total", *[f"category/{c.id}" for c in RSP_V3.categories],
            *[f"route/{r}" for r in stats.ROUTES], "total",
            *[f"status/{s}" for s in STATUSES], "total",
            *[f"outcome/{o}" for o in OUTCOMES], "outcomes"]
    after_cells = [released.cell(key) for key in keys]
    after = (sum(c.shown for c in after_cells), sum(not c.shown for c in after_cells))
    return before, after


def demonstration(backend: str, report: Report) -> None:
    """The same usefulness figures for the history ``candor seed-demo`` adds."""
    from app.demo_history import DEMO_CASES, add_history

    with candor_instance(backend, "stats_demo") as (app, _config), app.app_context():
        today = date.today()
        add_history(db.session, RSP_V3, today)
        db.session.commit()
        last = Quarter.last_ended(today)
        before, after = usefulness(db.session, last, today, LIMITS.internal_k)
        report.note(f"{backend}: demonstration history ({DEMO_CASES} cases), Board pack "
                    f"{last.label}, category/route/status/finding counts: before {before[0]} "
                    f"shown, {before[1]} withheld; after {after[0]} shown, {after[1]} withheld")


def measure(backend: str, count: int, report: Report) -> None:
    demonstration(backend, report)
    with candor_instance(backend, "stats") as (app, _config):
        people = StaffLogin(app)
        viewer = people.create("governance", Role.GOVERNANCE)
        today = date.today()
        began = time.perf_counter()
        with app.app_context():
            generate(db.session, count, today - timedelta(days=730), today)
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect().execution_options(
                        isolation_level="AUTOCOMMIT") as connection:
                    connection.exec_driver_sql("VACUUM ANALYZE")
        report.note(f"{backend}: {count:,} cases inserted in {time.perf_counter() - began:.1f} s")
        last = Quarter.last_ended(today)
        year = [last.shifted(-i) for i in range(4)]
        with app.app_context():
            began = time.perf_counter()
            for quarter in reversed(year):  # as the year went: to date each month, then whole
                for month in stats.months_of(quarter)[1:]:
                    releases.release_to_date(db.session, quarter, month.first_day, RSP_V3,
                                             LIMITS)
                releases.release_to_date(db.session, quarter, quarter.next_first_day, RSP_V3,
                                         LIMITS)
                releases.release_quarter(db.session, quarter, max(
                    quarter.next_first_day + timedelta(days=releases.RELEASE_AFTER_DAYS),
                    today) if quarter != last else today, RSP_V3, LIMITS)
            releases.release_due(db.session, today, RSP_V3, LIMITS)
            ledger = releases.ledger(db.session)
        report.note(f"{backend}: a year of ledger: {len(ledger)} releases, "
                    f"{sum(line.figures for line in ledger):,} figures, made in "
                    f"{time.perf_counter() - began:.1f} s")

        def release_again() -> None:
            with app.app_context():
                db.session.execute(delete(StatisticsRelease).where(
                    StatisticsRelease.period == last.label,
                    StatisticsRelease.kind == releases.QUARTER))
                db.session.commit()
                began = time.perf_counter()
                assert releases.release_quarter(db.session, last, today, RSP_V3, LIMITS)
                made.append((time.perf_counter() - began) * 1000)

        made: list[float] = []
        for _ in range(RELEASE_REPEATS):
            release_again()
        p95 = _p95(made)
        report.figure(f"{backend}: a quarter's release with its audit, p95", p95, "ms",
                      goal="< 500", met=p95 < 500,
                      note=f"median {statistics.median(made):.0f} ms over {RELEASE_REPEATS}; "
                           "three audiences, held against a year of ledger")
        with app.app_context():
            counting = [_timed(lambda: (
                stats.gather(db.session, stats.months_of(last), "board", today, RSP_V3),
                stats.gather(db.session, stats.months_of(last), "accused", today, RSP_V3,
                             stats.accused_cases(db.session, last.first_day,
                                                 last.next_first_day))))
                for _ in range(3)]
        report.figure(f"{backend}: of which the SQL counts (the quarter by month, both bases)",
                      statistics.median(counting), "ms", note="median of 3; the rest is the "
                      "audit with HiGHS and writing the ledger")
        client = app.test_client()
        people.login(client, viewer)

        def dashboard() -> None:
            response = client.get("/governance/")
            assert response.status_code == 200, response.status_code

        def change() -> None:
            with app.app_context():
                audit.record(db.session, "bench.change", actor="system")
                db.session.commit()

        dashboard()
        after_change = []
        for _ in range(COLD_REPEATS):
            change()
            after_change.append(_timed(dashboard))
        worst = max(after_change)
        report.figure(f"{backend}: dashboard right after a case changed, worst", worst, "ms",
                      goal="< 300", met=worst < 300,
                      note=f"median {statistics.median(after_change):.0f} ms over "
                           f"{COLD_REPEATS}; released figures")
        warm = [_timed(dashboard) for _ in range(WARM_REPEATS)]
        p95 = _p95(warm)
        report.figure(f"{backend}: dashboard, warm, p95", p95, "ms", goal="< 300",
                      met=p95 < 300, note=f"p50 {statistics.median(warm):.1f} ms over "
                                          f"{WARM_REPEATS} requests")
        with app.app_context():
            before, after = usefulness(db.session, last, today, LIMITS.internal_k)
            held = db.session.scalar(select(StatisticsRelease.withheld).where(
                StatisticsRelease.period == last.label, StatisticsRelease.audience == "board",
                StatisticsRelease.kind == releases.QUARTER))
        report.note(f"{backend}: Board pack {last.label}, category/route/status/finding "
                    f"counts: before {before[0]} shown, {before[1]} withheld; after "
                    f"{after[0]} shown, {after[1]} withheld ({held} withheld of the whole "
                    "release, zeros and other counts under 5 included)")


def main() -> None:
    report, json_path = on_each_backend(
        "stats", __doc__.splitlines()[0], "Governance dashboard at {cases} cases (server time)",
        measure)
    report.note(f"machine load average at the end: {os.getloadavg()[0]:.1f}")
    report.write(json_path)


if __name__ == "__main__":
    main()
