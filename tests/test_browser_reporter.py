"""The reporter's journey in Chromium with JavaScript: making a report, coming back to it with the
codename in another browser, replying and leaving; and proof that neither the content nor the
codename ever left the browser or reached the database."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import expect

from app.api.reports import NOT_FOUND
from app.extensions import db
from app.models import Case
from app.roles import Role
from app.state import state_of
from candor_reporter.file_size import format_bytes as file_size
from crypto.envelope import GrantKind, RecordKind, decrypt_record, encode_file_name, open_grant
from tests.conftest import PageLog
from tests.support.dump import database_dump
from tests.support.reporting import ReporterClient
from tests.support.staff import Account, StaffLogin

pytestmark = pytest.mark.browser

REPORT = "The CBRN uplift evaluation for the new model was skipped before launch."
IDENTITY = "Alex Example, reachable at alex.example@proton.me"
REPLY = "One more detail: the skipped run was scheduled for the 4th."
JS = Path(__file__).resolve().parent.parent / "app/static/js"
# The reporter's page module and every module it imports that is not the cryptography's.
REPORTER_SCRIPTS = ("reporter.js", "reporter-protocol.js", "http.js", "bytes.js", "metadata.js",
                    "rules.js", "key-directory.js", "proof-of-work.js", "text.js")


@pytest.fixture
def recipients(staff: StaffLogin) -> dict[str, Account]:
    return {name: staff.create(name, role) for name, role in (
        ("rso1", Role.RSO), ("exec1", Role.EXECUTIVE), ("board1", Role.BOARD),
        ("board2", Role.BOARD))}


def watch(page: Any) -> PageLog:
    """Console errors and every request of a page opened with ``make_page``."""
    log = PageLog()
    page.on("console", lambda m: m.type == "error" and log.console_errors.append(m.text))
    page.on("pageerror", lambda e: log.console_errors.append(str(e)))
    page.on("request", lambda r: log.requests.append(r))
    return log


def sent_bytes(log: PageLog) -> bytes:
    """Everything the page sent: each request's URL and body."""
    return b"\n".join(r.url.encode() + b"\n" + (r.post_data_buffer or b"") for r in log.requests)


def codename_forms(codename: str) -> list[bytes]:
    words = codename.split()
    return [separator.join(words).encode() for separator in (" ", "", "+", "-", "_", "%20")]


def open_case(page: Any, base: str, codename: str) -> None:
    page.goto(base + "/report/case")
    page.fill("#codename", codename)
    page.click("#open-submit")
    expect(page.locator("#case-view")).to_be_visible()


def test_report_and_return_in_the_browser(
        page: Any, page_log: PageLog, make_page: Any, live_server: str, app: Flask,
        staff: StaffLogin, recipients: dict[str, Account]) -> None:
    page.goto(live_server + "/")
    page.click("text=Make a report")
    page.wait_for_url("**/report/new")
    now, later = page.locator("#readers-now li"), page.locator("#readers-escalation li")
    expect(now).to_have_text(["rso1, Responsible Scaling Officer"])
    expect(later).to_have_text(["board1, Board member", "board2, Board member"])
    expect(page.locator("#concerned-list label")).to_have_text(
        ["board1", "board2", "exec1", "rso1"])
    page.check("#concerns-rso")
    expect(now).to_have_text(["board1, Board member", "board2, Board member"])
    expect(later).to_have_text(["No one else"])
    page.uncheck("#concerns-rso")
    expect(now).to_have_text(["rso1, Responsible Scaling Officer"])
    page.check("#concerned-list label:has-text('board2') input")
    expect(later).to_have_text(["board1, Board member"])

    page.select_option("#category", "weights-security")
    page.fill("#report-text", REPORT)
    page.fill("#identity", IDENTITY)
    page.check("#material-risk")
    page.click("#report-submit")
    expect(page.locator("#receipt")).to_be_visible()
    codename = page.locator("#receipt-codename").inner_text().strip()
    number = page.locator("#receipt-number").inner_text()
    assert len(codename.split()) == 7 and number.startswith("C-")
    assert page.locator("#receipt-acknowledge-by time").get_attribute("datetime")
    assert page.locator("#receipt-feedback-by time").get_attribute("datetime")
    assert page.locator("#report-form").is_hidden()
    assert page.locator("#report-text").input_value() == ""
    continue_button = page.locator("#receipt-continue")
    expect(continue_button).to_be_disabled()
    page.check("#codename-saved")
    expect(continue_button).to_be_enabled()
    assert page.evaluate("[localStorage.length, sessionStorage.length]") == [0, 0]
    cookies = "".join(c["value"] for c in page.context.cookies()).encode()
    continue_button.click()
    page.wait_for_url("**/report/case?sent=1")
    # Where Continue leads, and why: the page to come back to, where the codename can be tried.
    expect(page.locator("#sent-note")).to_contain_text("To check that you saved your codename")

    returning = make_page()
    return_log = watch(returning)
    open_case(returning, live_server, codename)
    assert returning.locator("#case-number").inner_text() == number
    assert returning.locator("#case-status").inner_text() == "Received, waiting to be acknowledged"
    messages = returning.locator("#case-conversation li")
    expect(messages).to_have_count(2)
    expect(messages.nth(0)).to_contain_text(REPORT)
    expect(messages.nth(1)).to_contain_text(IDENTITY)
    returning.fill("#reply-text", REPLY)
    returning.click("#reply-submit")
    expect(messages).to_have_count(3)
    expect(messages.nth(2)).to_contain_text(REPLY)
    expect(messages.nth(2)).to_contain_text("You")
    expect(returning.locator("#reply-status")).to_have_text("Your message was sent.")
    assert returning.evaluate("[localStorage.length, sessionStorage.length]") == [0, 0]

    # What the browser stored opens with the codename, and with the RSO's own key.
    texts = [(m.kind, m.text) for m in ReporterClient(app.test_client()).read(codename)]
    assert texts == [("report", REPORT), ("identity", IDENTITY), ("message", REPLY)]
    with app.app_context():
        case = db.session.scalars(db.select(Case)).one()
        assert (case.number, case.category, case.material_risk) == \
            (number, "weights-security", True)
        assert {(g.kind, g.staff_id) for g in case.grants} == {
            ("reporter", None), ("recipient", recipients["rso1"].id),
            ("escrow", recipients["board1"].id)}
        grant = next(g.grant for g in case.grants if g.kind == "recipient")
        report = next(r for r in case.records if r.kind == "report")
        case_ref, record_ref, ciphertext = case.case_ref, report.record_ref, report.ciphertext
        wrapped = base64.b64encode(staff.get("rso1").wrapped_private_key).decode()
    rso_key = staff.unwrap(recipients["rso1"], wrapped)
    case_key = open_grant(grant, rso_key, case_ref, GrantKind.RECIPIENT)
    assert decrypt_record(case_key, RecordKind.REPORT, case_ref, record_ref,
                          ciphertext).decode() == REPORT

    # Nothing secret was sent, kept in a cookie, or stored.
    sent = sent_bytes(page_log) + sent_bytes(return_log)
    assert b'"lookup_id"' in sent and b'"ciphertext"' in sent
    dump = database_dump(app)
    for secret in [REPORT.encode(), IDENTITY.encode(), REPLY.encode(), *codename_forms(codename)]:
        assert secret not in sent and secret not in dump and secret not in cookies
    assert page_log.console_errors == [] and return_log.console_errors == []
    origins = {urlsplit(r.url).netloc for r in page_log.requests + return_log.requests}
    assert origins == {urlsplit(live_server).netloc}


def test_wrong_codename_reload_and_leaving(make_page: Any, live_server: str, app: Flask,
                                           recipients: dict[str, Account]) -> None:
    _response, codename = ReporterClient(app.test_client()).submit(REPORT)
    page = make_page()
    page.goto(live_server + "/report/case")
    words = codename.split()
    page.fill("#codename", " ".join([*words[:-1], "zebra" if words[-1] != "zebra" else "apple"]))
    page.click("#open-submit")
    expect(page.locator("#open-error")).to_have_text(NOT_FOUND)
    page.fill("#codename", "notaword " * 7)
    page.click("#open-submit")
    expect(page.locator("#open-error")).to_contain_text("not in the codename word list")

    # The session the wrong codename closed issued a new CSRF token, which the page now uses.
    page.fill("#codename", f"  {codename.upper()} ")
    page.click("#open-submit")
    expect(page.locator("#case-conversation li").first).to_contain_text(REPORT)
    page.reload()
    expect(page.locator("#open-form")).to_be_visible()
    assert page.locator("#case-view").is_hidden() and page.input_value("#codename") == ""

    open_case(page, live_server, codename)
    [copied] = [c["value"] for c in page.context.cookies() if c["name"] == "candor_reporter"]
    page.click("#leave-now")
    page.wait_for_url("about:blank")  # a page that says nothing of reporting (CANDOR_LEAVE_URL)
    assert page.request.get(live_server + "/api/v1/reporter/case").status == 401
    # A copy of the cookie taken before leaving opens nothing either.
    other = app.test_client()
    other.set_cookie("candor_reporter", copied)
    assert other.get("/api/v1/reporter/case").status_code == 401


def test_readers_come_from_the_signed_directory_only(
        page: Any, page_log: PageLog, live_server: str, recipients: dict[str, Account]) -> None:
    """The page works out the readers from verified entries: without a verified key for the
    RSO, no one can receive on the RSO route, whatever the server says, and nothing is sent."""
    def drop_rso(route: Any) -> None:
        answer = route.fetch().json()
        answer["entries"] = answer["entries"][1:]  # rso1 was created first
        route.fulfill(json=answer)

    page.route("**/api/v1/directory", drop_rso)
    page.goto(live_server + "/report/new")
    expect(page.locator("#concerned-list label")).to_have_count(3)
    expect(page.locator("#readers-error")).to_contain_text("No one can receive")
    page.select_option("#category", "other")
    page.fill("#report-text", REPORT)
    page.click("#report-submit")
    expect(page.locator("#report-error")).to_contain_text("No one can receive")
    assert not [r for r in page_log.requests if r.url.endswith("/api/v1/reports")]
    assert not [r for r in page_log.requests if r.url.endswith("/api/v1/readers")]


def test_without_javascript_the_pages_point_to_the_plain_version(
        make_page: Any, live_server: str) -> None:
    page = make_page(java_script_enabled=False)
    for path, form, plain in (("/report/new", "#report-form", "/report/plain/new"),
                              ("/report/case", "#open-form", "/report/plain/open")):
        page.goto(live_server + path)
        expect(page.locator(f"a[href='{plain}']")).to_be_visible()
        assert page.locator(form).is_hidden()
        # "Leave now" is a plain link, so it works without scripts too.
        expect(page.locator("#leave-now")).to_have_attribute("href", "/report/leave")


def test_reporter_pages_on_a_phone(make_page: Any, live_server: str,
                                   recipients: dict[str, Account]) -> None:
    page = make_page(viewport={"width": 375, "height": 740}, device_scale_factor=2)
    page.goto(live_server + "/report/new")
    expect(page.locator("#readers-now li")).to_have_text(["rso1, Responsible Scaling Officer"])
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.select_option("#category", "capability-ai-rnd")
    page.fill("#report-text", REPORT)
    page.click("#report-submit")
    expect(page.locator("#receipt-codename")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.goto(live_server + "/report/case")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


@pytest.mark.parametrize("path", ["/", "/report/new", "/report/case", "/rights"])
def test_reporter_pages_are_csp_clean(client: FlaskClient, path: str) -> None:
    html = client.get(path).get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)
    for script in REPORTER_SCRIPTS:
        source = (JS / script).read_text()
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", source)
        assert not re.search(r"localStorage|sessionStorage|document\.cookie", source)


NOTES = b"Meeting notes, 4 March: the eval run was cancelled by the launch lead.\n" * 2000
STAFF_ACK = "We received your report and are looking into it."
STAFF_REPLY = "Thank you. Could you send the schedule you mentioned?"
SCHEDULE = b"Schedule: 4th 09:00 eval run, cancelled at 08:40.\n"
STAFF_FILE = b"The evaluation policy, for reference.\n" * 500


def test_attachments_both_ways_in_the_browser(
        page: Any, page_log: PageLog, make_page: Any, live_server: str, app: Flask,
        staff: StaffLogin, recipients: dict[str, Account]) -> None:
    """Submit with two attachments (a photo whose EXIF holds GPS), come back, read the
    acknowledgement and a reply written by staff, download their file and reply with one."""
    from PIL import Image

    from tests.support.attachments import staff_attach, staff_files
    from tests.support.casework import CaseworkClient
    from tests.support.images import GPS_MARK, pillow_jpeg

    photo = pillow_jpeg()
    page.goto(live_server + "/report/new")
    expect(page.locator("#readers-now li")).to_have_text(["rso1, Responsible Scaling Officer"])
    page.select_option("#category", "capability-cbrn")
    page.fill("#report-text", REPORT)
    page.set_input_files("#attachments", files=[
        {"name": "IMG_0042.jpg", "mimeType": "image/jpeg", "buffer": photo},
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": NOTES}])
    checks = page.locator("#attachment-checks li")
    expect(checks).to_have_count(2)
    expect(checks.nth(0)).to_contain_text("location, camera details")
    expect(checks.nth(1)).to_contain_text("cannot be cleaned")
    page.click("#report-submit")
    expect(page.locator("#receipt")).to_be_visible()
    codename = page.locator("#receipt-codename").inner_text().strip()
    number = page.locator("#receipt-number").inner_text()
    uploads = page.locator("#receipt-upload-list li")
    expect(uploads).to_have_count(2)
    for index in range(2):
        expect(uploads.nth(index)).to_contain_text("Sent, encrypted", timeout=30_000)
    expect(uploads.nth(1)).to_contain_text(f"Sent, encrypted ({file_size(len(NOTES))})")
    assert page.locator("#receipt-upload-list progress").count() == 2

    rso = CaseworkClient(app.test_client(), staff, recipients["rso1"])
    files = staff_files(rso, number)
    assert set(files) == {"IMG_0042.jpg", "notes.txt"}
    assert files["notes.txt"] == NOTES
    cleaned = files["IMG_0042.jpg"]
    assert GPS_MARK not in cleaned and b"Exif" not in cleaned
    import io

    with Image.open(io.BytesIO(cleaned)) as image:
        assert image.size == (64, 48) and not image.getexif()
    assert rso.acknowledge(number, STAFF_ACK).status_code == 200
    assert rso.write(number, "message", STAFF_REPLY).status_code == 201
    staff_attach(rso, number, "policy.txt", STAFF_FILE)
    # A sending program that understates a file's size, and a file sent before sizes were
    # recorded (its name record holds the name alone).
    staff_attach(rso, number, "short.txt", STAFF_FILE,
                 name_content=encode_file_name("short.txt", 100))
    staff_attach(rso, number, "older.txt", STAFF_FILE, name_content=b"older.txt")

    returning = make_page(accept_downloads=True)
    return_log = watch(returning)
    open_case(returning, live_server, codename)
    assert returning.locator("#case-status").inner_text() == "Acknowledged"
    # After the acknowledgement, the day it came; never the day it was due.
    assert returning.locator("#case-acknowledge-label").inner_text() == "Acknowledged on"
    conversation = returning.locator("#case-conversation")
    expect(conversation).to_contain_text(STAFF_ACK)
    expect(conversation).to_contain_text(STAFF_REPLY)
    listed = returning.locator("#case-attachments li")
    expect(listed).to_have_count(5)
    expect(listed.nth(0)).to_contain_text("IMG_0042.jpg")
    # Sizes as the pages write them everywhere (as the server writes them), exact from the name
    # record: the photo's is the cleaned file's; an older file's only what its stream allows.
    expect(listed.nth(0)).to_contain_text(f" · {file_size(len(cleaned))}")
    expect(listed.nth(1)).to_contain_text(f" · {file_size(len(NOTES))}")
    expect(listed.filter(has_text="policy.txt")).to_contain_text(
        f" · {file_size(len(STAFF_FILE))}")
    expect(listed.filter(has_text="older.txt")).to_contain_text(" · up to 64.0 KB")
    expect(listed.filter(has_text="short.txt")).to_contain_text(" · 100 bytes")
    with returning.expect_download() as download:
        returning.click("text=Download policy.txt")
    policy = listed.filter(has_text="policy.txt")
    expect(policy).to_contain_text(f"Decrypted and checked ({file_size(len(STAFF_FILE))})")
    assert "stated" not in policy.inner_text()
    assert download.value.suggested_filename == "policy.txt"
    assert Path(download.value.path()).read_bytes() == STAFF_FILE
    # The understated file is still offered (it decrypted and checked), with the lie said.
    with returning.expect_download() as download:
        returning.click("text=Download short.txt")
    expect(listed.filter(has_text="short.txt")).to_contain_text(
        f"Its sender's program stated 100 bytes, but the file is {file_size(len(STAFF_FILE))}: "
        "the size shown before downloading was wrong.")
    assert Path(download.value.path()).read_bytes() == STAFF_FILE
    with returning.expect_download() as download:
        returning.click("text=Download older.txt")
    older = listed.filter(has_text="older.txt")
    expect(older).to_contain_text(f"Decrypted and checked ({file_size(len(STAFF_FILE))})")
    assert "stated" not in older.inner_text()

    returning.fill("#reply-text", REPLY)
    returning.set_input_files("#reply-attachments", files=[
        {"name": "schedule.txt", "mimeType": "text/plain", "buffer": SCHEDULE}])
    returning.click("#reply-submit")
    expect(returning.locator("#reply-status")).to_have_text("Your message was sent.",
                                                            timeout=30_000)
    expect(listed).to_have_count(6)
    expect(returning.locator("#reply-upload-list li")).to_contain_text(
        f"Sent, encrypted ({file_size(len(SCHEDULE))})")
    assert staff_files(rso, number)["schedule.txt"] == SCHEDULE
    view = rso.case(number)
    assert REPLY in [rso.read(view, r) for r in view["records"] if r["kind"] == "message"]

    # Not a byte of any file, nor the codename, left the browsers or reached the server.
    sent = sent_bytes(page_log) + sent_bytes(return_log)
    stored = database_dump(app) + b"".join(
        p.read_bytes() for p in state_of(app).config.blob_path.iterdir())
    secrets = [NOTES[:60], SCHEDULE[:40], photo[-200:-100], b"IMG_0042", b"schedule.txt",
               REPORT.encode(), REPLY.encode(), *codename_forms(codename)]
    for secret in secrets:
        assert secret not in sent and secret not in stored
    assert page_log.console_errors == [] and return_log.console_errors == []


def test_retaliation_report_from_the_case_page(make_page: Any, live_server: str, app: Flask,
                                               recipients: dict[str, Account]) -> None:
    board2 = recipients["board2"].id
    _response, first_codename = ReporterClient(app.test_client()).submit(
        REPORT, concerned_staff_ids=(board2,))
    page = make_page()
    log = watch(page)
    open_case(page, live_server, first_codename)
    first_number = page.locator("#case-number").inner_text()
    page.click("#retaliation")
    page.wait_for_url("**/report/new?retaliation=1")
    expect(page.locator("#retaliation-note")).to_contain_text(f"linked to your report "
                                                              f"{first_number}")
    expect(page.locator("#category")).to_have_value("retaliation")
    # The first report left board2 out: so does this one, ticked and fixed on the page.
    inherited = page.locator(f'input[name="concerned"][value="{board2}"]')
    expect(inherited).to_be_checked()
    expect(inherited).to_be_disabled()
    expect(page.locator("#readers-escalation")).not_to_contain_text("board2")
    page.fill("#report-text", "I was taken off the launch team the week after reporting.")
    page.click("#report-submit")
    expect(page.locator("#receipt")).to_be_visible()
    expect(page.locator("#receipt-linked")).to_contain_text("keep both codenames")
    second_codename = page.locator("#receipt-codename").inner_text().strip()
    assert second_codename != first_codename
    with app.app_context():
        first = db.session.scalars(db.select(Case).where(Case.number == first_number)).one()
        second = db.session.scalars(db.select(Case).where(Case.id != first.id)).one()
        assert (second.linked_case_id, second.link_kind, second.category) == (
            first.id, "retaliation", "retaliation")
        assert [e.staff_id for e in second.exclusions] == [board2]
    # The link came from the session: the request names no case.
    [filed] = [r for r in log.requests if r.url.endswith("/api/v1/reports")]
    assert first_number.encode() not in filed.post_data_buffer
    assert first.case_ref.encode() not in filed.post_data_buffer
    assert log.console_errors == []
