"""The reporter's whole journey in Chromium without JIT, hence without WebAssembly (what Tor
Browser's "Safer" level leaves): the pure-JavaScript backend files the report with the light
codename parameters, comes back, replies, and sends and receives files, end-to-end encrypted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from app.extensions import db
from app.models import Case
from app.roles import Role
from app.state import state_of
from crypto import kdf
from tests.conftest import PageLog
from tests.support.dump import database_dump
from tests.support.reporting import ReporterClient
from tests.support.staff import Account, StaffLogin
from tests.test_browser_reporter import codename_forms, sent_bytes, watch

pytestmark = pytest.mark.browser

REPORT = "The dangerous-capability evaluation was shortened to meet the launch date."
REPLY = "The shortened run is in the attached schedule."
NOTES = b"Notes: the evaluation ran for 2 hours instead of 48.\n" * 1500  # two stream frames
SCHEDULE = b"Schedule: run cut on the 3rd at 17:00.\n"
STAFF_FILE = b"The evaluation policy, section 4.\n" * 300
# Argon2id of the light set, and the standard set for the case filed by another client, take
# seconds to minutes without JIT.
SLOW = 240_000


@pytest.fixture
def recipients(staff: StaffLogin) -> dict[str, Account]:
    return {name: staff.create(name, role) for name, role in (
        ("rso1", Role.RSO), ("board1", Role.BOARD))}


@pytest.fixture
def jitless_page(jitless_browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def factory(**options: Any) -> Any:
        context = jitless_browser.new_context(**options)
        context.set_default_timeout(SLOW)
        contexts.append(context)
        return context.new_page()

    yield factory
    for context in contexts:
        context.close()


def test_the_whole_journey_without_webassembly(
        jitless_page: Any, live_server: str, app: Flask, staff: StaffLogin,
        recipients: dict[str, Account]) -> None:
    from tests.support.attachments import staff_attach, staff_files
    from tests.support.casework import CaseworkClient

    page = jitless_page()
    log: PageLog = watch(page)
    page.goto(live_server + "/report/new")
    assert page.evaluate("typeof WebAssembly") == "undefined"
    expect(page.locator("#readers-now li")).to_have_text(
        ["rso1, Responsible Scaling Officer"], timeout=SLOW)
    page.select_option("#category", "capability-cbrn")
    page.fill("#report-text", REPORT)
    page.set_input_files("#attachments", files=[
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": NOTES}])
    page.click("#report-submit")
    expect(page.locator("#receipt")).to_be_visible(timeout=SLOW)
    codename = page.locator("#receipt-codename").inner_text().strip()
    number = page.locator("#receipt-number").inner_text()
    expect(page.locator("#receipt-upload-list li")).to_contain_text("Sent, encrypted",
                                                                  timeout=SLOW)
    # The puzzle was solved with SHA-256 through WebCrypto, native code even without JIT.
    filed = next(r for r in log.requests if r.url.endswith("/api/v1/reports"))
    assert json.loads(filed.post_data_buffer)["proof_of_work"]["hash"] == "sha-256"
    # Only the pure-JavaScript backend was fetched; libsodium's 1.2 MB never was.
    fetched = [r.url for r in log.requests]
    assert any(url.endswith("/noble-sodium.js") for url in fetched)
    assert not any("libsodium" in url for url in fetched)
    with app.app_context():
        case = db.session.scalars(db.select(Case)).one()
        assert case.reporter_kdf_version == kdf.REPORTER_CODENAME_LIGHT_V1.version

    rso = CaseworkClient(app.test_client(), staff, recipients["rso1"])
    assert staff_files(rso, number) == {"notes.txt": NOTES}
    assert rso.write(number, "message", "Thank you. Do you have the schedule?").status_code == 201
    staff_attach(rso, number, "policy.txt", STAFF_FILE)

    returning = jitless_page(accept_downloads=True)
    return_log = watch(returning)
    returning.goto(live_server + "/report/case")
    returning.fill("#codename", codename)
    returning.click("#open-submit")
    expect(returning.locator("#case-view")).to_be_visible(timeout=SLOW)
    conversation = returning.locator("#case-conversation")
    expect(conversation).to_contain_text(REPORT)
    expect(conversation).to_contain_text("Do you have the schedule?")
    with returning.expect_download() as download:
        returning.click("text=Download policy.txt")
    assert Path(download.value.path()).read_bytes() == STAFF_FILE
    returning.fill("#reply-text", REPLY)
    returning.set_input_files("#reply-attachments", files=[
        {"name": "schedule.txt", "mimeType": "text/plain", "buffer": SCHEDULE}])
    returning.click("#reply-submit")
    expect(returning.locator("#reply-status")).to_have_text("Your message was sent.",
                                                            timeout=SLOW)
    assert staff_files(rso, number)["schedule.txt"] == SCHEDULE
    view = rso.case(number)
    assert REPLY in [rso.read(view, r) for r in view["records"] if r["kind"] == "message"]
    texts = [m.text for m in ReporterClient(app.test_client()).read(codename)]
    assert REPORT in texts and REPLY in texts

    # The server received ciphertext only: no text, file or codename in any request or store.
    sent = sent_bytes(log) + sent_bytes(return_log)
    assert b'"ciphertext"' in sent
    stored = database_dump(app) + b"".join(
        p.read_bytes() for p in state_of(app).config.blob_path.iterdir())
    for secret in [REPORT.encode(), REPLY.encode(), NOTES[:50], SCHEDULE[:30], b"notes.txt",
                   b"schedule.txt", *codename_forms(codename)]:
        assert secret not in sent and secret not in stored
    assert log.console_errors == [] and return_log.console_errors == []


def test_a_case_with_the_standard_parameters_opens_with_progress(
        jitless_page: Any, live_server: str, recipients: dict[str, Account],
        app: Flask) -> None:
    """A case filed where Argon2id is fast keeps the standard set; coming back to it without
    WebAssembly works, with the progress of the derivation shown. (Tests use TEST_FAST as the
    standard set, so this shows the path, not the minute it takes: bench/reporter_network.py
    measures that.)"""
    _response, codename = ReporterClient(app.test_client()).submit(REPORT)
    page = jitless_page()
    statuses: list[str] = []
    page.expose_function("noteStatus", lambda text: statuses.append(text))
    page.goto(live_server + "/report/case")
    page.evaluate("""() => new MutationObserver(() => {
        const text = document.getElementById("open-status").textContent;
        if (text) window.noteStatus(text);
      }).observe(document.getElementById("open-status"),
                 { childList: true, characterData: true, subtree: true })""")
    page.fill("#codename", codename)
    page.click("#open-submit")
    expect(page.locator("#case-conversation")).to_contain_text(REPORT, timeout=SLOW)
    assert any("Deriving your report's key: 100%" in s for s in statuses), statuses


def test_where_nothing_runs_the_page_says_so_and_offers_the_other_ways(
        jitless_page: Any, live_server: str, recipients: dict[str, Account]) -> None:
    page = jitless_page()
    page.route("**/noble-sodium.js", lambda route: route.abort())  # e.g. blocked by an add-on
    page.goto(live_server + "/report/new")
    error = page.locator("#page-error")
    expect(error).to_contain_text("could not run the encryption this page needs", timeout=SLOW)
    expect(error.locator("a[href='/report/plain/new']")).to_have_text(
        "the version without JavaScript")
    expect(error).to_contain_text("candor report")
    expect(error).to_contain_text("never sees what you wrote")
    for developer_word in ("libsodium", "noble", "script", "WebAssembly", "undefined", "Error"):
        assert developer_word not in error.inner_text()
    # What the reporter typed meanwhile is not sent anywhere: sending says the same.
    page.select_option("#category", "capability-cbrn")
    page.fill("#report-text", REPORT)
    page.click("#report-submit")
    expect(page.locator("#report-error")).to_contain_text("the version without JavaScript")
