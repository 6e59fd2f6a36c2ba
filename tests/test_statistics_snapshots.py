"""Statistics counted once a day by the scheduler: stored counts are the counts, a page reads
the day's count and says so, nothing finer than the day is stored or shown, and a report filed
today moves no count, kept or on request."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import insert, select, update

from app.extensions import db
from app.governance import routes as governance_routes
from app.models import Case, StatisticsSnapshot
from app.roles import Role
from app.services import statistics, statistics_snapshots
from app.services.statistics import Quarter, Raw
from app.taxonomy import RSP_V3
from tests.support.case_metadata import case_row, generate
from tests.support.staff import StaffLogin


def add_cases(app: Flask, first_id: int, count: int, received_on: date,
              **values: Any) -> None:
    with app.app_context():
        db.session.execute(insert(Case), [case_row(i, received_on, **values)
                                          for i in range(first_id, first_id + count)])
        db.session.commit()


def add_base(app: Flask, received_on: date) -> None:
    """32 cases whose total is published (two small ones alone would be withheld with it)."""
    add_cases(app, 1, 30, received_on, category="weights-security")
    add_cases(app, 31, 2, received_on, category="risk-reports")


def refresh(app: Flask, now: datetime) -> list[str]:
    with app.app_context():
        return statistics_snapshots.refresh(db.session, RSP_V3, now)


@dataclass
class PageClock:
    """What the governance pages take for now."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def viewing(app: Flask, client: FlaskClient, staff: StaffLogin,
            monkeypatch: pytest.MonkeyPatch) -> tuple[PageClock, Quarter]:
    """A governance member signed in, the pages' clock in the test's hands (a run across
    midnight would otherwise see a new day, for which no snapshot is kept), and the base cases
    received in the last ended quarter."""
    clock = PageClock(datetime(2026, 7, 15, 9, 0))
    monkeypatch.setattr(governance_routes, "_today", clock)
    last = statistics.last_ended_quarter(clock.now.date())
    staff.login(client, staff.create("gov-viewer", Role.GOVERNANCE))
    add_base(app, last.first_day)
    return clock, last


def board_total(client: FlaskClient) -> tuple[object, dict[str, object]]:
    pack = json.loads(client.get("/governance/packs/board/json").get_data())
    return pack["tables"][0]["total"], pack


@pytest.mark.parametrize("scope", ["board", "officers"])
def test_stored_counts_are_the_counts(app: Flask, scope: statistics.Scope) -> None:
    today = date(2026, 7, 15)
    with app.app_context():
        generate(db.session, 400, date(2025, 1, 1), today)
        db.session.execute(update(Case).where(Case.id % 7 == 0).values(concerns_rso=True))
        db.session.commit()
        raw = statistics.gather(db.session, statistics.window(Quarter(2026, 2)), scope,
                                today, RSP_V3)
    assert raw.total > 100 and raw.durations["close"]
    again = Raw.from_json(json.loads(json.dumps(raw.to_json())))
    assert again == raw
    packs = [statistics.build_pack(r, scope, 5, RSP_V3, today).as_json() for r in (raw, again)]
    assert packs[0] == packs[1]


def test_scheduler_counts_each_window_once_a_day(app: Flask) -> None:
    now = datetime(2026, 7, 15, 9, 0)
    add_cases(app, 1, 12, date(2026, 5, 4))
    assert refresh(app, now) == ["board 2026-Q3", "board 2026-Q2", "officers 2026-Q2"]
    with app.app_context():
        stored = db.session.scalars(select(StatisticsSnapshot)).all()
        assert {row.counted_for for row in stored} == {now.date()}
    # Changes during the day wait for the next day's count.
    add_cases(app, 13, 3, date(2026, 5, 5))
    assert refresh(app, now + timedelta(hours=5)) == []
    assert len(refresh(app, now + timedelta(days=1))) == 3
    with app.app_context():
        row = db.session.scalar(select(StatisticsSnapshot).where(
            StatisticsSnapshot.scope == "board", StatisticsSnapshot.last_quarter == "2026-Q2"))
        assert row is not None and Raw.from_json(json.loads(row.raw)).total == 15
    # A new quarter drops the windows of the last one.
    assert refresh(app, datetime(2026, 10, 1, 0, 5)) == [
        "board 2026-Q4", "board 2026-Q3", "officers 2026-Q3"]
    with app.app_context():
        assert sorted(db.session.execute(select(StatisticsSnapshot.scope,
                                                StatisticsSnapshot.last_quarter))) == [
            ("board", "2026-Q3"), ("board", "2026-Q4"), ("officers", "2026-Q3")]


def test_a_report_filed_today_moves_no_count(app: Flask) -> None:
    """Neither the stored count nor a count on request changes when a report comes in: it is
    counted from the next day on, so no count dates it more finely than its row does."""
    now = datetime(2026, 7, 15, 9, 0)
    add_cases(app, 1, 30, date(2026, 7, 2), category="weights-security")
    refresh(app, now)
    with app.app_context():
        before = db.session.scalar(select(StatisticsSnapshot.raw).where(
            StatisticsSnapshot.scope == "board", StatisticsSnapshot.last_quarter == "2026-Q3"))
    add_cases(app, 31, 4, now.date(), category="weights-security")
    assert refresh(app, now + timedelta(hours=1)) == []
    with app.app_context():
        assert db.session.scalar(select(StatisticsSnapshot.raw).where(
            StatisticsSnapshot.scope == "board",
            StatisticsSnapshot.last_quarter == "2026-Q3")) == before
        window = statistics.window(Quarter(2026, 3))
        assert statistics.gather(db.session, window, "board", now.date(), RSP_V3).total == 30
        tomorrow = now.date() + timedelta(days=1)
        assert statistics.gather(db.session, window, "board", tomorrow, RSP_V3).total == 34


def test_pages_read_the_days_count_and_say_so(
        app: Flask, client: FlaskClient,
        viewing: tuple[PageClock, Quarter]) -> None:
    clock, last = viewing
    refresh(app, clock.now)
    total, pack = board_total(client)
    assert total == 32 and pack["counted"] == "daily"
    assert pack["cases_received_before"] == clock.now.date().isoformat()
    assert "Counted once a day" in client.get("/governance/").get_data(as_text=True)
    # The public report counts the Board's cases from the same count, with its own k.
    public = json.loads(client.get("/governance/packs/public/json").get_data())
    assert public["k"] == 10 and public["counted"] == "daily"

    add_cases(app, 33, 10, last.first_day, category="weights-security")
    assert board_total(client)[0] == 32  # the day's count
    # The next day, before the scheduler has counted it: counted on request, then reused
    # while nothing changes.
    clock.now += timedelta(days=1)
    total, pack = board_total(client)
    assert total == 42 and pack["counted"] == "on request"
    assert "Counted on request" in client.get("/governance/packs/board").get_data(as_text=True)
    add_cases(app, 43, 5, last.first_day, category="weights-security")
    assert board_total(client)[0] == 47
    refresh(app, clock.now)
    total, pack = board_total(client)
    assert total == 47 and pack["counted"] == "daily"


def test_officers_count_leaves_out_cases_accusing_officers(
        app: Flask, client: FlaskClient,
        viewing: tuple[PageClock, Quarter]) -> None:
    clock, last = viewing
    add_cases(app, 33, 6, last.first_day, category="weights-security", concerns_rso=True)
    refresh(app, clock.now)
    officers = json.loads(client.get("/governance/packs/officers/json").get_data())
    board, _ = board_total(client)
    assert officers["counted"] == "daily"
    assert officers["tables"][0]["total"] == 32 and board == 38


def test_tick_command_counts_the_day_once(app: Flask, runner: FlaskCliRunner) -> None:
    add_cases(app, 1, 7, date(2026, 5, 4))
    first = runner.invoke(args=["tick", "--now", "2026-07-15T09:00:00"])
    assert first.exit_code == 0, first.output
    assert "statistics_windows_counted: 3" in first.output
    again = runner.invoke(args=["tick", "--now", "2026-07-15T09:01:00"])
    assert "statistics_windows_counted: 0" in again.output
