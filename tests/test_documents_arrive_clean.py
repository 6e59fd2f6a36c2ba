"""Documents with planted metadata (tests/vectors/cleaning/) sent through the page without
JavaScript and through the command-line client arrive, decrypted by a recipient, without it; the
reporter is told what was removed before (client) or as (page) they are sent. The browser's way
is in tests/test_browser_documents.py."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Attachment
from app.state import state_of
from tests.support.attachments import staff_files
from tests.support.casework import CaseworkClient
from tests.support.cleaning import check_cleaned, planted, vector
from tests.support.staff import Account, StaffLogin
from tests.test_attachments_plain import recipients, submit_with  # noqa: F401 - a fixture
from tests.test_cli_report import (  # noqa: F401 - fixtures among them
    codename_of,
    org_fingerprint,
    rso,
    submit,
    the_case,
)
from tests.test_reporter_plain import REPLY, open_case, page

DOCUMENTS = ("planted.docx", "planted.xlsx", "planted.pdf")
_NUMBER = re.compile(r'<dd id="case-number">([^<]+)</dd>')
_CODENAME = re.compile(r'id="codename-copy" readonly[^>]*value="([^"]+)"')


def _arrived_clean(received: dict[str, bytes]) -> None:
    for name in DOCUMENTS:
        case = vector(name)
        assert received[name] != planted(name)
        # The report is checked in tests/test_document_cleaning.py; here what arrived.
        check_cleaned({**case, "removed": [], "kept": []}, received[name], {}, [])


def test_documents_sent_without_javascript_arrive_clean(
        app: Flask, client: FlaskClient, staff: StaffLogin,
        recipients: dict[str, Account]) -> None:  # noqa: F811
    response = submit_with(client, *((name, planted(name)) for name in DOCUMENTS))
    assert response.status_code == 200, page(response)
    receipt = html.unescape(page(response))
    for name in DOCUMENTS:
        assert f"{name}: cleaned, then encrypted; removed: " in receipt
    assert "tracked-change authors and dates (2)" in receipt  # the docx's two changes
    assert "earlier versions (1)" in receipt  # the PDF's incremental update
    assert "kept: the visible text" in receipt
    number = _NUMBER.search(receipt).group(1)  # type: ignore[union-attr]
    worker = CaseworkClient(app.test_client(), staff, recipients["rso1"])
    _arrived_clean(staff_files(worker, number))


def test_a_document_sent_with_a_reply_without_javascript_says_what_was_removed(
        app: Flask, client: FlaskClient, staff: StaffLogin,
        recipients: dict[str, Account]) -> None:  # noqa: F811
    response = submit_with(client)
    codename = html.unescape(_CODENAME.search(response.get_data(as_text=True)).group(1))  # type: ignore[union-attr]
    number = _NUMBER.search(page(response)).group(1)  # type: ignore[union-attr]
    reader = app.test_client()
    opened = open_case(reader, codename)
    form_token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"',
                           opened.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    answer = reader.post(REPLY, content_type="multipart/form-data", data={
        "csrf_token": form_token, "codename": codename, "text": "",
        "attachments": [(io.BytesIO(planted("planted.odt")), "minutes.odt")]})
    assert answer.status_code == 200, page(answer)
    shown = html.unescape(page(answer))
    assert "Your files were sent. minutes.odt: cleaned before it was encrypted; removed: " in shown
    assert "earlier versions (1)" in shown
    worker = CaseworkClient(app.test_client(), staff, recipients["rso1"])
    received = staff_files(worker, number)["minutes.odt"]
    check_cleaned({**vector("planted.odt"), "removed": [], "kept": []}, received, {}, [])


def test_a_document_that_cannot_be_cleaned_is_not_sent_without_javascript(
        app: Flask, client: FlaskClient, recipients: dict[str, Account]) -> None:  # noqa: F811
    response = submit_with(client, ("minutes.pdf", b"%PDF-1.7\nnot really a PDF " * 50))
    assert response.status_code == 400
    shown = page(response)
    assert "Nothing was sent" in shown and "minutes.pdf: the PDF could not be read" in shown
    with app.app_context():
        assert db.session.scalars(db.select(Attachment)).all() == []


def test_a_document_over_the_limit_is_refused_as_it_arrives(
        app: Flask, make_app: Any, recipients: dict[str, Account]) -> None:  # noqa: F811
    """A document is held until complete to be cleaned: its size counts as it arrives, not
    only once cleaned and encrypted."""
    small = make_app(max_attachment_bytes=1024**2, max_case_attachment_bytes=2 * 1024**2,
                     instance_path=state_of(app).config.instance_path)
    big = submit_with(small.test_client(),
                      ("scan.pdf", planted("planted.pdf") + b"%" + b"\0" * 1024**2))
    assert big.status_code == 413 and "scan.pdf is too large" in page(big)
    with small.app_context():
        assert db.session.scalars(db.select(Attachment)).all() == []


def test_documents_held_together_are_counted_and_capped(
        app: Flask, make_app: Any, recipients: dict[str, Account]) -> None:  # noqa: F811
    """Documents are held until complete, all of a request's at once: together they count
    towards the case's total as they arrive, and may take no more than one attachment may."""
    small = make_app(max_attachment_bytes=1024**2, max_case_attachment_bytes=4 * 1024**2,
                     instance_path=state_of(app).config.instance_path)
    padding = b"%" + b"\0" * (600 * 1024)
    two = submit_with(small.test_client(), ("a.pdf", planted("planted.pdf") + padding),
                      ("b.pdf", planted("planted.pdf") + padding))
    assert two.status_code == 413 and "Documents sent together may take up to 1 MiB" in page(two)
    one = submit_with(small.test_client(), ("a.pdf", planted("planted.pdf") + padding),
                      ("notes.txt", b"\1" * (600 * 1024)))
    assert one.status_code == 200, page(one)
    with small.app_context():
        assert len(db.session.scalars(db.select(Attachment)).all()) == 2


def test_documents_sent_from_the_command_line_arrive_clean(
        app: Flask, live_server: str, org_fingerprint: str, staff: StaffLogin,  # noqa: F811
        rso: Account, tmp_path: Path) -> None:  # noqa: F811
    folder = tmp_path / "files"
    folder.mkdir()
    attach = []
    for name in DOCUMENTS:
        (folder / name).write_bytes(planted(name))
        attach += ["--attach", str(folder / name)]
    filed = submit(live_server, org_fingerprint, tmp_path / "home", *attach, "--yes")
    assert filed.exit_code == 0, filed.output
    for name in DOCUMENTS:
        assert f"{name}: a document, cleaned before it is encrypted; removed: " in filed.stderr
    assert "tracked-change authors and dates (2)" in filed.stderr
    # Said before anything was sent.
    assert filed.stderr.index("planted.pdf: a document") < filed.stderr.index("Sent planted.docx")
    codename_of(filed)
    with app.app_context():
        number = the_case().number
    _arrived_clean(staff_files(CaseworkClient(app.test_client(), staff, rso), number))


def test_the_command_line_stops_before_sending_a_document_it_cannot_clean(
        app: Flask, live_server: str, org_fingerprint: str, rso: Account,  # noqa: F811
        tmp_path: Path) -> None:
    broken = tmp_path / "minutes.docx"
    broken.write_bytes(b"PK\x03\x04" + bytes(200))
    filed = submit(live_server, org_fingerprint, tmp_path / "home", "--attach", str(broken),
                   "--yes")
    assert filed.exit_code == 1
    assert "minutes.docx cannot be cleaned: the document's zip structure is damaged. Nothing " \
           "was sent." in filed.output
    with app.app_context():
        from app.models import Case
        assert db.session.scalars(db.select(Case)).all() == []
