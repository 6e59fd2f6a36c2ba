"""After "Leave now", no earlier cookie of that reporter session opens anything or can post,
however it was copied, and the server keeps nothing that dates the reporter's leaving more
finely than the day (issue 16, finding 4)."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect, select

from app.api.reports import RETALIATION_SESSION_ENDED
from app.extensions import db
from app.models import EndedReporterSession, PendingReceipt
from app.roles import Role
from candor_reporter import protocol
from tests.support.reporting import ReporterClient
from tests.support.staff import StaffLogin

COOKIE = "candor_reporter"


@pytest.fixture
def recipients(staff: StaffLogin) -> None:
    for name, role in (("rso1", Role.RSO), ("board1", Role.BOARD)):
        staff.create(name, role)


def cookie_of(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def browser_with(app: Flask, cookie: str) -> FlaskClient:
    """Another browser holding a copy of a reporter cookie."""
    other = app.test_client()
    other.set_cookie(COOKIE, cookie)
    return other


def copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    return browser_with(app, cookie_of(client))


def opens_a_case(copy: FlaskClient) -> bool:
    return copy.get("/api/v1/reporter/case").status_code == 200


def posts_a_message(copy: FlaskClient, token: str, opened: protocol.OpenedCase) -> int:
    message = protocol.build_message(opened, "Sent with a copied cookie.")
    return copy.post("/api/v1/reporter/messages", json=message,
                     headers={"X-CSRFToken": token}).status_code


def test_leave_now_ends_every_copy_of_the_session(app: Flask, client: FlaskClient,
                                                  recipients: None) -> None:
    reporter = ReporterClient(client)
    _filed, first_codename = reporter.submit("The first report.")
    view = reporter.open(first_codename).get_json()
    opened = protocol.open_case(view, first_codename)
    copies = [(cookie_of(client), reporter.token)]  # taken while the first case is open
    # A retaliation report opens a new case in the same session: cookies of both belong to it.
    body, _codename = reporter.build(protocol.NewReport("rso", "retaliation", "Moved off."))
    assert reporter.post("/api/v1/reports",
                         {**body, "retaliation_for_open_case": True}).status_code == 201
    assert reporter.client.get("/api/v1/reporter/case").status_code == 200  # refreshed
    copies.append((cookie_of(client), reporter.token))
    # The copies work until the reporter leaves.
    assert all(opens_a_case(browser_with(app, copy)) for copy, _token in copies)
    assert posts_a_message(browser_with(app, copies[0][0]), copies[0][1], opened) == 201

    assert reporter.post("/api/v1/reporter/leave", {}).status_code == 200

    for copy, token in copies:
        # Each check from the cookie as it was copied (a refused answer clears the copy).
        assert posts_a_message(browser_with(app, copy), token, opened) == 401  # token good, no case
        assert not opens_a_case(browser_with(app, copy))
        assert "Your session on your first report has ended" in browser_with(app, copy).get(
            "/report/new?retaliation=1").get_data(as_text=True)
        report, _codename = ReporterClient(app.test_client()).build(
            protocol.NewReport("rso", "retaliation", "Moved off again."))
        refused = browser_with(app, copy).post(
            "/api/v1/reports", json={**report, "retaliation_for_open_case": True},
            headers={"X-CSRFToken": token})
        assert refused.status_code == 400
        assert refused.get_json()["message"] == RETALIATION_SESSION_ENDED
    assert not opens_a_case(client)
    # The reporter (or anyone with the codename) can open the case again, in a new session.
    reporter.token = client.get("/api/v1/session").get_json()["csrf_token"]
    assert reporter.open(first_codename).status_code == 200


def test_what_is_kept_of_an_ended_session_dates_it_by_the_day_only(
        app: Flask, client: FlaskClient, recipients: None) -> None:
    reporter = ReporterClient(client)
    _filed, codename = reporter.submit()
    reporter.open(codename)
    sealed = client.get_cookie(COOKIE).value.encode()
    copy = copy_of(app, client)
    assert reporter.post("/api/v1/reporter/leave", {}).status_code == 200
    # Pressed again from a copy: remembered once.
    assert copy.post("/api/v1/reporter/leave", json={},
                     headers={"X-CSRFToken": reporter.token}).status_code == 200
    with app.app_context():
        columns = {c["name"]: type(c["type"]).__name__.lower()
                   for c in inspect(db.engine).get_columns("ended_reporter_sessions")}
        assert set(columns) == {"digest", "forget_after"}
        assert "date" in columns["forget_after"] and "time" not in columns["forget_after"]
        [row] = db.session.scalars(select(EndedReporterSession)).all()
        assert isinstance(row.forget_after, date)
        assert row.digest not in sealed


def test_leaving_without_a_case_open_keeps_nothing(app: Flask, client: FlaskClient) -> None:
    reporter = ReporterClient(client)
    assert reporter.post("/api/v1/reporter/leave", {}).status_code == 200
    with app.app_context():
        assert db.session.scalars(select(EndedReporterSession)).all() == []


def test_leave_now_without_scripts_ends_the_session_too(app: Flask, client: FlaskClient,
                                                        recipients: None) -> None:
    """The no-JavaScript pages' "Leave now" is a plain link: following it ends every copy of
    the session, as the API's leave does, and lands on a page that names nothing."""
    reporter = ReporterClient(client)
    _filed, codename = reporter.submit()
    reporter.open(codename)
    copy = cookie_of(client)
    page = client.get("/report/plain/open").get_data(as_text=True)
    assert 'href="/report/leave"' in page
    left = client.get("/report/leave")
    assert left.status_code == 200
    assert "Candor" not in left.get_data(as_text=True)
    assert left.headers["Cache-Control"] == "no-store"
    assert not opens_a_case(browser_with(app, copy))
    assert not opens_a_case(client)



def test_leave_now_ends_a_receipt_waiting_in_a_copy(app: Flask, client: FlaskClient,
                                                    recipients: None) -> None:
    """A report sent without scripts leaves its receipt's claim in the cookie until the receipt
    page is shown. Leaving deletes that receipt, so a copy of the cookie shows nothing; and a
    copy holding a claim is refused once its session has ended, even if another cookie of the
    session (without the claim) was the one that left."""
    from tests.test_reporter_plain import NEW, open_case, report_form, submit

    def send_without_scripts(browser: FlaskClient) -> None:
        assert browser.post(NEW, data=report_form(browser)).status_code == 303

    def shows_a_receipt(copy: str) -> bool:
        return browser_with(app, copy).get("/report/plain/receipt").status_code == 200

    send_without_scripts(client)  # no case open: the cookie holds the claim and no session id
    copy = cookie_of(client)
    assert client.get("/report/leave").status_code == 200
    assert not shows_a_receipt(copy)
    with app.app_context():
        assert db.session.scalars(select(PendingReceipt)).all() == []

    reporter = app.test_client()
    _response, codename = submit(reporter)
    assert open_case(reporter, codename).status_code == 200  # a session with an identifier
    before = cookie_of(reporter)
    send_without_scripts(reporter)
    with_claim = cookie_of(reporter)
    assert browser_with(app, before).get("/report/leave").status_code == 200
    assert not shows_a_receipt(with_claim)
