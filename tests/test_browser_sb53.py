"""SB 53 quarterly sharing in Chromium: the reporter's form names the officers and directors the
summary would reach (minus those ticked as concerned); a handler writes the quarter's share on
the case page, encrypted in the page; an officer reads it on their own page, decrypted with
their key; the director the report names sees nothing of it."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from app.extensions import db
from app.models import Case, OfficerShareGrant
from app.roles import Role
from app.services import deadlines
from tests.conftest import PageLog
from tests.support.staff import Account, StaffLogin
from tests.test_browser_cases import file_report, open_from_inbox, unlock

pytestmark = pytest.mark.browser

DISCLOSED = "The CBRN evaluation was skipped before the launch."
RESPONSE = "The launch was paused and the evaluation is being re-run."


@pytest.fixture
def people(staff: StaffLogin) -> dict[str, Account]:
    return {name: staff.create(name, *roles) for name, roles in (
        ("rso1", (Role.RSO,)), ("board1", (Role.BOARD,)), ("dir1", (Role.OFFICER,)),
        ("dir2", (Role.OFFICER,)))}


def test_the_report_form_says_who_the_summary_is_shared_with(
        page: Any, live_server: str, people: dict[str, Account]) -> None:
    page.goto(live_server + "/report/new")
    officers = page.locator("#sb53-officers li")
    expect(officers).to_have_text(["dir1, officer or director", "dir2, officer or director"])
    expect(page.locator("#readers-now li")).to_have_text(["rso1, Responsible Scaling Officer"])
    expect(page.locator("#readers-escalation li")).to_have_text(["board1, Board member"])
    page.check("#concerned-list label:has-text('dir1') input")
    expect(officers).to_have_text(["dir2, officer or director"])
    assert "shared with officers and directors at least quarterly" not in page.content()


def test_a_handler_writes_the_share_and_an_officer_reads_it(
        page: Any, page_log: PageLog, make_page: Any, live_server: str, app: Flask,
        people: dict[str, Account]) -> None:
    number, codename, reporter = file_report(app, text=DISCLOSED, sb53_disclosure=True,
                                             concerned_staff_ids=(people["dir1"].id,))
    unlock(page, live_server, people["rso1"])
    open_from_inbox(page, live_server, number)
    panel = page.locator("#sb53-panel")
    expect(panel).to_be_visible()
    expect(page.locator("#sb53-recipients li")).to_have_text(["dir2, officer or director"])
    expect(page.locator("#sb53-shares li")).to_have_text(["None yet."])

    page.fill("#sb53-disclosed", DISCLOSED)
    page.click("#sb53-form button[type=submit]")
    expect(page.locator("#sb53-form .error")).to_have_text("Say what the lab did or answered.")
    page.fill("#sb53-response", RESPONSE)
    page.click("#sb53-form button[type=submit]")
    expect(page.locator("#sb53-shares li")).to_have_count(1)
    expect(page.locator("#sb53-shares li")).to_contain_text("sealed to 1 person")
    expect(page.locator("#conversation li")).to_contain_text("SB 53 share")
    expect(page.locator("#timeline")).to_contain_text("Shared with officers and directors")

    expected = (f"What was disclosed:\n{DISCLOSED}\n\n"
                f"What the lab did or answered:\n{RESPONSE}")
    officer = make_page()
    unlock(officer, live_server, people["dir2"])
    officer.click("nav a:text('SB 53 shares')")
    shares = officer.locator("#shares li")
    expect(shares).to_have_count(1)
    expect(shares.locator(".record-text")).to_have_text(expected)
    expect(shares).to_contain_text(number)

    accused = make_page()
    unlock(accused, live_server, people["dir1"])
    accused.goto(live_server + "/staff/officer-shares")
    expect(accused.locator("#shares li")).to_have_text(["No share has been sealed to you yet."])

    messages = reporter.read(codename)
    assert [m.text for m in messages if m.purpose == deadlines.SB53_SHARE_PURPOSE] == [expected]
    with app.app_context():
        case_id = db.session.scalars(db.select(Case.id).where(Case.number == number)).one()
        sealed = db.session.scalars(db.select(OfficerShareGrant.staff_id)).all()
    assert sealed == [people["dir2"].id] and case_id

    page.goto(f"{live_server}/staff/deadlines/cases/{number}")
    rows = page.locator("#case-deadlines tbody tr")
    expect(rows.filter(has_text="SB 53 share")).to_contain_text("Met on")
