"""What a newcomer stumbled on in the staff pages, checked in Chromium: the TOTP QR code shown
whole, the invitation link copied whole, and the inbox on a phone."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from app.roles import Role
from tests.support.reporting import ReporterClient
from tests.support.staff import StaffLogin
from tests.test_browser_cases import unlock
from tests.test_browser_staff import PASSWORD, sign_in

pytestmark = pytest.mark.browser


def test_the_totp_qr_code_is_shown_whole(page: Any, live_server: str,
                                         staff: StaffLogin) -> None:
    account = staff.create("rso-qr", Role.RSO, password=PASSWORD, enrolled=False)
    sign_in(page, live_server, account.username, PASSWORD)
    page.wait_for_url("**/auth/enrol")
    svg = page.locator(".qr svg")
    view_box = [float(n) for n in svg.get_attribute("viewBox").split()]
    shown = svg.bounding_box()
    figure = page.locator(".qr").bounding_box()
    # Drawn whole in its box: scaled as one piece, not cut at the box's edge.
    assert shown["width"] <= figure["width"] + 0.5
    assert abs(shown["width"] / shown["height"] - view_box[2] / view_box[3]) < 0.01
    assert svg.evaluate("s => s.scrollWidth <= s.clientWidth && s.scrollHeight <= s.clientHeight")
    assert shown["width"] >= 180  # large enough for a phone's camera


def test_the_invitation_link_is_copied_whole(page: Any, live_server: str,
                                             staff: StaffLogin) -> None:
    admin = staff.create("admin-copy", Role.ADMIN, password=PASSWORD)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, live_server, admin.username, PASSWORD, admin.totp_now())
    page.wait_for_url("**/staff/")
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(live_server + "/staff/admin/staff")
    page.fill("#username", "invitee")
    page.check("input[value=executive]")
    page.click("form[action$='/invite'] button[type=submit]")
    link = page.input_value("#invitation-url")
    page.click("#copy-invitation")
    expect(page.locator("#copy-invitation-status")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == link
    assert link.startswith(live_server + "/auth/activate#")


def test_on_a_phone_the_inbox_starts_with_cases(make_page: Any, live_server: str, app: Flask,
                                                 staff: StaffLogin) -> None:
    rso = staff.create("rso1", Role.RSO)
    staff.create("board1", Role.BOARD)
    reporter = ReporterClient(app.test_client())
    for _ in range(3):
        assert reporter.submit()[0].status_code == 201
    page = make_page(viewport={"width": 375, "height": 740}, device_scale_factor=2)
    unlock(page, live_server, rso)
    page.goto(live_server + "/staff/cases")
    first = page.locator("#case-list li").first
    expect(first).to_be_visible()
    expect(page.locator("#inbox-filters")).to_be_hidden()
    assert first.bounding_box()["y"] < 740, "the first case is below the first screen"
    page.click("#inbox-filter-summary")
    expect(page.locator("#inbox-filters")).to_be_visible()

    page.goto(live_server + "/staff/cases?status=received")
    expect(page.locator("#inbox-filter-summary")).to_have_text("Filter and sort (1 filter on)")
    page.set_viewport_size({"width": 1200, "height": 800})
    page.goto(live_server + "/staff/cases")
    expect(page.locator("#inbox-filters")).to_be_visible()  # wide screens keep them open
