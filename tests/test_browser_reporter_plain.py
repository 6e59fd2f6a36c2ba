"""The whole no-JavaScript journey in Chromium with JavaScript turned off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.roles import Role
from app.state import state_of
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


NOTES = b"Migration log, 14 October: bucket tmp-export created by the ops account.\n" * 2000
STAFF_ACK = "We received your report; the security team is looking into it."
STAFF_REPLY = "Thank you. Do you know who ran the export?"
FOLLOW_UP = b"The export job ran under the ops-batch service account.\n"


def test_attachments_both_ways_without_javascript(
        make_page: Any, live_server: str, app: Any, staff: StaffLogin) -> None:
    """Submit with two attachments (a photo whose EXIF holds GPS), come back, read the
    acknowledgement and a reply written by staff, and reply with an attachment."""
    import io
    import re

    from PIL import Image

    from tests.support.attachments import staff_files
    from tests.support.casework import CaseworkClient
    from tests.support.dump import database_dump
    from tests.support.images import GPS_MARK, pillow_jpeg

    rso = staff.create("rso1", Role.RSO)
    staff.create("board1", Role.BOARD)
    photo = pillow_jpeg()
    page = make_page(java_script_enabled=False)
    page.goto(live_server + "/report/plain/new")
    assert "never written to disk unencrypted" in page.locator("#attachments-hint").inner_text()
    page.get_by_label("What is it about?").select_option("weights-security")
    page.get_by_label("Your report", exact=True).fill(REPORT)
    page.set_input_files("#attachments", files=[
        {"name": "IMG_2231.jpg", "mimeType": "image/jpeg", "buffer": photo},
        {"name": "migration.log", "mimeType": "text/plain", "buffer": NOTES}])
    page.get_by_role("button", name="Encrypt and send").click()
    assert page.locator("h1").inner_text() == "Your report was sent"
    sent = page.locator("#sent-files").inner_text()
    assert "IMG_2231.jpg: hidden photo details removed" in sent
    assert "migration.log: sent exactly as it was" in sent
    codename = page.locator("#codename").inner_text().strip()
    number = page.locator("#case-number").inner_text().strip()

    worker = CaseworkClient(app.test_client(), staff, rso)
    files = staff_files(worker, number)
    assert files["migration.log"] == NOTES
    assert GPS_MARK not in files["IMG_2231.jpg"]
    with Image.open(io.BytesIO(files["IMG_2231.jpg"])) as image:
        assert image.size == (64, 48) and not image.getexif()
    assert worker.acknowledge(number, STAFF_ACK).status_code == 200
    assert worker.write(number, "message", STAFF_REPLY).status_code == 201

    later = make_page(java_script_enabled=False, accept_downloads=True)
    later.goto(live_server + "/report/plain/open")
    later.get_by_label("Your codename").fill(codename)
    later.get_by_role("button", name="Open my report").click()
    assert later.locator("#case-status").inner_text() == "Acknowledged"
    conversation = later.locator("#messages").inner_text()
    assert STAFF_ACK in conversation and STAFF_REPLY in conversation
    with later.expect_download() as download:
        later.get_by_role("button", name="Download migration.log").click()
    assert download.value.suggested_filename == "candor-attachment.log"
    assert Path(download.value.path()).read_bytes() == NOTES

    later.get_by_label("Your message").fill(REPLY)
    later.set_input_files("#attachments", files=[
        {"name": "export-job.txt", "mimeType": "text/plain", "buffer": FOLLOW_UP}])
    later.get_by_role("button", name="Encrypt and send").click()
    assert "Your message was sent." in later.content()
    assert "Download export-job.txt" in later.content()
    assert staff_files(worker, number)["export-job.txt"] == FOLLOW_UP
    view = worker.case(number)
    assert REPLY in [worker.read(view, r) for r in view["records"] if r["kind"] == "message"]

    stored = database_dump(app) + b"".join(
        p.read_bytes() for p in state_of(app).config.blob_path.iterdir())
    for secret in (NOTES[:60], FOLLOW_UP[:40], photo[-200:-100], b"IMG_2231", REPORT.encode(),
                   codename.encode()):
        assert secret not in stored
    assert not re.search(codename, str(later.context.cookies()))
