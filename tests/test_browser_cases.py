"""Case handling in Chromium: the RSO works a report from the inbox to closure with everything
decrypted and encrypted in the page; a report that concerns the RSO is invisible to them and
reaches the Board; the export is a file decrypted in the browser; sharing and revocation seal
case keys in the browser to verified directory keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Case
from app.roles import Role
from app.services import attachments
from candor_reporter import protocol
from crypto.envelope import encode_file_name
from tests.conftest import PageLog
from tests.support.casework import CaseworkClient
from tests.support.dump import database_dump
from tests.support.reporting import ReporterClient
from tests.support.staff import Account, StaffLogin
from tests.test_browser_staff import sign_in

pytestmark = pytest.mark.browser

REPORT = "The CBRN uplift evaluation for the new model was skipped before launch."
IDENTITY = "Alex Example, reachable at alex.example@proton.me"
ACK = "Thank you for reporting this. We are looking into it."
NOTE = "Interview the evaluation lead before anyone else."
REPLY = "Which run was it, and who scheduled it?"
FINDINGS = "The evaluation was skipped twice; the sign-off was backdated."
ACTION = "Evaluations re-run; the launch checklist now blocks on them."
OUTCOME = "Your report was borne out: evaluations were re-run and launches now wait for them."


@pytest.fixture
def people(staff: StaffLogin) -> dict[str, Account]:
    return {name: staff.create(name, role) for name, role in (
        ("rso1", Role.RSO), ("rso2", Role.RSO), ("exec1", Role.EXECUTIVE),
        ("board1", Role.BOARD))}


def file_report(app: Flask, **fields: Any) -> tuple[str, str, ReporterClient]:
    reporter = ReporterClient(app.test_client())
    response, codename = reporter.submit(**fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["number"], codename, reporter


def unlock(page: Any, base: str, account: Account) -> None:
    """Sign in in the browser, which unwraps the private key into this tab."""
    sign_in(page, base, account.username, account.password, account.totp_now())
    page.wait_for_url("**/staff/")
    # The staff pages' module runs after libsodium's 1.3 MB of classic scripts: on a busy
    # machine that has taken more than the default 5 s.
    expect(page.locator("#key-state")).to_contain_text("unlocked in this tab", timeout=30_000)


def open_from_inbox(page: Any, base: str, number: str) -> None:
    page.goto(base + "/staff/cases")
    page.click(f"#case-list a:text-is('{number}')")
    page.wait_for_url(f"**/staff/cases/{number}")
    expect(page.locator("#case-content")).to_be_visible()


def step(page: Any, form: str, status: str) -> None:
    page.click(f"#{form} button[type=submit]")
    expect(page.locator("#case-status")).to_have_text(status)


def test_the_rso_works_a_report_to_closure(
        page: Any, page_log: PageLog, live_server: str, app: Flask,
        people: dict[str, Account]) -> None:
    number, codename, reporter = file_report(app, text=REPORT, identity=IDENTITY)
    unlock(page, live_server, people["rso1"])

    page.goto(live_server + "/staff/cases")
    card = page.locator("#case-list li", has_text=number)
    expect(card).to_contain_text(REPORT)  # the preview, decrypted in the page
    expect(card).to_contain_text("Received")
    expect(page.locator("#filter-status option[value=received]")).to_have_text("Received (1)")
    open_from_inbox(page, live_server, number)
    expect(page.locator("#report-text")).to_have_text(REPORT)
    expect(page.locator("#identity-reveal")).to_be_visible()
    expect(page.locator("#identity-text")).to_be_hidden()

    page.fill("#ack-message", ACK)
    expect(page.locator("#ack-take")).to_be_checked()  # acknowledging offers to take the case
    step(page, "action-acknowledge", "Acknowledged")
    expect(page.locator("#conversation")).to_contain_text(ACK)
    expect(page.locator("#case-meta")).to_contain_text("rso1")

    page.select_option("#triage-category", "capability-cbrn")
    page.click("#action-triage button[type=submit]")  # no severity chosen yet
    expect(page.locator("#action-triage .error")).to_have_text("Choose a severity.")
    page.select_option("#triage-severity", "high")
    page.select_option("#triage-risk", "medium")
    step(page, "action-triage", "Triaged")

    page.select_option("#assign-person", label="rso2")
    page.click("#assign-form button[type=submit]")
    expect(page.locator("#case-meta")).to_contain_text("rso2")

    page.fill("#note-text", NOTE)
    page.click("#note-form button[type=submit]")
    expect(page.locator("#notes")).to_contain_text(NOTE)
    expect(page.locator("#notes").locator("xpath=..")).to_contain_text(
        "never shown to the reporter")

    step(page, "action-investigate", "Investigating")
    page.fill("#message-text", REPLY)
    page.click("#message-form button[type=submit]")
    expect(page.locator("#conversation li")).to_have_count(2)
    expect(page.locator("#conversation li").nth(1)).to_contain_text(REPLY)

    # A refusal from the server is shown with the server's own message.
    page.fill("#link-number", "C-ZZZZZ")
    page.click("#link-form button[type=submit]")
    expect(page.locator("#link-form .error")).to_have_text("There is nothing at this address.")

    page.select_option("#findings-outcome", "substantiated")
    page.check("#findings-risk-no")
    page.fill("#findings-summary", FINDINGS)
    step(page, "action-findings", "Findings recorded")
    expect(page.locator("#findings-list")).to_contain_text(FINDINGS)
    page.fill("#corrective-record", ACTION)
    step(page, "action-corrective_action", "Corrective action")
    page.select_option("#close-approver", label="rso2")
    page.click("#action-close button[type=submit]")  # the reporter must be told the outcome
    expect(page.locator("#action-close .error")).to_have_text(
        "Write the reporter the outcome and its grounds.")
    expect(page.locator("#close-next")).to_contain_text("Attorney General")
    page.fill("#close-outcome", OUTCOME)
    step(page, "action-close", "Closed")
    expect(page.locator("#action-reopen")).to_be_visible()
    expect(page.locator("#message-unavailable")).to_contain_text("Reopen the case")
    meta = page.locator("#case-meta")
    for shown in ("High", "Medium", "substantiated", "rso2"):
        expect(meta).to_contain_text(shown, ignore_case=True)
    timeline = page.locator("#timeline")
    for event in ("Acknowledged by rso1", "Triaged by rso1", "Closed by rso1",
                  "Internal note written"):
        expect(timeline).to_contain_text(event)

    # The reporter reads the replies and every status change, never the note or the findings.
    messages = reporter.read(codename)
    written = [m.text for m in messages if m.author == "staff"]
    assert written[:2] == [ACK, REPLY] and len(written) == 3
    assert written[2].startswith(f"Outcome:\n{OUTCOME}\n\nWhere you can turn next:\n")
    assert [m.purpose for m in messages if m.author == "staff"] == [None, None, "outcome"]
    assert {m.kind for m in messages} == {"report", "identity", "message"}
    view = reporter.open(codename).get_json()
    assert view["status"] == "closed"
    assert [e["kind"] for e in view["timeline"] if e["kind"] in (
        "acknowledge", "triage", "investigate", "findings", "corrective_action", "close")] == [
        "acknowledge", "triage", "investigate", "findings", "corrective_action", "close"]
    assert "note_written" not in {e["kind"] for e in view["timeline"]}

    # The server holds none of it in plain form, and the page sent none of it in plain form.
    dump = database_dump(app)
    sent = b"\n".join(r.url.encode() + (r.post_data_buffer or b"") for r in page_log.requests)
    for text in (REPORT, IDENTITY, ACK, NOTE, REPLY, FINDINGS, ACTION, OUTCOME):
        assert text.encode() not in dump and text.encode() not in sent
    # The only error is Chromium logging the refused link (404) asked for above.
    assert page_log.console_errors == [
        "Failed to load resource: the server responded with a status of 404 (NOT FOUND)"]


def test_a_report_about_the_rso_is_for_the_board_only(
        page: Any, make_page: Any, live_server: str, app: Flask,
        people: dict[str, Account]) -> None:
    hidden, _, _ = file_report(app, text="The RSO signed off on a skipped evaluation.",
                               concerns_rso=True)
    ordinary, _, _ = file_report(app, text=REPORT)
    unlock(page, live_server, people["rso1"])

    assert page.goto(f"{live_server}/staff/cases/{hidden}").status == 404
    assert page.goto(f"{live_server}/staff/cases/{ordinary}").status == 200
    page.goto(live_server + "/staff/cases")
    expect(page.locator("#case-list > li")).to_have_count(1)
    expect(page.locator("#case-list")).to_contain_text(ordinary)
    expect(page.locator("#inbox-total")).to_have_text("1 case")
    assert hidden not in page.content()
    page.goto(live_server + "/staff/cases?flag=concerns_rso")
    expect(page.locator("#inbox-empty")).to_be_visible()

    board = make_page(viewport={"width": 360, "height": 740})  # a phone
    unlock(board, live_server, people["board1"])
    board.goto(live_server + "/staff/cases")
    expect(board.locator("#case-list > li")).to_have_count(1)
    card = board.locator("#case-list li", has_text=hidden)
    expect(card).to_contain_text("The RSO signed off on a skipped evaluation.")
    expect(card).to_contain_text("Concerns the RSO")
    assert fits_the_width(board)
    open_from_inbox(board, live_server, hidden)
    expect(board.locator("#report-text")).to_have_text(
        "The RSO signed off on a skipped evaluation.")
    assert fits_the_width(board)


def fits_the_width(page: Any) -> bool:
    """Nothing on the page makes it scroll sideways."""
    return bool(page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


def test_export_is_decrypted_in_the_browser_into_a_file(
        page: Any, page_log: PageLog, live_server: str, app: Flask, tmp_path: Path,
        people: dict[str, Account]) -> None:
    number, _, _ = file_report(app, text=REPORT, identity=IDENTITY)
    unlock(page, live_server, people["rso1"])
    open_from_inbox(page, live_server, number)
    page.fill("#note-text", NOTE)
    page.click("#note-form button[type=submit]")
    expect(page.locator("#notes")).to_contain_text(NOTE)

    page.click("#identity-reveal")
    expect(page.locator("#identity-confirm")).to_be_visible()
    expect(page.locator("#identity-text")).to_be_hidden()
    page.click("#identity-confirm-yes")
    expect(page.locator("#identity-error")).to_contain_text("Say why you need the identity")
    expect(page.locator("#identity-text")).to_be_hidden()
    page.select_option("#identity-reason", "contact_reporter")
    page.click("#identity-confirm-yes")
    expect(page.locator("#identity-text")).to_have_text(IDENTITY)
    expect(page.locator("#timeline")).to_contain_text("Identity revealed by rso1")
    expect(page.locator("#disclosure-list")).to_contain_text(
        "Identity revealed to rso1: To contact the reporter outside this channel")

    requests_before = len(page_log.requests)
    with page.expect_download() as download:
        page.click("#export-button")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == f"case-{number}.json"
    exported = json.loads(saved.read_text(encoding="utf-8"))
    assert exported["case"]["number"] == number
    assert [r["text"] for r in exported["report"]] == [REPORT]
    assert [r["text"] for r in exported["identity"]] == [IDENTITY]
    assert [r["text"] for r in exported["internal_notes"]] == [NOTE]
    assert exported["exported_by"] == "rso1"
    # The server was told an export was made, and given nothing of it.
    sent = [r for r in page_log.requests[requests_before:] if not r.url.startswith("blob:")]
    assert [(r.method, r.url.split("/api/v1")[1]) for r in sent if r.method == "POST"] == [
        ("POST", f"/staff/cases/{number}/exports")]
    assert all(not r.post_data or r.post_data == "{}" for r in sent)
    expect(page.locator("#disclosure-list")).to_contain_text("Exported by rso1, with the identity")
    assert page_log.console_errors == []


def test_a_locked_key_is_said_and_offers_to_sign_in_again(
        page: Any, live_server: str, app: Flask, people: dict[str, Account]) -> None:
    number, _, _ = file_report(app, text=REPORT)
    unlock(page, live_server, people["rso1"])
    page.evaluate("sessionStorage.clear()")
    page.goto(f"{live_server}/staff/cases/{number}")
    expect(page.locator("#key-locked")).to_be_visible()
    expect(page.locator("#case-content")).to_be_hidden()
    page.goto(live_server + "/staff/cases")
    expect(page.locator("#case-list li", has_text=number)).to_contain_text("Locked")
    page.click("#key-locked a:text('Unlock')")
    page.wait_for_url("**/auth/login")


def test_a_case_without_reporter_shared_and_revoked_in_the_browser(
        page: Any, live_server: str, app: Flask, staff: StaffLogin,
        people: dict[str, Account]) -> None:
    unlock(page, live_server, people["rso1"])
    page.goto(live_server + "/staff/cases/new")
    expect(page.locator("#new-readers-now li")).to_have_text(["rso1 (rso)", "rso2 (rso)"])
    expect(page.locator("#new-readers-escalation li")).to_have_text(["board1 (board)"])
    page.select_option("#new-category", "weights-security")
    page.fill("#new-text", "Weights were copied to an unmanaged laptop.")
    page.click("#new-case-form button[type=submit]")
    page.wait_for_url("**/staff/cases/C-*")
    number = page.url.rsplit("/", 1)[1]
    expect(page.locator("#report-text")).to_have_text("Weights were copied to an unmanaged laptop.")
    expect(page.locator("#case-status")).to_have_text("Acknowledged")
    expect(page.locator("#message-unavailable")).to_have_text(
        "This case has no reporter to write to.")

    page.select_option("#share-person", label="exec1")
    page.click("#share-form button[type=submit]")
    expect(page.locator("#case-members")).to_contain_text("exec1")

    page.select_option("#revoke-person", label="rso2")
    page.check("#revoke-confirm")
    page.click("#revoke-form button[type=submit]")
    expect(page.locator("#case-members")).not_to_contain_text("rso2")
    page.fill("#note-text", "Written under the new key.")
    page.click("#note-form button[type=submit]")
    expect(page.locator("#notes")).to_contain_text("Written under the new key.")

    # The executive opens both epochs' keys the browser sealed; rso2 no longer finds the case.
    executive = CaseworkClient(app.test_client(), staff, people["exec1"])
    view = executive.case(number)
    assert view["key_epoch"] == 2
    assert executive.texts(view) == {"report": ["Weights were copied to an unmanaged laptop."],
                                     "note": ["Written under the new key."]}
    removed = CaseworkClient(app.test_client(), staff, people["rso2"])
    assert removed.get(f"/api/v1/staff/cases/{number}").status_code == 404


def test_an_attachment_is_decrypted_in_the_browser_as_it_downloads(
        page: Any, page_log: PageLog, live_server: str, app: Flask, tmp_path: Path,
        people: dict[str, Account]) -> None:
    number, codename, reporter = file_report(app, text=REPORT)
    opened = protocol.open_case(reporter.open(codename).get_json(), codename)
    content = bytes(range(256)) * 600  # about 150 KiB: three frames
    ref = reporter.attach(opened, content, "eval log.txt")
    reporter.attach(opened, content, "short.txt",
                    name_content=encode_file_name("short.txt", 10))
    reporter.attach(opened, content, "older.txt", name_content=b"older.txt")

    def with_attachments(route: Any) -> None:
        # The staff case view does not list attachments yet; until it does, the list the
        # attachment service itself describes is added here. The file is the real upload,
        # fetched from the real download endpoint.
        answer = route.fetch()
        view = answer.json()
        if "attachments" not in view:
            with app.app_context():
                case = db.session.scalars(select(Case).where(Case.number == number)).one()
                view["attachments"] = attachments.describe(case, visible_to_reporter_only=False)
        route.fulfill(response=answer, json=view)

    page.route(f"**/api/v1/staff/cases/{number}", with_attachments)
    unlock(page, live_server, people["rso1"])
    page.goto(f"{live_server}/staff/cases/{number}")
    button = page.locator("#attachment-list button")
    expect(button).to_have_text(["Decrypt and save eval log.txt", "Decrypt and save short.txt",
                                 "Decrypt and save older.txt"])
    # Exact sizes from the name records (150.0 KB: 153,600 bytes); an older file's only what
    # its stream allows.
    listed = page.locator("#attachment-list li")
    expect(listed.nth(0)).to_contain_text(" 150.0 KB · ")
    expect(listed.nth(1)).to_contain_text(" 10 bytes · ")
    expect(listed.nth(2)).to_contain_text(" up to 192.0 KB · ")
    with page.expect_download() as download:
        button.nth(0).click()
    saved = tmp_path / "saved"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "eval log.txt"
    assert saved.read_bytes() == content
    assert page.locator("#attachment-error").is_hidden()
    assert any(r.url.endswith(f"/attachments/{ref}") for r in page_log.requests)
    # A file whose sender's program understated its size: offered, with the lie said plainly.
    with page.expect_download() as download:
        button.nth(1).click()
    download.value.save_as(saved)
    assert saved.read_bytes() == content
    expect(page.locator("#attachment-error")).to_have_text(
        "short.txt was decrypted and checked and is offered as a file. Its sender's program "
        "stated 10 bytes, but the file is 150.0 KB: the size shown before downloading was "
        "wrong.")
    assert page_log.console_errors == []


def test_passing_the_identity_on_tells_the_reporter_first(
        page: Any, page_log: PageLog, live_server: str, app: Flask,
        people: dict[str, Account]) -> None:
    number, codename, reporter = file_report(app, text=REPORT, identity=IDENTITY)
    unlock(page, live_server, people["rso1"])
    open_from_inbox(page, live_server, number)
    expect(page.locator("#handover-identity")).to_be_disabled()
    page.click("#identity-reveal")
    page.select_option("#identity-reason", "investigation_need")
    page.click("#identity-confirm-yes")
    expect(page.locator("#identity-text")).to_have_text(IDENTITY)

    page.select_option("#handover-recipient", "competent_authority")
    page.select_option("#handover-reason", "authority_investigation")
    page.check("#handover-identity")
    page.click("#handover-form button[type=submit]")
    expect(page.locator("#handover-form .error")).to_contain_text("Write the message")
    notice = "The authority has asked for your name; we will give it on Monday."
    page.fill("#handover-text", notice)
    page.click("#handover-form button[type=submit]")
    expect(page.locator("#disclosure-list")).to_contain_text(
        "Handed over to a competent authority by rso1 (an investigation by a competent "
        "authority), with the identity; the reporter was told first by message")
    expect(page.locator("#conversation")).to_contain_text(notice)
    assert [m.text for m in reporter.read(codename) if m.author == "staff"] == [notice]
    assert page_log.console_errors == []


def test_the_reporters_data_destroyed_and_a_request_answered(
        page: Any, page_log: PageLog, live_server: str, app: Flask,
        people: dict[str, Account]) -> None:
    number, codename, reporter = file_report(app, text=REPORT)
    opened = protocol.open_case(reporter.open(codename).get_json(), codename)
    irrelevant = "My colleague's home address is 1 Example Street."
    asked = "Please correct my team in the report: it is Evals."
    for text in (irrelevant, asked):
        message = protocol.build_message(opened, text)
        assert reporter.post("/api/v1/reporter/messages", message).status_code == 201
    unlock(page, live_server, people["rso1"])
    open_from_inbox(page, live_server, number)
    expect(page.locator("#conversation")).to_contain_text(irrelevant)

    choice = page.locator("#destroy-item option", has_text="1 Example Street")
    page.select_option("#destroy-item", choice.get_attribute("value"))
    page.select_option("#destroy-reason", "third_party_data")
    page.click("#destroy-form button[type=submit]")
    expect(page.locator("#destroy-form .error")).to_contain_text("Tick the box")
    page.check("#destroy-confirm")
    page.click("#destroy-form button[type=submit]")
    expect(page.locator("#destruction-list")).to_contain_text(
        "Message (the reporter's) destroyed by rso1: personal data of someone else")
    expect(page.locator("#conversation")).not_to_contain_text(irrelevant)

    request = page.locator("#data-request-message option", has_text="Please correct my team")
    page.select_option("#data-request-message", request.get_attribute("value"))
    page.select_option("#data-request-kind", "correction")
    page.click("#data-request-form button[type=submit]")
    expect(page.locator("#data-request-list")).to_contain_text(
        "Correction of their personal data, received")
    expect(page.locator("#data-request-list")).to_contain_text("to answer by")
    page.fill("#data-answer-text", "Corrected: your team is Evals.")
    page.click("#data-answer-form button[type=submit]")
    expect(page.locator("#data-request-list")).to_contain_text("answered")
    texts = [m.text for m in reporter.read(codename)]
    assert irrelevant not in texts and "Corrected: your team is Evals." in texts
    assert page_log.console_errors == []


def test_a_report_taken_by_phone_is_agreed_by_the_reporter(
        page: Any, page_log: PageLog, make_page: Any, live_server: str, app: Flask,
        people: dict[str, Account]) -> None:
    minutes = "Caller says the CBRN uplift evaluation was skipped on the 3rd."
    unlock(page, live_server, people["rso1"])
    page.goto(live_server + "/staff/cases/new")
    expect(page.locator("#intake-howto")).to_contain_text("Taking a report by phone")
    # The handler fills in the ordinary report form in their own browser.
    page.goto(live_server + "/report/new")
    page.select_option("#category", "capability-cbrn")
    page.fill("#report-text", minutes)
    page.click("#report-submit")
    expect(page.locator("#receipt")).to_be_visible()
    codename = page.locator("#receipt-codename").inner_text().strip()
    number = page.locator("#receipt-number").inner_text()

    page.goto(f"{live_server}/staff/cases/{number}")
    expect(page.locator("#intake-form")).to_be_visible()
    page.select_option("#intake-channel", "phone")
    page.click("#intake-form button[type=submit]")
    expect(page.locator("#intake-state")).to_have_text(
        "Taken down by phone by rso1 on " + page.evaluate("new Date().toISOString()"
                                                          ".slice(0, 10)")
        + ". The reporter has not agreed the minutes yet.")
    expect(page.locator("#intake-form")).to_be_hidden()

    # The reporter, on their own device, with the codename alone.
    reporter = make_page()
    reporter.goto(live_server + "/report/case")
    reporter.fill("#codename", codename)
    reporter.click("#open-submit")
    expect(reporter.locator("#minutes-panel")).to_be_visible()
    expect(reporter.locator("#case-conversation")).to_contain_text(minutes)
    reporter.fill("#reply-text", "Correction: it was the 4th.")
    reporter.click("#reply-submit")
    expect(reporter.locator("#reply-status")).to_have_text("Your message was sent.")
    reporter.click("#minutes-submit")
    expect(reporter.locator("#minutes-agreed")).to_be_visible()
    expect(reporter.locator("#minutes-form")).to_be_hidden()

    page.reload()
    expect(page.locator("#intake-state")).to_contain_text("The reporter agreed the minutes on")
    expect(page.locator("#conversation")).to_contain_text("Correction: it was the 4th.")
    assert page_log.console_errors == []
