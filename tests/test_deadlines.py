"""Deadlines through whole case lives, by moving the clock: every ladder step once, pauses,
working days, reopening, check-ins, Board notice, versions of the policy."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from app.extensions import db
from app.models import CaseEvent, CaseGrant, EscalationStep, OrgDeadlineStep
from app.quarters import Quarter
from app.services import deadlines, escalation
from app.services.deadline_policy import (
    BUILT_IN_VERSION,
    Period,
    PolicyError,
    add_months,
    load_policies,
)
from app.state import state_of
from tests.support.deadline_world import D0, World, days

PACK = Quarter(2031, 1)  # the quarter whose pack these tests record


def test_acknowledge_ladder_each_step_once(world: World, app: Flask) -> None:
    people = world.people
    number = world.new_case(D0, readers=(people.rso, people.executive))
    assert world.due(number) == (days(7), "acknowledge", days(5))

    world.tick(days(4))
    assert world.steps(number) == []
    world.tick(days(5))
    world.tick(days(5))  # twice on the same day: nothing more
    assert world.steps(number) == [("acknowledge", "before")]
    assert world.outbox() == [(people.rso, "pending",
                               f"Case {number} needs acknowledgement by {days(7)}")]

    world.tick(days(7))
    assert world.steps(number)[-1] == ("acknowledge", "due")
    assert world.outbox()[-1] == (people.rso, "pending",
                                  f"Case {number} needs acknowledgement by {days(7)} (today)")

    world.tick(days(9))
    assert world.steps(number)[-1] == ("acknowledge", "route")
    assert {(m[0], m[2]) for m in world.outbox()[2:]} == {
        (people.rso, f"Case {number} is overdue: acknowledgement was due {days(7)}"),
        (people.executive, f"Case {number} is overdue: acknowledgement was due {days(7)}")}
    assert "case.deadline_missed" in world.audit_actions(number)

    assert not world.visible_to(people.board, number)
    world.tick(days(13))
    assert len(world.steps(number)) == 3
    world.tick(days(14))
    assert world.steps(number)[-1] == ("acknowledge", "board")
    assert world.visible_to(people.board, number)  # the escrow copy is released
    with app.app_context():
        case = world.case(number)
        escrow = [g for g in case.grants if g.kind == "escrow"]
        assert [g.released_on for g in escrow] == [days(14)]
        escalated = [e for e in case.events if e.kind == "escalated"]
        assert len(escalated) == 1 and escalated[0].visible_to_reporter
        assert escalated[0].detail == (f"Escalated to the Board tier: acknowledgement was due "
                                       f"{days(7)}.")
    assert world.audit_actions(number).count("case.escalated") == 1
    board_notices = [m for m in world.outbox() if m[0] == people.board]
    assert board_notices == [(people.board, "pending", f"Case {number} was escalated to the "
                              f"Board tier: acknowledgement was due {days(7)}")]
    for later in (14, 15, 20):
        world.tick(days(later))
    assert len(world.steps(number)) == 4
    assert world.audit_actions(number).count("case.escalated") == 1

    # Acknowledged late: the next clocks start from the acknowledgement.
    world.act(number, "acknowledge", days(21))
    next_due, clock_name, _ = world.due(number)
    assert (next_due, clock_name) == (days(28), "triage")
    feedback = [d for d in world.deadlines(number, days(21)) if d.clock == "feedback"]
    assert [(d.starts_on, d.due_on) for d in feedback] == [(days(21), add_months(days(21), 3))]
    ack = next(d for d in world.deadlines(number, days(21)) if d.clock == "acknowledge")
    assert ack.met_on == days(21) and not ack.met_in_time()


def test_notices_say_nothing_about_the_case(world: World) -> None:
    number = world.new_case(D0)
    world.tick(days(30))
    for _staff, _status, subject in world.outbox():
        assert subject.startswith(f"Case {number} ")
        for word in ("other", "Something else", "rso1", "exec1", "category"):
            assert word not in subject


def test_a_missed_week_of_ticks_sends_only_the_latest_step(world: World, app: Flask) -> None:
    number = world.new_case(D0)
    world.tick(days(20))
    assert world.steps(number) == [("acknowledge", s) for s in ("before", "due", "route",
                                                                   "board")]
    with app.app_context():
        flags = db.session.scalars(select(EscalationStep.notified).order_by(EscalationStep.id))
        assert list(flags) == [False, False, False, True]
    assert all("escalated to the Board tier" in m[2] for m in world.outbox())


def test_waiting_for_the_reporter_never_moves_the_feedback_date(world: World,
                                                               app: Flask) -> None:
    number = world.new_case(D0)
    world.open_to_investigating(number, days(1))
    feedback_due = add_months(days(1), 3)
    world.act(number, "wait", days(10))
    with pytest.raises(deadlines.DeadlineActionRejected, match="already waiting"):
        world.act(number, "wait", days(11))

    with app.app_context():
        case = world.case(number)
        shown = deadlines.reporter_dates(case, db.session, on=days(20))
        # The statutory date stays; waiting only annotates it.
        assert shown["feedback_by"] == str(feedback_due)
        assert shown["feedback_waiting_since"] == str(days(10))
        sentence = [e.detail for e in case.events if e.kind == "waiting_for_reporter"]
        assert sentence == [deadlines.PAUSE_SENTENCE]
        assert all(e.visible_to_reporter for e in case.events
                   if e.kind == "waiting_for_reporter")

    # The ladder runs while the case waits: the reporter's silence is no excuse.
    world.tick(feedback_due - timedelta(days=2))
    assert ("feedback", "before") in world.steps(number)
    world.reporter_writes(number, days(110))
    with app.app_context():
        shown = deadlines.reporter_dates(world.case(number), db.session, on=days(111))
        assert shown["feedback_by"] == str(feedback_due)
        assert shown["feedback_waiting_since"] is None
    feedback = next(d for d in world.deadlines(number, days(111)) if d.clock == "feedback")
    assert feedback.due_on == feedback_due and not feedback.waiting


def test_closing_starts_check_ins_and_reopening_a_new_feedback_cycle(world: World,
                                                                     app: Flask) -> None:
    number = world.new_case(D0)
    world.open_to_investigating(number, D0)
    world.act(number, "findings", days(20))
    world.act(number, "corrective_action", days(21))
    world.act(number, "close", days(22))
    first, second = add_months(days(22), 3), add_months(days(22), 6)
    open_clocks = [(d.clock, d.due_on) for d in world.deadlines(number, days(22)) if d.is_open]
    assert open_clocks == [("checkin", first), ("checkin", second)]
    assert world.due(number)[:2] == (first, "checkin")

    world.tick(first - timedelta(days=2))
    assert world.steps(number)[-1] == ("checkin", "before")
    assert [m[2] for m in world.outbox() if number in m[2]][-1] == (
        f"Case {number} needs a follow-up check-in by {first}")
    world.act(number, "checkin", first - timedelta(days=1))
    world.tick(first + timedelta(days=9))
    assert [s for s in world.steps(number) if s[0] == "checkin"] == [("checkin", "before")]
    assert world.due(number)[:2] == (second, "checkin")

    reopened_on = first + timedelta(days=5)
    world.act(number, "reopen", reopened_on)
    world.tick(reopened_on)  # the tick settles what the reopening changed
    open_now = [(d.clock, d.cycle, d.starts_on) for d in world.deadlines(number, reopened_on)
                if d.is_open]
    assert ("feedback", 1, reopened_on) in open_now
    assert not [c for c in open_now if c[0] == "checkin"]
    assert world.due(number)[:2] == (reopened_on + timedelta(days=30), "status_update")
    world.act(number, "findings", reopened_on + timedelta(days=40))
    feedback = [d for d in world.deadlines(number, reopened_on + timedelta(days=40))
                if d.clock == "feedback"]
    # The outcome written at closure met the first cycle; the findings meet nothing.
    assert [(d.cycle, d.met_on) for d in feedback] == [(0, days(22)), (1, None)]
    world.write(number, reopened_on + timedelta(days=41), "feedback")
    feedback = [d for d in world.deadlines(number, reopened_on + timedelta(days=41))
                if d.clock == "feedback"]
    assert [(d.cycle, d.met_in_time()) for d in feedback] == [(0, True), (1, True)]


def test_board_notice_of_a_material_risk_finding(world: World, app: Flask) -> None:
    told, untold = world.new_case(D0), world.new_case(D0)
    for number in (told, untold):
        world.open_to_investigating(number, D0)
        world.act(number, "findings", days(30), outcome="substantiated", material=True)
    notice = next(d for d in world.deadlines(told, days(30)) if d.clock == "board_notice")
    assert notice.due_on == days(33)
    world.act(told, "board_notice", days(31))
    for day in (31, 33, 35, 40):
        world.tick(days(day))
    assert not [s for s in world.steps(told) if s[0] == "board_notice"]
    assert [s[1] for s in world.steps(untold) if s[0] == "board_notice"] == [
        "before", "due", "route", "board"]
    with app.app_context():
        event = db.session.scalar(select(CaseEvent).where(
            CaseEvent.case_id == world.case(untold).id, CaseEvent.kind == "escalated",
            CaseEvent.detail.like("%Board notice%")))
        assert event is not None and not event.visible_to_reporter  # would tell the outcome
    notice = next(d for d in world.deadlines(untold, days(40)) if d.clock == "board_notice")
    assert notice.met_on == days(40) and not notice.met_in_time()


def test_no_board_notice_clock_without_a_substantiated_material_risk(world: World) -> None:
    number = world.new_case(D0)
    world.open_to_investigating(number, D0)
    world.act(number, "findings", days(30), outcome="not_substantiated", material=True)
    assert not [d for d in world.deadlines(number, days(30)) if d.clock == "board_notice"]


def test_a_case_opened_by_staff_owes_no_reporter_dates(world: World) -> None:
    number = world.new_case(D0, origin="staff")
    clocks = {d.clock for d in world.deadlines(number, D0)}
    assert clocks == {"feedback"}
    assert world.due(number)[:2] == (add_months(D0, 3), "feedback")


def write_policy(app: Flask, data: dict[str, object]) -> None:
    """Write the policy file and let the app store its versions, as the next request would."""
    path = Path(app.instance_path) / "deadline_policy.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    with app.app_context():
        assert deadlines.sync_policies(db.session, state_of(app).policy_source)


def test_working_days_with_holidays_and_versions_cases_keep(world: World, app: Flask) -> None:
    old = world.new_case(D0)
    friday = date(2031, 3, 7)
    write_policy(app, {"current": "wd-2031", "holidays": ["2031-03-10"],
                       "versions": {"wd-2031": {"acknowledge": {"working_days": 3},
                                                "ladder": {"before_days": 1}}}})
    new = world.new_case(friday)
    with app.app_context():
        assert world.case(old).deadline_policy_version == BUILT_IN_VERSION
        assert world.case(new).deadline_policy_version == "wd-2031"
    # Friday + 3 working days, skipping the weekend and Monday's holiday: Thursday.
    assert world.due(new) == (date(2031, 3, 13), "acknowledge", date(2031, 3, 12))
    assert world.due(old)[:2] == (days(7), "acknowledge")  # still 7 calendar days
    world.tick(date(2031, 3, 12))
    assert world.steps(new) == [("acknowledge", "before")]
    # The old case, on its own 7 calendar days (due 10 March), is two days late by then.
    assert world.steps(old) == [("acknowledge", s) for s in ("before", "due", "route")]


def test_policy_file_errors_are_clear(tmp_path: Path) -> None:
    path = tmp_path / "deadline_policy.json"
    for content, message in [
        ("not json", "not a valid deadline policy"),
        ('{"current": "x", "versions": {}}', "current version 'x'"),
        ('{"versions": {"v": {"acknowledge": {"weeks": 1}}}}', "'weeks' 1"),
        ('{"versions": {"v": {"acknowledge": {"days": -1}}}}', "positive number"),
        ('{"versions": {"v": {"colour": "red"}}}', "unknown settings: colour"),
        (f'{{"versions": {{"{BUILT_IN_VERSION}": {{}}}}}}', "reserved"),
    ]:
        path.write_text(content)
        with pytest.raises(PolicyError, match=message):
            load_policies(tmp_path)


def test_periods() -> None:
    assert Period(3, "months").after(date(2031, 11, 30), frozenset()) == date(2032, 2, 29)
    assert Period(72, "hours").after(D0, frozenset()) == days(3)
    assert Period(1, "working_days").after(date(2031, 3, 7), frozenset()) == date(2031, 3, 10)


def test_quarterly_pack_reminds_until_recorded(world: World, app: Flask) -> None:
    world.new_case(date(2031, 2, 1))
    world.tick(date(2031, 4, 27))
    with app.app_context():
        assert db.session.scalars(select(OrgDeadlineStep.step)).all() == []
    world.tick(date(2031, 4, 28))  # due 30 days after 31 March
    assert world.outbox()[-1] == (world.people.rso, "pending",
                                  "The quarterly pack for 2031-Q1 is due by 2031-04-30")
    with app.app_context():
        assert escalation.record_quarterly_pack(db.session, PACK, None, date(2031, 4, 29))
        assert not escalation.record_quarterly_pack(db.session, PACK, None, date(2031, 4, 29))
        db.session.commit()
    world.tick(date(2031, 5, 9))
    with app.app_context():
        assert sorted(db.session.scalars(select(OrgDeadlineStep.step))) == ["before", "met"]


def test_tick_command_reports_and_refuses_bad_moments(world: World,
                                                      runner: FlaskCliRunner) -> None:
    world.new_case(D0)
    first = runner.invoke(args=["tick", "--now", f"{days(9)}T08:00:00+01:00"])
    assert first.exit_code == 0, first.output
    assert "escalation_steps_taken: 3" in first.output
    again = runner.invoke(args=["tick", "--now", f"{days(9)}T08:00:00"])
    assert "escalation_steps_taken: 0" in again.output
    bad = runner.invoke(args=["tick", "--now", "next tuesday"])
    assert bad.exit_code != 0 and "not an ISO-8601" in bad.output
    assert "Traceback" not in bad.output


def test_unassigned_case_reminds_every_reader(world: World) -> None:
    people = world.people
    number = world.new_case(D0, assignee=False, readers=(people.rso, people.executive))
    world.tick(days(5))
    assert sorted(m[0] for m in world.outbox()) == [people.rso, people.executive]
    assert world.steps(number) == [("acknowledge", "before")]


def test_escalation_releases_only_escrow_grants(world: World, app: Flask) -> None:
    number = world.new_case(D0)
    world.tick(days(14))
    with app.app_context():
        grants = db.session.scalars(select(CaseGrant).where(
            CaseGrant.case_id == world.case(number).id)).all()
        assert {(g.kind, g.released_on) for g in grants} == {
            ("recipient", None), ("reporter", None), ("escrow", days(14))}
