"""What a newcomer stumbled on in a first report, checked in Chromium: the codename shown whole
and copied easily, a receipt shown once, errors beside their field, a warning before leaving
unsaved work, and "Leave now" without JavaScript."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from app.extensions import db
from app.models import Case
from app.roles import Role
from tests.support.staff import StaffLogin

pytestmark = pytest.mark.browser

REPORT = "The dangerous-capability evaluation was run on an older checkpoint."


@pytest.fixture
def recipients(staff: StaffLogin) -> None:
    staff.create("rso1", Role.RSO)
    staff.create("board1", Role.BOARD)


def case_count(app: Flask) -> int:
    with app.app_context():
        return len(db.session.scalars(db.select(Case)).all())


def test_the_codename_without_javascript_never_breaks_inside_a_word(
        make_page: Any, live_server: str, app: Flask, recipients: None) -> None:
    # Narrow enough that the seven words take several lines.
    page = make_page(java_script_enabled=False, viewport={"width": 320, "height": 700})
    page.goto(live_server + "/report/plain/new")
    page.get_by_label("What is it about?").select_option("other")
    page.get_by_label("Your report", exact=True).fill(REPORT)
    page.get_by_role("button", name="Encrypt and send").click()
    words = page.locator("#codename .codename-word")
    expect(words).to_have_count(7)
    lines = {round(box["y"]) for box in (words.nth(i).bounding_box() for i in range(7))}
    assert len(lines) > 1, "the codename should wrap on a phone, between words"
    for index in range(7):  # each word is one box: not split across two lines
        assert words.nth(index).evaluate("w => w.getClientRects().length") == 1
    codename = page.locator("#codename").inner_text().strip()
    assert page.input_value("#codename-copy") == codename and len(codename.split()) == 7

    # Reloading shows the receipt no more and files nothing.
    assert page.reload().status == 410
    expect(page.locator("h1")).to_have_text("This receipt was shown once already")
    assert codename not in page.content()
    assert case_count(app) == 1

    # "Leave now" works without JavaScript too: the session ends and the page names nothing.
    page.click("#leave-now")
    page.wait_for_url("**/report/leave")
    assert page.title() == "" and page.locator("body").inner_text().strip() == ""


def test_an_empty_report_is_refused_beside_its_field_with_the_focus_there(
        page: Any, live_server: str, recipients: None) -> None:
    page.goto(live_server + "/report/new")
    expect(page.locator("#report-form")).to_be_visible()
    page.click("#report-submit")
    expect(page.locator("#category-error")).to_have_text("Choose what the report is about.")
    assert page.evaluate("document.activeElement.id") == "category"
    assert page.get_attribute("#category", "aria-invalid") == "true"
    assert "category-error" in page.get_attribute("#category", "aria-describedby")
    expect(page.locator("#report-error")).to_be_hidden()

    page.select_option("#category", "other")
    page.click("#report-submit")
    expect(page.locator("#category-error")).to_be_hidden()
    assert page.get_attribute("#category", "aria-invalid") is None
    expect(page.locator("#report-text-error")).to_have_text("Write what happened before sending.")
    assert page.evaluate("document.activeElement.id") == "report-text"


def before_unload_dialogs(page: Any) -> list[str]:
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.type)
        dialog.dismiss()  # stay on the page

    page.on("dialog", answer)
    return asked


def test_leaving_with_a_half_written_report_or_an_unsaved_codename_asks_first(
        make_page: Any, live_server: str, recipients: None) -> None:
    page = make_page()
    asked = before_unload_dialogs(page)
    page.goto(live_server + "/report/new")
    expect(page.locator("#report-form")).to_be_visible()
    page.close(run_before_unload=True)  # nothing typed: no question
    assert asked == []

    page = make_page()
    asked = before_unload_dialogs(page)
    page.goto(live_server + "/report/new")
    page.select_option("#category", "other")
    page.fill("#report-text", REPORT)
    page.close(run_before_unload=True)
    expect(page.locator("#report-text")).to_have_value(REPORT)
    assert asked == ["beforeunload"]

    page.click("#report-submit")
    expect(page.locator("#receipt-codename")).to_be_visible()
    page.close(run_before_unload=True)
    expect(page.locator("#receipt-codename")).to_be_visible()
    assert asked == ["beforeunload", "beforeunload"]
    page.check("#codename-saved")
    page.click("#receipt-continue")  # saved: leaves without a question
    page.wait_for_url("**/report/case?sent=1")
    assert asked == ["beforeunload", "beforeunload"]


def test_a_closed_case_tells_the_reporter_where_to_go_next(
        page: Any, live_server: str, app: Flask, recipients: None) -> None:
    from tests.support.reporting import ReporterClient
    from tests.test_browser_reporter import open_case

    _answer, codename = ReporterClient(app.test_client()).submit(REPORT)
    open_case(page, live_server, codename)
    expect(page.locator("#case-closed")).to_be_hidden()
    expect(page.locator("#case-status")).to_have_text("Received, waiting to be acknowledged")
    with app.app_context():
        case = db.session.scalars(db.select(Case)).one()
        case.status = "closed"
        db.session.commit()
    open_case(page, live_server, codename)
    expect(page.locator("#case-closed")).to_be_visible()
    expect(page.locator("#case-status")).to_have_text("Closed")
    expect(page.locator("#outside-channels")).to_contain_text("California Attorney General")


def test_the_page_refuses_a_report_about_the_rso_no_board_member_could_read(
        page: Any, live_server: str, app: Flask, staff: StaffLogin) -> None:
    staff.create("rso1", Role.RSO)
    staff.create("exec1", Role.EXECUTIVE)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url))
    page.goto(live_server + "/report/new")
    expect(page.locator("#report-form")).to_be_visible()
    page.get_by_label("An executive outside the RSO's line").check()
    page.check("#concerns-rso")
    expect(page.locator("#readers-error")).to_contain_text("must reach a member of the Board")
    page.select_option("#category", "other")
    page.fill("#report-text", REPORT)
    page.click("#report-submit")
    expect(page.locator("#report-error")).to_contain_text("outside channels")
    assert not [url for url in sent if url.endswith("/api/v1/reports")]
    assert case_count(app) == 0
