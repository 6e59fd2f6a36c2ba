"""One ``candor tick`` with 100,000 open cases, on SQLite and on PostgreSQL.

Fills a fresh database with open cases shaped like real ones (metadata, a recipient grant for
the RSO, an escrow grant for the Board, a report record, the events that set their clocks:
received, acknowledged, and a status update to the reporter within the last 30 days), each
with its deadline summary computed by the real deadline code. Then times, in-process:

- the daily tick: the first tick of a day, which takes that day's ladder steps (about one
  case in 30 gets its status-update reminder, plus some overdue cases) and queues notices;
- an idle tick a minute later (what the scheduler does every minute the rest of the day).

The day before is ticked first (untimed, reported) so the database is in its steady state.
No SMTP server: delivery is not part of the figure. Goal: each tick under 2 s.

Usage: .venv/bin/python bench/tick.py [--cases N] [--backends sqlite,postgresql] [--json PATH]
"""

from __future__ import annotations

import os
import random
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from types import SimpleNamespace
from typing import Any

from _instance import candor_instance, on_each_backend
from _report import Report
from sqlalchemy import func, insert, select

from app.config import Config
from app.extensions import db
from app.models import Case, CaseEvent, CaseGrant, CaseRecord, EscalationStep, OutboxMessage
from app.roles import Role
from app.services.deadline_policy import BUILT_IN
from app.services.deadlines import CaseFacts, EventFact, compute_deadlines, schedule
from app.services.periodic import run_tick
from app.state import state_of
from tests.support.staff import StaffLogin

TODAY = date(2031, 6, 2)
OPEN_STATUSES = ["acknowledged", "triaged", "investigating", "findings", "corrective_action"]
BATCH = 5000
GOAL_SECONDS = 2.0


def fill(app: Any, count: int, rso_id: int, exec_id: int, board_id: int) -> None:
    """``count`` open cases inserted in bulk: the rows' shape, not real crypto."""
    rng = random.Random(11)
    with app.app_context():
        for offset in range(0, count, BATCH):
            cases, grants, records, events = [], [], [], []
            for i in range(offset, min(offset + BATCH, count)):
                case_id = i + 1
                fresh = rng.random() < 0.05  # not yet acknowledged
                received = TODAY - timedelta(days=rng.randrange(0, 7) if fresh
                                             else rng.randrange(8, 80))
                acknowledged = None if fresh else received + timedelta(days=rng.randrange(1, 7))
                status = "received" if fresh else rng.choice(OPEN_STATUSES)
                # The last status update: within the last 30 days, a few a little late.
                updated = None if fresh else max(
                    acknowledged, TODAY - timedelta(days=rng.randrange(0, 31)))  # type: ignore[type-var]
                row = {
                    "id": case_id, "case_ref": f"c-{i:032x}", "number": f"C-{i:05X}"[:16],
                    "route": "rso", "category": "other", "taxonomy_version": "rsp-v3.0",
                    "status": status, "received_on": received, "acknowledged_on": acknowledged,
                    "origin": "reporter", "assignee_id": rso_id if rng.random() < 0.7 else None,
                    "reopened_count": 0, "key_epoch": 1,
                    "findings_on": received + timedelta(days=60)
                    if status in ("findings", "corrective_action") else None,
                    "outcome": "not_substantiated"
                    if status in ("findings", "corrective_action") else None,
                    "deadline_policy_version": BUILT_IN.version,
                }
                facts = CaseFacts(events=[EventFact("received", received, True, False)])
                events.append({"case_id": case_id, "kind": "received", "occurred_on": received,
                               "visible_to_reporter": True, "detail": "received"})
                if acknowledged and updated:
                    for kind, when in (("acknowledge", acknowledged), ("message_written", updated)):
                        facts.events.append(EventFact(kind, when, True, True))
                        events.append({"case_id": case_id, "kind": kind, "occurred_on": when,
                                       "visible_to_reporter": True, "detail": kind,
                                       "actor_staff_id": rso_id})
                if row["findings_on"]:
                    facts.events.append(EventFact("findings", row["findings_on"], True, True))
                    events.append({"case_id": case_id, "kind": "findings",
                                   "occurred_on": row["findings_on"], "visible_to_reporter": True,
                                   "detail": "findings", "actor_staff_id": rso_id})
                earliest, look = schedule(
                    compute_deadlines(SimpleNamespace(**{**row, "material_risk_found": False,  # type: ignore[arg-type]
                                                         "concerns_rso": False,
                                                         "closed_on": None,
                                                         "triaged_on": None,
                                                         "critical_incident": False,
                                                         "imminent_risk": False,
                                                         "critical_incident_on": None,
                                                         "authority_notified_on": None}),
                                      facts, BUILT_IN, TODAY - timedelta(days=1)),
                    set(), BUILT_IN, TODAY - timedelta(days=1))
                row.update(next_due_on=earliest.due_on if earliest else None,
                           next_due_clock=earliest.clock if earliest else None,
                           next_escalation_on=look)
                cases.append(row)
                for staff_id in (rso_id, exec_id):
                    grants.append({"case_id": case_id, "kind": "recipient", "staff_id": staff_id,
                                   "key_epoch": 1, "grant": bytes(80)})
                grants.append({"case_id": case_id, "kind": "escrow", "staff_id": board_id,
                               "key_epoch": 1, "grant": bytes(80)})
                records.append({"case_id": case_id, "record_ref": f"r-{i:032x}",
                                "kind": "report", "author": "reporter",
                                "visible_to_reporter": True, "created_on": received,
                                "key_epoch": 1, "ciphertext": bytes(1 + 24 + 16 + 1024)})
            db.session.execute(insert(Case), cases)
            db.session.execute(insert(CaseGrant), grants)
            db.session.execute(insert(CaseRecord), records)
            db.session.execute(insert(CaseEvent), events)
            db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                connection.exec_driver_sql("ANALYZE")
                connection.commit()


def timed_tick(app: Any, config: Config, now: datetime
               ) -> tuple[float, float, dict[str, int]]:
    """Wall-clock seconds, this process's CPU seconds (SQLite works inside it; PostgreSQL's
    server time is not in it), and the tick's counts."""
    with app.app_context():
        began, cpu = time.perf_counter(), time.process_time()
        results = run_tick(db.session, config, now, state_of(app).policy_source)
        elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
        db.session.remove()
    return elapsed, cpu, results


def measure(backend: str, count: int, report: Report) -> None:
    with candor_instance(backend, "tick") as (app, config):
        people = StaffLogin(app)
        rso, executive, board = (people.create("rso", Role.RSO),
                                 people.create("exec", Role.EXECUTIVE),
                                 people.create("board", Role.BOARD))
        began = time.perf_counter()
        fill(app, count, rso.id, executive.id, board.id)
        report.note(f"{backend}: {count:,} open cases inserted in "
                    f"{time.perf_counter() - began:.1f} s")

        warm, _cpu, warm_results = timed_tick(app, config, datetime.combine(
            TODAY - timedelta(days=1), clock_time(0, 1)))
        report.note(f"{backend}: the day before, ticked to reach the steady state: {warm:.2f} s, "
                    f"{warm_results['escalation_steps_taken']:,} steps")
        daily, cpu, results = timed_tick(app, config, datetime.combine(TODAY, clock_time(0, 1)))
        report.figure(f"{backend}: daily tick", daily, "s", goal=f"< {GOAL_SECONDS:g}",
                      met=daily < GOAL_SECONDS,
                      note=f"{cpu:.2f} s of CPU in this process; "
                           f"{results['cases_looked_at']:,} cases looked at, "
                           f"{results['escalation_steps_taken']:,} ladder steps taken, "
                           f"{results['escalated_to_board']:,} escalations to the Board tier")
        report.note(f"{backend}: daily tick: {cpu:.2f} s of CPU in this process, "
                    f"{results['escalation_steps_taken']:,} ladder steps, "
                    f"{results['cases_looked_at']:,} cases looked at")
        idle, _cpu, idle_results = timed_tick(app, config,
                                              datetime.combine(TODAY, clock_time(0, 2)))
        assert idle_results["escalation_steps_taken"] == 0
        report.figure(f"{backend}: idle tick a minute later", idle, "s",
                      goal=f"< {GOAL_SECONDS:g}", met=idle < GOAL_SECONDS)
        report.note(f"{backend}: load average during the run "
                    f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
        with app.app_context():
            queued = db.session.scalar(select(func.count()).select_from(OutboxMessage))
            steps = db.session.scalar(select(func.count()).select_from(EscalationStep))
            still_open = db.session.scalar(select(func.count()).select_from(Case).where(
                Case.status != "closed"))
            report.note(f"{backend}: {still_open:,} open cases; {steps:,} ladder steps and "
                        f"{queued:,} queued notices after both days")


def main() -> None:
    report, json_path = on_each_backend("tick", __doc__.splitlines()[0],
                                        "One tick at {cases} open cases", measure)
    report.write(json_path)


if __name__ == "__main__":
    main()
