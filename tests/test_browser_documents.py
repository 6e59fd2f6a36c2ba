"""In Chromium: documents with planted metadata (tests/vectors/cleaning/) are cleaned by the
report page before they are encrypted; the reporter reads what was removed before sending, and
the recipient decrypts files without it."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from app.roles import Role
from tests.conftest import PageLog
from tests.support.attachments import staff_files
from tests.support.casework import CaseworkClient
from tests.support.cleaning import planted
from tests.support.staff import Account, StaffLogin
from tests.test_documents_arrive_clean import DOCUMENTS, _arrived_clean

pytestmark = pytest.mark.browser
MIME = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pdf": "application/pdf"}


@pytest.fixture
def recipients(staff: StaffLogin) -> dict[str, Account]:
    return {"rso1": staff.create("rso1", Role.RSO)}


def test_documents_are_cleaned_in_the_browser_before_they_are_sent(
        page: Any, page_log: PageLog, live_server: str, app: Flask, staff: StaffLogin,
        recipients: dict[str, Account]) -> None:
    page.goto(live_server + "/report/new")
    expect(page.locator("#readers-now li")).to_have_text(["rso1, Responsible Scaling Officer"])
    page.select_option("#category", "capability-cbrn")
    page.fill("#report-text", "The launch checklist was signed off without the evaluation.")
    page.set_input_files("#attachments", files=[
        {"name": name, "mimeType": MIME[name.rpartition(".")[2]], "buffer": planted(name)}
        for name in DOCUMENTS])
    checks = page.locator("#attachment-checks li")
    expect(checks).to_have_count(3)
    for index in range(3):
        expect(checks.nth(index)).to_contain_text("Cleaned before it is encrypted: removed: ")
        expect(checks.nth(index)).to_contain_text("kept: the visible text")
    expect(checks.nth(0)).to_contain_text("tracked-change authors and dates (2)")
    expect(checks.nth(1)).to_contain_text("printer settings (1)")
    expect(checks.nth(2)).to_contain_text("earlier versions (1)")
    page.click("#report-submit")
    expect(page.locator("#receipt")).to_be_visible()
    number = page.locator("#receipt-number").inner_text()
    uploads = page.locator("#receipt-upload-list li")
    expect(uploads).to_have_count(3)
    for index in range(3):
        expect(uploads.nth(index)).to_contain_text("Sent, encrypted", timeout=30_000)
    rso = CaseworkClient(app.test_client(), staff, recipients["rso1"])
    _arrived_clean(staff_files(rso, number))
    assert page_log.console_errors == []  # the cleaner's code loaded under the page's CSP


def test_a_document_that_cannot_be_cleaned_is_said_before_sending(
        page: Any, live_server: str, recipients: dict[str, Account]) -> None:
    page.goto(live_server + "/report/new")
    page.set_input_files("#attachments", files=[
        {"name": "minutes.pdf", "mimeType": "application/pdf",
         "buffer": b"%PDF-1.7\nnot really a PDF " * 50}])
    expect(page.locator("#attachment-checks li")).to_contain_text(
        "This file will not be sent: it looks like a document or an image but could not be "
        "read as one")
