"""The handler's status-update and feedback forms in Chromium: each asks for both of its parts,
encrypts them in the page, and meets its own clock; the reporter reads what each message is and
when the next update is due."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from app.models import today
from app.services.deadline_policy import add_months
from tests.conftest import PageLog
from tests.support.dump import database_dump
from tests.support.staff import Account
from tests.test_browser_cases import file_report, open_from_inbox, people, step, unlock

pytestmark = pytest.mark.browser
__all__ = ["people"]  # the fixture, shared with the other case-handling browser tests

STATUS = "We have interviewed the evaluation team and collected the run logs."
ACTIONS = "The launch is on hold until the evaluations have been re-run."
ENVISAGED = "The evaluations will be re-run by an independent team."
GROUNDS = "The skipped run left the CBRN uplift risk unmeasured."


def test_the_handler_writes_a_status_update_and_feedback(
        page: Any, page_log: PageLog, live_server: str, app: Flask,
        people: dict[str, Account]) -> None:
    number, codename, reporter = file_report(app, text="The CBRN evaluation was skipped.")
    unlock(page, live_server, people["rso1"])
    open_from_inbox(page, live_server, number)
    expect(page.locator("#feedback-form")).to_be_hidden()  # nothing to feed back on yet
    step(page, "action-acknowledge", "Acknowledged")
    on = today()
    meta = page.locator("#case-meta")
    received = date.fromisoformat(reporter.open(codename).get_json()["received_on"])
    # The next update is due 30 days after receipt (dates are shown as <time datetime=...>).
    expect(meta.locator(f"time[datetime='{received + timedelta(days=30)}']")).to_be_visible()

    # The update asks for both parts; a half-written one is not sent.
    page.fill("#update-status", STATUS)
    page.click("#update-form button[type=submit]")
    expect(page.locator("#update-form .error")).to_have_text(
        "Say what has been done since the last update.")
    page.fill("#update-actions", ACTIONS)
    page.click("#update-form button[type=submit]")
    expect(page.locator("#conversation li")).to_have_count(1)
    expect(page.locator("#conversation li")).to_contain_text("Status update")
    expect(page.locator("#conversation li")).to_contain_text(ACTIONS)
    expect(page.locator(f"#update-due time[datetime='{on + timedelta(days=30)}']")
           ).to_be_visible()
    expect(page.locator(f"#feedback-due time[datetime='{add_months(on, 3)}']")).to_be_visible()

    page.fill("#feedback-grounds", GROUNDS)
    page.click("#feedback-form button[type=submit]")
    expect(page.locator("#feedback-form .error")).to_have_text(
        "Say what action is planned or was taken.")
    page.fill("#feedback-action", ENVISAGED)
    page.click("#feedback-form button[type=submit]")
    expect(page.locator("#conversation li")).to_have_count(2)
    expect(page.locator("#conversation li").nth(1)).to_contain_text("Feedback")
    expect(page.locator("#timeline")).to_contain_text("Feedback to the reporter by rso1")

    # The reporter reads each message as what it is; both clocks are met.
    view = reporter.open(codename).get_json()
    messages = [m for m in reporter.read(codename) if m.author == "staff"]
    assert [(m.purpose, m.text) for m in messages] == [
        ("update", f"Status of the investigation:\n{STATUS}\n\nActions taken:\n{ACTIONS}"),
        ("feedback", f"Action envisaged or taken:\n{ENVISAGED}\n\nGrounds:\n{GROUNDS}")]
    assert view["next_update_by"] == str(on + timedelta(days=30))
    timeline = [e["detail"] for e in view["timeline"]]
    assert "You have a status update on the investigation." in timeline
    page.goto(f"{live_server}/staff/deadlines/cases/{number}")
    rows = page.locator("#case-deadlines tbody tr")
    expect(rows.filter(has_text="feedback to the reporter")).to_contain_text(f"Met on {on}")

    dump = database_dump(app)
    sent = b"\n".join(r.url.encode() + (r.post_data_buffer or b"") for r in page_log.requests)
    for text in (STATUS, ACTIONS, ENVISAGED, GROUNDS):
        assert text.encode() not in dump and text.encode() not in sent
    assert page_log.console_errors == []
