"""Statistics from metadata: counts, clocks and durations as computed in SQL; the officers'
pack leaves out cases that accuse an officer or director; the pages, exports and CLI print
only released figures (tests/test_disclosure.py attacks them)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import insert

from app.extensions import db
from app.models import CaseEvent, CaseExclusion
from app.quarters import Quarter
from app.roles import Role
from app.services import packs, statistics
from app.services.releases import Limits
from app.services.statistics import percentile
from app.taxonomy import RSP_V3
from tests.support.case_metadata import case_row
from tests.support.staff import StaffLogin

Q1 = Quarter(2026, 1)
TODAY = date(2026, 7, 15)


def add(app: Flask, rows: list[dict[str, object]],
        events: list[dict[str, object]] = (),  # type: ignore[assignment]
        exclusions: list[dict[str, object]] = ()) -> None:  # type: ignore[assignment]
    with app.app_context():
        db.session.execute(insert(statistics.Case), rows)
        if events:
            db.session.execute(insert(CaseEvent), list(events))
        if exclusions:
            db.session.execute(insert(CaseExclusion), list(exclusions))
        db.session.commit()


def raw(app: Flask, scope: statistics.Scope = "board",
        quarters: list[Quarter] | None = None) -> statistics.Raw:
    with app.app_context():
        return statistics.gather(db.session, quarters or [Q1], scope, TODAY, RSP_V3)


def test_quarters() -> None:
    assert Quarter.parse("2026-q3") == Quarter(2026, 3)
    assert Quarter.of(date(2026, 12, 31)).shifted(1) == Quarter(2027, 1)
    assert [q.label for q in statistics.window(Quarter(2026, 1), 3)] == \
        ["2025-Q3", "2025-Q4", "2026-Q1"]
    assert Quarter.last_ended(date(2026, 4, 1)) == Quarter(2026, 1)
    for bad in ("2026-Q5", "26-Q1", "2026Q1", ""):
        try:
            Quarter.parse(bad)
        except ValueError:
            continue
        raise AssertionError(bad)


def test_percentiles_are_nearest_rank() -> None:
    assert percentile({1: 1, 2: 1, 3: 1, 10: 1}, 0.5) == 2
    assert percentile({1: 9, 30: 1}, 0.9) == 1
    assert percentile({1: 8, 30: 2}, 0.9) == 30


def test_counts_clocks_and_durations(app: Flask) -> None:
    d = date
    add(app, [
        # acknowledged in 3 days, findings in time (ack 01-08 -> due 04-08), closed
        case_row(1, d(2026, 1, 5), "closed", acknowledged_on=d(2026, 1, 8),
                 findings_on=d(2026, 4, 8), closed_on=d(2026, 4, 20), outcome="substantiated",
                 material_risk_found=True, category="weights-security"),
        # acknowledged late (9 days); findings a day late
        case_row(2, d(2026, 1, 31), "findings", acknowledged_on=d(2026, 2, 9),
                 findings_on=d(2026, 5, 10), outcome="not_substantiated", route="board"),
        # never acknowledged, long overdue: late
        case_row(3, d(2026, 2, 1), "received", category="retaliation"),
        # acknowledged Nov 30-like clamp: ack 03-31, due 06-30, findings 06-30: on time
        case_row(4, d(2026, 3, 28), "findings", acknowledged_on=d(2026, 3, 31),
                 findings_on=d(2026, 6, 30), outcome="partly_substantiated",
                 link_kind="retaliation"),
        # outside the window
        case_row(5, d(2026, 4, 1), "received"),
    ], events=[
        {"case_id": 1, "kind": "board_notified", "occurred_on": d(2026, 4, 13),
         "visible_to_reporter": False},
        {"case_id": 1, "kind": "corrective_action", "occurred_on": d(2026, 4, 15),
         "visible_to_reporter": True},
        {"case_id": 2, "kind": "escalated", "occurred_on": d(2026, 3, 2),
         "visible_to_reporter": True},
    ])
    r = raw(app)
    assert r.total == 4
    assert r.by_category["weights-security"] == [1] and r.by_category["retaliation"] == [1]
    assert r.by_route == {"rso": [3], "executive": [0], "board": [1]}
    assert r.by_status == {"closed": 1, "findings": 2, "received": 1}
    assert r.by_outcome == {"substantiated": 1, "not_substantiated": 1,
                            "partly_substantiated": 1}
    assert (r.clocks["acknowledge"][0].on_time, r.clocks["acknowledge"][0].late) == (2, 2)
    assert (r.clocks["feedback"][0].on_time, r.clocks["feedback"][0].late) == (2, 1)
    # told 5 days after the finding: late
    assert (r.clocks["board_notice"][0].on_time, r.clocks["board_notice"][0].late) == (0, 1)
    assert r.durations["acknowledge"][None] == {3: 2, 9: 1}
    assert r.durations["close"][None] == {105: 1}
    assert r.retaliation == 2 and r.corrective_actions == 1
    assert r.escalations == [1] and r.board_notices == [0]  # the notice came in Q2


def test_officers_pack_leaves_out_cases_accusing_officers(app: Flask,
                                                          staff: StaffLogin) -> None:
    executive = staff.create("exec-accused", Role.EXECUTIVE)
    board = staff.create("board-accused", Role.BOARD)
    engineer = staff.create("gov-not-officer", Role.GOVERNANCE)
    recused = staff.create("rso-recused", Role.RSO)
    rows = [case_row(i, date(2026, 2, 1), category="governance") for i in range(1, 41)]
    for i in range(1, 6):
        rows[i - 1]["concerns_rso"] = True  # cases 1-5 concern the RSO
    add(app, rows, exclusions=[
        *[{"case_id": i, "staff_id": executive.id, "reason": "concerned"} for i in range(6, 11)],
        *[{"case_id": i, "staff_id": board.id, "reason": "concerned"} for i in range(11, 14)],
        *[{"case_id": i, "staff_id": engineer.id, "reason": "concerned"}
          for i in range(14, 20)],
        *[{"case_id": i, "staff_id": recused.id, "reason": "recused"} for i in range(20, 25)],
    ])
    assert raw(app, "board").total == 40
    assert raw(app, "officers").total == 40 - 5 - 5 - 3
    # the releases count officers' cases as the Board's minus the accused: the same counts
    with app.app_context():
        accused = statistics.gather(db.session, [Q1], "accused", TODAY, RSP_V3)
    assert raw(app, "board").minus(accused) == raw(app, "officers")
    with app.app_context():
        ids = statistics.accused_cases(db.session, Q1.first_day, Q1.next_first_day)
        listed = statistics.gather(db.session, [Q1], "accused", TODAY, RSP_V3, ids)
    assert sorted(ids) == list(range(1, 14)) and listed == accused
    with app.app_context():
        pack = packs.pack(db.session, "officers", Q1, TODAY, RSP_V3, Limits(5, 10), 1)
    # 13 cases left out: the difference is not small, so the total may show
    assert pack.as_json()["tables"][0]["column_totals"] == [27]
    assert "accuses an officer or director" in pack.rule


def test_pages_exports_and_cli_print_only_suppressed_figures(
        app: Flask, client: FlaskClient, staff: StaffLogin, runner: FlaskCliRunner) -> None:
    rows = [case_row(i, date(2026, 1, 10 + i % 20), category="weights-security",
                     status="acknowledged", acknowledged_on=date(2026, 1, 12 + i % 20))
            for i in range(1, 31)]
    rows += [case_row(i, date(2026, 2, 2), category="risk-reports") for i in range(31, 33)]
    add(app, rows)
    viewer = staff.create("gov-pages", Role.GOVERNANCE)
    staff.login(client, viewer)

    page = client.get("/governance/packs/board?quarter=2026-Q1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<svg" in html and "<table" in html and 'aria-hidden="true"' in html
    assert "&lt;5" in html  # the two cases still "received"
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and " style=" not in html
    assert "governance.css" in html

    assert "Why some figures are not shown" in html  # said beside the table
    assert ">Item<" not in html

    exported = client.get("/governance/packs/board/json?quarter=2026-Q1")
    assert exported.headers["Content-Disposition"] == \
        'attachment; filename="candor-board-2026-Q1.json"'
    data = json.loads(exported.get_data())
    table = data["tables"][0]
    risk = next(row for row in table["rows"] if row["label"].startswith("Risk Reports"))
    # 2026-Q1 is the last column; the earlier quarters (no cases) show "<5", so a total over
    # all four would be a new figure: a dash
    # a withheld count of reports received says nothing, not even that it is small: "<5"
    # for the quarter beside a quarter to date printed exactly would bound the last month
    assert risk["cells"][-1] == "\u2013" and risk["total"] == "\u2013"
    assert table["column_totals"][-1] == 32 and table["total"] == "\u2013"
    weights = next(row for row in table["rows"] if row["label"].startswith("Security"))
    assert weights["cells"][-1] == "\u2013"  # withheld: else 32 - 30 would give the 2 away
    assert 2 not in [cell for row in table["rows"] for cell in row["cells"]]
    assert data["releases"][-1]["quarter"] == "2026-Q1"
    assert data["releases"][-1]["release"].endswith("frozen")

    sheet = list(csv.reader(io.StringIO(client.get(
        "/governance/packs/officers/csv?quarter=2026-Q1").get_data(as_text=True))))
    assert sheet[0] == ["section", "row", "column", "value"]
    assert ["category_by_quarter", "total", "2026-Q1", "32"] in sheet

    public = json.loads(client.get("/governance/packs/public/json?quarter=2026-Q1").get_data())
    assert public["k"] == 10 and public["title"] == "Transparency report"

    assert client.get("/governance/packs/board?quarter=2026-Q7").status_code == 400
    assert client.get("/governance/packs/board?quarter=1850-Q1").status_code == 400
    assert client.get("/governance/packs/everyone").status_code == 404
    assert client.get("/governance/packs/board/pdf").status_code == 404
    assert client.get("/governance/").status_code == 200

    result = runner.invoke(args=["stats", "--format", "json", "--quarter", "2026-Q1"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["tables"][0]["column_totals"][-1] == 32
    result = runner.invoke(args=["stats", "--format", "csv", "--quarter", "2026-Q1",
                                 "--scope", "public"])
    assert result.exit_code == 0 and "category_by_quarter,total,2026-Q1,32" in result.output
    assert runner.invoke(args=["stats", "--quarter", "soon"]).exit_code == 2
    ledger = runner.invoke(args=["stats", "ledger"])
    assert ledger.exit_code == 0, ledger.output
    assert "board\tquarter\t2026-Q1\t2026-04-01\t" in ledger.output


def test_a_released_quarter_never_changes(app: Flask, client: FlaskClient,
                                          staff: StaffLogin) -> None:
    """Frozen once released: later cases, later acknowledgements, change nothing shown."""
    staff.login(client, staff.create("gov-frozen", Role.GOVERNANCE))
    url = "/governance/packs/board/json?quarter=2026-Q1"
    first = json.loads(client.get(url).get_data())
    assert first["tables"][0]["column_totals"][-1] == "\u2013"  # nothing received: withheld
    add(app, [case_row(i, date(2026, 2, 2)) for i in range(1, 13)])
    again = json.loads(client.get(url).get_data())
    assert again["tables"] == first["tables"] and again["releases"] == first["releases"]


def test_recording_that_the_packs_were_delivered(app: Flask, client: FlaskClient,
                                                 staff: StaffLogin) -> None:
    from sqlalchemy import select

    from app.models import AuditEntry, OrgDeadlineStep
    from tests.support.staff import csrf_token

    rso = staff.create("rso-packs", Role.RSO)
    staff.login(client, rso)
    token = csrf_token(client, "/governance/packs/board?quarter=2026-Q1")
    form = {"csrf_token": token, "quarter": "2026-Q1"}
    first = client.post("/governance/packs/delivered", data=form, follow_redirects=True)
    assert "Delivery of the 2026-Q1 packs recorded." in first.get_data(as_text=True)
    again = client.post("/governance/packs/delivered", data=form, follow_redirects=True)
    assert "was already recorded" in again.get_data(as_text=True)
    assert client.post("/governance/packs/delivered",
                       data={"quarter": "2026-Q1"}).status_code == 400
    assert client.post("/governance/packs/delivered",
                       data={**form, "quarter": "2026-Q9"}).status_code == 400
    with app.app_context():
        steps = db.session.scalars(select(OrgDeadlineStep)).all()
        assert [(s.clock, s.cycle, s.step) for s in steps] == [("quarterly_pack", 20261, "met")]
        assert db.session.scalar(select(AuditEntry.actor).where(
            AuditEntry.action == "deadline.quarterly_pack_delivered")) == f"staff:{rso.id}"
