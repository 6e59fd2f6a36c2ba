"""What meets each legal clock, and only that: a status update written to the reporter (SB 53),
feedback on the action and its grounds (EU Directive), the outcome at closure, the notice of a
critical safety incident to the authority (B&P §22757.13(c)), triage and the start of the
investigation; the feedback date that waiting never moves; retaliation risk assessed again."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Case, CaseExclusion, CaseRecord, StaffUser
from app.services import cases, deadlines
from app.services.deadline_policy import FIRST_BUILT_IN_VERSION, add_months
from crypto.envelope import CaseKey, RecordKind, encrypt_record
from tests.support.deadline_world import D0, Clock, World, days
from tests.support.staff import StaffLogin, csrf_token
from tests.test_deadlines_pages import signed_in


def clock_of(world: World, number: str, name: str, on: object) -> list[deadlines.Deadline]:
    return [d for d in world.deadlines(number, on) if d.clock == name]  # type: ignore[arg-type]


def reporter_dates(world: World, number: str, on: object) -> dict[str, str | None]:
    with world.app.app_context():
        return deadlines.reporter_dates(world.case(number), db.session, on=on)  # type: ignore[arg-type]


def give_identity(world: World, number: str) -> None:
    with world.app.app_context():
        case = world.case(number)
        ref = "r-" + secrets.token_hex(16)
        case.identity_given = True
        case.records.append(CaseRecord(
            record_ref=ref, kind="identity", author="reporter", visible_to_reporter=True,
            created_on=D0, key_epoch=1, ciphertext=encrypt_record(
                CaseKey.generate(), RecordKind.IDENTITY, case.case_ref, ref, b"Ada")))
        db.session.commit()


def test_only_a_status_update_meets_the_monthly_clock(world: World, app: Flask) -> None:
    number = world.new_case(D0)
    give_identity(world, number)
    world.open_to_investigating(number, days(1))
    world.write(number, days(5))  # a plain message
    world.clock.day = days(6)
    with app.app_context():  # an identity-reveal notice the reporter sees
        case = world.case(number)
        cases.reveal_identity(db.session, case, db.session.get(StaffUser, world.people.rso))
        db.session.commit()
    world.act(number, "wait", days(7))  # another event the reporter sees
    first = clock_of(world, number, "status_update", days(8))
    assert [(d.starts_on, d.due_on, d.met_on) for d in first] == [(D0, days(30), None)]
    assert reporter_dates(world, number, days(8))["next_update_by"] == str(days(30))

    world.tick(days(30))
    assert ("status_update", "due") in world.steps(number)
    world.write(number, days(31), "update")
    cycles = clock_of(world, number, "status_update", days(31))
    assert [(d.due_on, d.met_on) for d in cycles] == [(days(30), days(31)), (days(61), None)]
    assert not cycles[0].met_in_time()
    assert reporter_dates(world, number, days(31))["next_update_by"] == str(days(61))
    # Feedback is an update too (it tells the actions taken); it restarts the cycle.
    world.write(number, days(40), "feedback")
    assert reporter_dates(world, number, days(40))["next_update_by"] == str(days(70))


def test_only_feedback_meets_the_feedback_clock_whose_date_never_moves(world: World) -> None:
    number = world.new_case(D0)
    with pytest.raises(cases.CaseActionRejected, match="Acknowledge"):
        world.write(number, days(1), "feedback")
    world.open_to_investigating(number, days(1))
    due = add_months(days(1), 3)
    world.act(number, "wait", days(5))
    world.reporter_writes(number, days(50))
    world.act(number, "wait", days(51))
    world.act(number, "findings", days(60))
    world.write(number, days(61))
    world.write(number, days(62), "update")
    (feedback,) = clock_of(world, number, "feedback", days(62))
    assert feedback.is_open and feedback.due_on == due  # not the findings, nor an update
    assert feedback.waiting_since == days(51)
    world.tick(due + timedelta(days=2))  # waiting holds nothing back: the ladder runs
    assert ("feedback", "route") in world.steps(number)
    assert reporter_dates(world, number, due)["feedback_by"] == str(due)

    world.write(number, due + timedelta(days=3), "feedback")
    (feedback,) = clock_of(world, number, "feedback", due + timedelta(days=3))
    assert feedback.met_on == due + timedelta(days=3) and feedback.due_on == due
    assert not feedback.met_in_time()


def test_closure_tells_the_reporter_the_outcome_which_meets_feedback(world: World,
                                                                     app: Flask) -> None:
    number = world.new_case(D0)
    world.open_to_investigating(number, days(1))
    world.act(number, "findings", days(20))
    world.act(number, "corrective_action", days(21))
    world.clock.day = days(22)
    with app.app_context():
        case = world.case(number)
        actor = db.session.get(StaffUser, world.people.rso)
        with pytest.raises(cases.CaseActionRejected, match="outcome"):
            cases.close(db.session, case, actor, world.people.rso)  # type: ignore[arg-type]
        db.session.rollback()
    world.act(number, "close", days(22))
    (feedback,) = clock_of(world, number, "feedback", days(22))
    assert feedback.met_on == days(22)
    with app.app_context():
        case = world.case(number)
        outcome = [r for r in case.records if r.purpose == "outcome"]
        assert len(outcome) == 1 and outcome[0].visible_to_reporter
        closing = [e.detail for e in case.events if e.kind == "close"]
        assert closing == [cases.REPORTER_SENTENCES["close"]]
        assert "where you can turn next" in closing[0]
        findings = [e.detail for e in case.events if e.kind == "findings"]
        assert "reached its findings" not in findings[0]


def test_triage_and_start_of_investigation_have_clocks(world: World, app: Flask) -> None:
    number = world.new_case(D0)
    world.act(number, "acknowledge", days(1))
    assert world.due(number)[:2] == (days(8), "triage")
    world.tick(days(8))
    assert ("triage", "due") in world.steps(number)
    world.act(number, "triage", days(9))
    (triage,) = clock_of(world, number, "triage", days(9))
    assert triage.met_on == days(9) and not triage.met_in_time()
    (start,) = clock_of(world, number, "investigation_start", days(9))
    assert start.is_open and start.due_on == days(23)
    world.act(number, "investigate", days(12))
    (start,) = clock_of(world, number, "investigation_start", days(12))
    assert start.met_on == days(12) and start.met_in_time()

    # A case opened under the first built-in version keeps it: no such clocks.
    older = world.new_case(D0)
    with app.app_context():
        world.case(older).deadline_policy_version = FIRST_BUILT_IN_VERSION
        db.session.commit()
    world.act(older, "acknowledge", days(1))
    assert not clock_of(world, older, "triage", days(30))


def test_a_critical_incident_runs_its_clocks_to_the_people_the_policy_names(
        world: World, app: Flask) -> None:
    people = world.people
    number = world.new_case(D0)
    excluded = world.new_case(D0)
    with app.app_context():  # the executive is named as concerned in the second report
        concerned = world.case(excluded)
        concerned.exclusions.append(CaseExclusion(staff_id=people.executive))
        db.session.commit()
    world.clock.day = days(2)
    with app.app_context():
        for flagged in (number, excluded):
            deadlines.flag_critical_incident(db.session, world.case(flagged),
                                             db.session.get(StaffUser, people.rso),
                                             imminent_risk=False)
        db.session.commit()
    (incident,) = clock_of(world, number, "critical_incident", days(2))
    assert (incident.starts_on, incident.due_on) == (days(2), days(17))
    assert world.due(number)[2] == days(2)  # the ladder looks at once
    world.tick(days(2))
    assert ("critical_incident", "before") in world.steps(number)
    told = {(staff_id, subject.split()[1]) for staff_id, _s, subject in world.outbox()
            if "authority" in subject}
    # Readers and the named roles (RSO, executive); never someone the case excludes.
    assert told == {(people.rso, number), (people.executive, number), (people.rso, excluded)}

    # Imminent risk of death or serious injury: 24 hours from when that is known.
    world.clock.day = days(3)
    with app.app_context():
        deadlines.flag_critical_incident(db.session, world.case(number),
                                         db.session.get(StaffUser, people.rso),
                                         imminent_risk=True)
        db.session.commit()
    (imminent,) = clock_of(world, number, "incident_imminent", days(3))
    assert imminent.due_on == days(4)
    world.tick(days(5))
    assert ("incident_imminent", "route") in world.steps(number)

    world.clock.day = days(5)
    with app.app_context():
        case, rso = world.case(number), db.session.get(StaffUser, people.rso)
        for when, reference, message in ((days(6), "AG-1", "between"),
                                         (days(4), " ", "reference"),
                                         (days(4), "AG\x00", "reference")):
            with pytest.raises(deadlines.DeadlineActionRejected, match=message):
                deadlines.record_authority_notice(db.session, case, rso,  # type: ignore[arg-type]
                                                  when, reference)
        deadlines.record_authority_notice(db.session, case, rso,  # type: ignore[arg-type]
                                          days(4), "AG-2031-0017")
        db.session.commit()
        assert world.case(number).authority_reference == "AG-2031-0017"
        details = db.session.scalars(select(AuditEntry.detail).where(
            AuditEntry.action == "case.authority_notified")).all()
        assert len(details) == 1 and "AG-2031" not in (details[0] or "")
    (imminent,) = clock_of(world, number, "incident_imminent", days(5))
    assert imminent.met_on == days(4) and imminent.met_in_time()
    before = len(world.steps(number))
    world.tick(days(9))
    assert len([s for s in world.steps(number) if "incident" in s[0]]) == len(
        [s for s in world.steps(number)[:before] if "incident" in s[0]])

    # The other case is never notified: its ladder reaches the Board tier, and the reporter
    # sees an escalation without being told it is about an incident.
    world.tick(days(24))
    assert ("critical_incident", "board") in world.steps(excluded)
    with app.app_context():
        shown = [e.detail for e in world.case(excluded).events
                 if e.kind == "escalated" and e.visible_to_reporter]
        assert "Escalated to the Board tier: a deadline was missed." in shown
        assert not any("authority" in (d or "") for d in shown)


def test_the_incident_and_risk_forms_on_the_case_deadlines_page(
        world: World, staff: StaffLogin, clock: Clock) -> None:
    number = world.new_case(D0)
    world.open_to_investigating(number, D0)
    clock.day = days(1)
    client = signed_in(world, staff, "rso1")
    url = f"/staff/deadlines/cases/{number}"
    token = csrf_token(client, url)
    assert client.post(f"{url}/critical-incident", data={}).status_code == 400  # no CSRF
    assert client.post(f"{url}/authority-notice", data={
        "csrf_token": token, "notified_on": str(days(1)),
        "reference": "AG-1"}).status_code == 409  # not flagged yet
    assert client.post(f"{url}/critical-incident", data={
        "csrf_token": token, "imminent_risk": "y"}).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "notice to the authority within 24 hours" in page and str(days(2)) in page
    bad = client.post(f"{url}/authority-notice", data={
        "csrf_token": token, "notified_on": "tomorrow", "reference": "AG-1"})
    assert bad.status_code == 400 and "valid date" in bad.get_data(as_text=True)
    assert client.post(f"{url}/authority-notice", data={
        "csrf_token": token, "notified_on": str(days(1)),
        "reference": "AG-2031-9"}).status_code == 302
    assert "reference AG-2031-9" in client.get(url).get_data(as_text=True)

    assert client.post(f"{url}/retaliation-risk", data={
        "csrf_token": token, "retaliation_risk": "extreme"}).status_code == 400
    for day, risk in ((2, "high"), (3, "medium")):
        clock.day = days(day)
        assert client.post(f"{url}/retaliation-risk", data={
            "csrf_token": token, "retaliation_risk": risk}).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assessments = page[page.index('id="risk-assessments"'):page.index('id="risk-form"')]
    assert re.findall(r"<li>(.*?)</li>", assessments) == [
        f"{D0}: low", f"{days(2)}: high", f"{days(3)}: medium"]


def test_retaliation_risk_is_assessed_again_after_closure(world: World, app: Flask) -> None:
    number = world.new_case(D0)
    world.open_to_investigating(number, D0)
    world.act(number, "findings", days(10))
    world.act(number, "corrective_action", days(11))
    world.act(number, "close", days(12))
    world.clock.day = days(100)
    with app.app_context():
        case = world.case(number)
        rso = db.session.get(StaffUser, world.people.rso)
        with pytest.raises(cases.CaseActionRejected):
            cases.assess_retaliation_risk(db.session, case, rso, "severe")  # type: ignore[arg-type]
        cases.assess_retaliation_risk(db.session, case, rso, "high")  # type: ignore[arg-type]
        db.session.commit()
        case = world.case(number)
        assert case.retaliation_risk == "high"
        assert [(e.occurred_on, e.detail, e.visible_to_reporter) for e in case.events
                if e.kind == "retaliation_risk_assessed"] == [(D0, "low", False),
                                                              (days(100), "high", False)]
    assert "case.retaliation_risk_assessed" in world.audit_actions(number)


def test_the_reporter_can_flag_a_critical_incident_when_filing(app: Flask,
                                                              staff: StaffLogin) -> None:
    from app.roles import Role
    from tests.support.reporting import ReporterClient

    staff.create("rso", Role.RSO)
    reporter = ReporterClient(app.test_client())
    response, codename = reporter.submit(critical_incident=True, imminent_risk=True)
    assert response.status_code == 201, response.get_json()
    plain, _ = reporter.submit()
    bad, _ = reporter.submit(imminent_risk="yes")
    assert bad.status_code == 400
    with app.app_context():
        number = response.get_json()["number"]
        case = db.session.scalar(select(Case).where(Case.number == number))
        assert case is not None and case.critical_incident and case.imminent_risk
        assert case.critical_incident_on == case.received_on
        assert (case.next_due_clock, case.next_due_on) == (
            "incident_imminent", case.received_on + timedelta(days=1))
        flagged = [e for e in case.events if e.kind == "critical_incident_flagged"]
        assert [(e.detail, e.visible_to_reporter, e.actor_staff_id) for e in flagged] == [
            ("by the reporter, imminent risk", False, None)]
        other = db.session.scalar(select(Case).where(
            Case.number == plain.get_json()["number"]))
        assert other is not None and not other.critical_incident
        assert other.critical_incident_on is None
    # The reporter's own view says nothing of it beyond what they chose.
    assert "critical" not in str(reporter.open(codename).get_json()["timeline"])


def test_an_upgrade_invents_no_missed_deadline(world: World, app: Flask,
                                              runner: FlaskCliRunner) -> None:
    """Before messages had a purpose, any message met the status-update clock and closing met
    the feedback clock; what was done then still counts, what is done now must be right."""
    number = world.new_case(D0)
    world.open_to_investigating(number, days(1))
    world.write(number, days(10))
    closed = world.new_case(D0)
    world.open_to_investigating(closed, days(1))
    world.act(closed, "findings", days(20))
    world.act(closed, "corrective_action", days(21))
    with app.app_context():  # closed as the previous release allowed: no outcome message
        case = world.case(closed)
        case.status, case.closed_on = "closed", days(22)
        db.session.commit()
    for target in ("0011", "head"):
        result = runner.invoke(args=["db", "downgrade" if target == "0011" else "upgrade",
                                     target])
        assert result.exit_code == 0, result.output
    with app.app_context():
        assert [r.purpose for r in world.case(number).records if r.author == "staff"] == [
            "legacy"]
    updates = clock_of(world, number, "status_update", days(12))
    assert [(d.starts_on, d.met_on) for d in updates] == [(D0, days(10)), (days(10), None)]
    (feedback,) = clock_of(world, closed, "feedback", days(40))
    assert feedback.met_on == days(22)
    assert [d.clock for d in world.deadlines(closed, days(40)) if d.is_open] == [
        "checkin", "checkin"]
    # From now on a plain message counts for nothing.
    world.write(number, days(13))
    assert clock_of(world, number, "status_update", days(13))[-1].starts_on == days(10)
