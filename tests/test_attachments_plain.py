"""Attachments without JavaScript: files cleaned and encrypted as the form's body streams in,
never spooled to disk in plain form; downloads decrypted for one request."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path
from typing import Any

import pytest
import werkzeug.formparser
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.test import EnvironBuilder, stream_encode_multipart

from app.extensions import db
from app.models import Attachment, CaseRecord
from app.roles import Role
from app.state import state_of
from candor_reporter.file_size import format_bytes
from crypto.envelope import encode_file_name
from tests.support.attachments import staff_attach, staff_files
from tests.support.casework import CaseworkClient
from tests.support.dump import database_dump
from tests.support.images import GPS_MARK, handmade_jpeg, pillow_jpeg
from tests.support.staff import Account, StaffLogin
from tests.test_reporter_plain import NEW, OPEN, REPLY, TEXT, open_case, page, token

NOTES = b"Launch checklist, page 2: eval sign-off missing.\n" * 3000  # 150 kB
_CODENAME = re.compile(r'id="codename-copy" readonly[^>]*value="([^"]+)"')
_NUMBER = re.compile(r'<dd id="case-number">([^<]+)</dd>')


@pytest.fixture
def recipients(staff: StaffLogin) -> dict[str, Account]:
    return {name: staff.create(name, role) for name, role in (
        ("rso1", Role.RSO), ("exec1", Role.EXECUTIVE), ("board1", Role.BOARD))}


@pytest.fixture
def no_spooling(monkeypatch: pytest.MonkeyPatch) -> None:
    """Werkzeug's own handling of uploads would spool them to temporary files: fail if used."""
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("an upload was spooled to a temporary file")

    monkeypatch.setattr(werkzeug.formparser, "SpooledTemporaryFile", refuse)


def files(*items: tuple[str, bytes]) -> list[tuple[io.BytesIO, str]]:
    return [(io.BytesIO(data), name) for name, data in items]


def post_files(client: FlaskClient, path: str, data: dict[str, Any]) -> Any:
    """POST a multipart body encoded in memory (the test client would use a temporary file for a
    large one and leave it open when the server stops reading early)."""
    builder = EnvironBuilder(path=path, method="POST", data=data)
    try:
        stream, length, boundary = stream_encode_multipart(
            CombinedMultiDict([builder.form, builder.files]), use_tempfile=False)
    finally:
        builder.close()
    return client.post(path, input_stream=stream, content_length=length,
                       content_type=f"multipart/form-data; boundary={boundary}")


def submit_with(client: FlaskClient, *items: tuple[str, bytes], **fields: Any) -> Any:
    """Files sent the way the page sends them: the token in the form and in its address."""
    csrf = token(client)
    data = {"csrf_token": csrf, "route": "rso", "category": "asl3-deployment",
            "text": TEXT, "send": "Encrypt and send", "attachments": files(*items), **fields}
    response = post_files(client, f"{NEW}?csrf_token={csrf}", data)
    # A filed report redirects to its receipt, shown once.
    return client.get(response.location) if response.status_code == 303 else response


def blob_files(app: Flask) -> list[Path]:
    folder: Path = state_of(app).config.blob_path
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_files_sent_with_a_report_are_cleaned_and_encrypted_as_they_arrive(
        app: Flask, client: FlaskClient, staff: StaffLogin, recipients: dict[str, Account],
        no_spooling: None) -> None:
    photo = pillow_jpeg()
    response = submit_with(client, ("IMG_0042.jpg", photo), ("checklist.txt", NOTES))
    assert response.status_code == 200, page(response)
    receipt = page(response)
    codename = html.unescape(_CODENAME.search(response.get_data(as_text=True)).group(1))
    number = _NUMBER.search(receipt).group(1)
    assert "IMG_0042.jpg: hidden photo details removed" in receipt
    assert "checklist.txt: sent exactly as it was" in receipt

    rso = CaseworkClient(app.test_client(), staff, recipients["rso1"])
    received = staff_files(rso, number)
    assert received["checklist.txt"] == NOTES
    assert GPS_MARK not in received["IMG_0042.jpg"]
    with Image.open(io.BytesIO(received["IMG_0042.jpg"])) as image:
        assert image.size == (64, 48) and not image.getexif()
    stored = database_dump(app) + b"".join(p.read_bytes() for p in blob_files(app))
    for secret in (NOTES[:50], photo[-300:-200], b"IMG_0042", b"checklist", codename.encode()):
        assert secret not in stored
    assert len(blob_files(app)) == 2


def test_reply_with_a_file_and_download_one_without_javascript(
        app: Flask, client: FlaskClient, staff: StaffLogin, recipients: dict[str, Account],
        no_spooling: None) -> None:
    response = submit_with(client)
    codename = html.unescape(_CODENAME.search(response.get_data(as_text=True)).group(1))
    number = _NUMBER.search(page(response)).group(1)
    rso = CaseworkClient(app.test_client(), staff, recipients["rso1"])
    staff_attach(rso, number, "policy v2.pdf", b"%PDF-1.7 the policy" * 1000)

    reader = app.test_client()
    opened = open_case(reader, codename)
    shown = page(opened)
    assert "Download policy v2.pdf" in shown and "from the recipients" in shown
    assert ", 18.6 KB</span>" in shown  # 19,000 bytes, stated in the name record
    ref = re.search(r'name="attachment_ref" value="([^"]+)"', shown).group(1)
    form_token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"',
                           opened.get_data(as_text=True)).group(1)
    download = reader.post("/report/plain/attachment", data={
        "csrf_token": form_token, "codename": codename, "attachment_ref": ref})
    assert download.status_code == 200
    assert download.get_data() == b"%PDF-1.7 the policy" * 1000
    assert download.headers["Content-Disposition"] == \
        "attachment; filename=candor-attachment.pdf"
    assert download.headers["Cache-Control"] == "no-store"

    answer = reader.post(REPLY, content_type="multipart/form-data", data={
        "csrf_token": form_token, "codename": codename, "text": "",
        "attachments": files(("photo.jpg", handmade_jpeg()))})
    assert answer.status_code == 200, page(answer)
    assert "Your files were sent." in page(answer) and "Download photo.jpg" in page(answer)
    cleaned = staff_files(rso, number)["photo.jpg"]
    assert GPS_MARK not in cleaned
    # The size the page states is the one the stream carries: the photo less its metadata.
    assert len(cleaned) < len(handmade_jpeg())
    assert f", {format_bytes(len(cleaned))}</span>" in page(answer)

    # A blob altered on disk is refused whole, never sent half-checked.
    with app.app_context():
        attachment = db.session.scalars(db.select(Attachment).where(
            Attachment.attachment_ref == ref)).one()
        path = state_of(app).config.blob_path / attachment.blob_id
    data = bytearray(path.read_bytes())
    data[-5] ^= 1
    path.write_bytes(bytes(data))
    token_now = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"',
                          answer.get_data(as_text=True)).group(1)
    refused = reader.post("/report/plain/attachment", data={
        "csrf_token": token_now, "codename": codename, "attachment_ref": ref})
    assert refused.status_code == 409 and "could not be decrypted" in page(refused)
    wrong = reader.post("/report/plain/attachment", data={
        "csrf_token": token_now, "codename": "abacus " * 7, "attachment_ref": ref})
    assert wrong.status_code == 404


def test_a_wrong_stated_size_is_said_before_the_file_is_sent_and_older_files_still_open(
        app: Flask, client: FlaskClient, staff: StaffLogin, recipients: dict[str, Account]
        ) -> None:
    response = submit_with(client)
    codename = html.unescape(_CODENAME.search(response.get_data(as_text=True)).group(1))
    number = _NUMBER.search(page(response)).group(1)
    rso = CaseworkClient(app.test_client(), staff, recipients["rso1"])
    data = b"Minutes of the review. " * 400  # 9,200 bytes
    lying = staff_attach(rso, number, "minutes.txt", data,
                         name_content=encode_file_name("minutes.txt", 120))
    older = staff_attach(rso, number, "older.txt", data, name_content=b"older.txt")

    reader = app.test_client()
    shown = page(open_case(reader, codename))
    assert ", 120 bytes</span>" in shown  # the claim, until the file is checked
    assert ", up to 64.0 KB</span>" in shown  # no size recorded: only the frames' capacity

    def download(ref: str, previous: Any, **extra: str) -> Any:
        form_token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"',
                               previous.get_data(as_text=True)).group(1)
        return reader.post("/report/plain/attachment", data={
            "csrf_token": form_token, "codename": codename, "attachment_ref": ref, **extra})

    opened = open_case(reader, codename)
    assert download(older, opened).get_data() == data
    warned = download(lying, opened)
    assert warned.status_code == 409
    assert ("minutes.txt was decrypted and checked, but not sent yet. Its sender's program "
            "stated 120 bytes, but the file is 9.0 KB: the size shown before downloading was "
            "wrong.") in page(warned)
    assert "Download minutes.txt all the same" in page(warned)
    assert 'name="despite_size" value="1"' in warned.get_data(as_text=True)
    anyway = download(lying, warned, despite_size="1")
    assert anyway.status_code == 200 and anyway.get_data() == data


def test_refused_uploads_leave_nothing_behind(
        app: Flask, client: FlaskClient, recipients: dict[str, Account],
        no_spooling: None) -> None:
    damaged = submit_with(client, ("broken.jpg", handmade_jpeg()[:300]), ("ok.txt", b"ok"))
    assert damaged.status_code == 400
    assert "damaged" in page(damaged) and "Choose your files again" in page(damaged)
    invalid = submit_with(client, ("ok.txt", b"ok"), category="gossip")
    assert invalid.status_code == 400 and "Choose your files again" in page(invalid)
    no_token = client.post(NEW, content_type="multipart/form-data", data={
        "route": "rso", "category": "other", "text": TEXT, "send": "Encrypt and send",
        "attachments": files(("ok.txt", b"ok"))})
    assert no_token.status_code == 400 and "Form expired" in page(no_token)
    preview = submit_with(client, ("ok.txt", b"ok"), preview="Show who would read it")
    assert preview.status_code == 200
    with app.app_context():
        assert db.session.scalars(db.select(Attachment)).all() == []
    assert blob_files(app) == []


def test_files_over_the_limits_are_refused(
        app: Flask, make_app: Any, recipients: dict[str, Account], no_spooling: None) -> None:
    small = make_app(max_attachment_bytes=1024**2, max_case_attachment_bytes=2 * 1024**2,
                     instance_path=state_of(app).config.instance_path)
    client = small.test_client()
    big = submit_with(client, ("big.bin", b"\0" * (1024**2 + 1)))
    assert big.status_code == 413 and "big.bin is too large" in page(big)
    many = submit_with(client, *[(f"f{i}.bin", b"\1" * (700 * 1024)) for i in range(3)])
    assert many.status_code == 413 and "up to 2 MiB" in page(many)
    eleven = submit_with(client, *[(f"f{i}.txt", b"x") for i in range(11)])
    assert eleven.status_code == 413 and "at most 10 files" in page(eleven)
    assert blob_files(small) == []
    with small.app_context():
        assert db.session.scalars(db.select(CaseRecord)).all() == []


def test_files_are_not_taken_once_the_session_has_ended(
        app: Flask, client: FlaskClient, recipients: dict[str, Account],
        no_spooling: None) -> None:
    response = submit_with(client)
    codename = html.unescape(_CODENAME.search(response.get_data(as_text=True)).group(1))
    other = app.test_client()  # never opened the case: no session
    answer = other.post(REPLY, content_type="multipart/form-data", data={
        "csrf_token": token(other, OPEN), "codename": codename, "text": "with a file",
        "attachments": files(("late.txt", b"late"))})
    assert answer.status_code == 400 and "session had ended" in page(answer)
    with app.app_context():
        assert db.session.scalars(db.select(CaseRecord.kind)).all() == ["report"]
    assert blob_files(app) == []
