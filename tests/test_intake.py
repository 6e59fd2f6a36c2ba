"""Reports taken by phone or in person (Directive Arts. 9(2), 18): the handler takes the report
down with the ordinary form (the codename is made on the client and handed over), marks the
case as taken down, and the reporter follows it with the codename, corrects the minutes by
message and agrees them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Case, CaseIntake
from app.roles import Role
from candor_reporter import protocol
from tests.support.casework import CaseworkClient
from tests.support.reporting import ReporterClient
from tests.support.staff import Account, StaffLogin
from tests.test_reporter_plain import OPEN, token
from tests.test_reporter_plain import open_case as open_plain

MINUTES = "Caller says the CBRN evaluation was skipped before launch on the 3rd."


@pytest.fixture
def rso(app: Flask, staff: StaffLogin) -> CaseworkClient:
    return CaseworkClient(app.test_client(), staff, staff.create("rso", Role.RSO))


def taken_down(app: Flask) -> tuple[str, str]:
    """The handler's browser files the minutes like any report; the codename is the reporter's."""
    handler_browser = ReporterClient(app.test_client())
    response, codename = handler_browser.submit(text=MINUTES)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["number"], codename


def mark(rso: CaseworkClient, number: str, channel: object = "phone"):  # type: ignore[no-untyped-def]
    return rso.post(f"/api/v1/staff/cases/{number}/intake", {"channel": channel})


def test_a_report_taken_by_phone_is_followed_corrected_and_agreed(
        app: Flask, rso: CaseworkClient) -> None:
    number, codename = taken_down(app)
    for bad in ("", "email", None, 3):
        assert mark(rso, number, bad).status_code == 400
    marked = mark(rso, number)
    assert marked.status_code == 201, marked.get_json()
    assert marked.get_json()["intake"] | {"taken_on": None} == {
        "channel": "phone", "taken_on": None, "taken_by": "rso", "minutes_agreed_on": None}
    assert mark(rso, number, "in_person").status_code == 400  # once

    # The reporter, elsewhere, with nothing but the codename.
    reporter = ReporterClient(app.test_client())
    view = reporter.open(codename).get_json()
    assert view["minutes"]["agreed_on"] is None and view["minutes"]["channel"] == "phone"
    opened = protocol.open_case(view, codename)
    assert [m.text for m in protocol.read_messages(view, opened) if m.kind == "report"] == [
        MINUTES]
    assert any(e["kind"] == "taken_on_behalf" for e in view["timeline"])
    correction = protocol.build_message(opened, "Correction: it was the 4th, not the 3rd.")
    assert reporter.post("/api/v1/reporter/messages", correction).status_code == 201
    agreed = reporter.post("/api/v1/reporter/minutes/agree", {})
    assert agreed.status_code == 200, agreed.get_json()
    assert agreed.get_json()["minutes"]["agreed_on"] is not None
    again = reporter.post("/api/v1/reporter/minutes/agree", {})
    assert again.status_code == 400 and "already" in again.get_json()["message"]

    staff_view = rso.case(number)
    assert staff_view["intake"]["minutes_agreed_on"] == agreed.get_json()["minutes"]["agreed_on"]
    assert rso.texts(staff_view)["message"] == ["Correction: it was the 4th, not the 3rd."]
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "case.minutes_agreed")).one()
        assert entry.actor == "reporter" and entry.occurred_at.time().isoformat() == "00:00:00"
        marked_entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "case.taken_on_behalf")).one()
        assert json.loads(marked_entry.detail) == {"channel": "phone"}


def test_only_a_fresh_report_can_be_marked(app: Flask, rso: CaseworkClient) -> None:
    number, codename = taken_down(app)
    reporter = ReporterClient(app.test_client())
    # A report without a recorded intake has no minutes to agree.
    assert reporter.open(codename).get_json()["minutes"] is None
    assert reporter.post("/api/v1/reporter/minutes/agree", {}).status_code == 400
    # Not one received earlier, nor one already acknowledged.
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.number == number)).one()
        case.received_on -= timedelta(days=1)
        db.session.commit()
    assert mark(rso, number).status_code == 400
    later, _ = taken_down(app)
    assert rso.acknowledge(later).status_code == 200
    assert mark(rso, later).status_code == 400
    # Nor by someone who cannot read it (it does not exist for them).
    with app.app_context():
        assert db.session.scalar(select(CaseIntake.id)) is None
    # Without a reporter session, agreeing is refused.
    assert ReporterClient(app.test_client()).post(
        "/api/v1/reporter/minutes/agree", {}).status_code == 401


def test_a_handler_who_cannot_read_the_case_cannot_mark_it(
        app: Flask, staff: StaffLogin, rso: CaseworkClient) -> None:
    executive: Account = staff.create("exec", Role.EXECUTIVE)
    number, _ = taken_down(app)  # to the RSO route
    outsider = CaseworkClient(app.test_client(), staff, executive)
    assert mark(outsider, number).status_code == 404


def test_the_minutes_are_agreed_without_javascript(app: Flask, rso: CaseworkClient) -> None:
    number, codename = taken_down(app)
    assert mark(rso, number, "in_person").status_code == 201
    browser = app.test_client()
    opened = open_plain(browser, codename)
    page = opened.get_data(as_text=True)
    assert opened.status_code == 200 and 'id="minutes-submit"' in page
    wrong = browser.post("/report/plain/minutes", data={
        "csrf_token": token(browser, OPEN), "codename": "not a codename at all"})
    assert wrong.status_code == 404
    agreed = browser.post("/report/plain/minutes", data={
        "csrf_token": token(browser, OPEN), "codename": codename})
    assert agreed.status_code == 200, agreed.get_data(as_text=True)
    assert "You agreed the minutes on" in agreed.get_data(as_text=True)
    assert rso.case(number)["intake"]["minutes_agreed_on"] is not None
    again = browser.post("/report/plain/minutes", data={
        "csrf_token": token(browser, OPEN), "codename": codename})
    assert again.status_code == 400 and "already agreed" in again.get_data(as_text=True)
