"""The whole no-JavaScript journey in Chromium with JavaScript turned off."""

from __future__ import annotations

from typing import Any

import pytest

from app.roles import Role
from tests.support.staff import StaffLogin

pytestmark = pytest.mark.browser

REPORT = "Model weights were copied to a personal bucket during the October migration."
REPLY = "The bucket name starts with tmp-export."


def test_report_come_back_and_reply_without_javascript(
        make_page: Any, live_server: str, staff: StaffLogin) -> None:
    staff.create("rso1", Role.RSO)
    staff.create("exec1", Role.EXECUTIVE)
    staff.create("board1", Role.BOARD)

    page = make_page(java_script_enabled=False)
    assert page.goto(live_server + "/report/plain/new").status == 200
    readers = page.locator("#readers")
    assert "rso1" in readers.inner_text() and "exec1" not in readers.inner_text()

    page.get_by_label("An executive outside the RSO's line").check()
    page.get_by_role("button", name="Show who would read it").click()
    assert "exec1" in page.locator("#readers").inner_text()
    assert "rso1" not in page.locator("#readers").inner_text()

    page.get_by_label("What is it about?").select_option("weights-security")
    page.get_by_label("Your report", exact=True).fill(REPORT)
    page.get_by_label("I believe this involves a material safety risk").check()
    page.get_by_role("button", name="Encrypt and send").click()
    assert page.locator("h1").inner_text() == "Your report was sent"
    codename = page.locator("#codename").inner_text().strip()
    number = page.locator("#case-number").inner_text().strip()
    assert len(codename.split()) == 7 and number.startswith("C-")
    assert codename not in page.url

    later = make_page(java_script_enabled=False)  # another session: only the codename carries over
    later.goto(live_server + "/report/plain/open")
    later.get_by_label("Your codename").fill(codename)
    later.get_by_role("button", name="Open my report").click()
    assert later.locator("h1").inner_text() == f"Case {number}"
    assert REPORT in later.locator("#messages").inner_text()
    assert codename not in later.url

    later.get_by_label("Your message").fill(REPLY)
    later.get_by_role("button", name="Encrypt and send").click()
    assert "Your message was sent." in later.content()
    conversation = later.locator("#messages").inner_text()
    assert REPORT in conversation and REPLY in conversation
    cookies = str(later.context.cookies()) + str(page.context.cookies())
    assert codename not in cookies


def test_a_wrong_codename_is_refused_without_javascript(
        make_page: Any, live_server: str, staff: StaffLogin) -> None:
    staff.create("rso1", Role.RSO)
    page = make_page(java_script_enabled=False)
    page.goto(live_server + "/report/plain/open")
    page.get_by_label("Your codename").fill("abacus " * 7)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Open my report").click()
    assert navigation.value.status == 404
    assert "No report matches this codename" in page.content()
