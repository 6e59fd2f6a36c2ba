"""Attachments over the JSON API: resumable chunked uploads of ciphertext, what the server checks
without keys, downloads for the reporter and for staff, and removing abandoned uploads."""

from __future__ import annotations

import base64
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Attachment, Case, CaseRecord
from app.roles import Role
from app.services import attachments
from app.services.blobs import BlobStore
from app.state import state_of
from candor_reporter import protocol
from crypto.stream import FRAME_SIZE, HEADER_SIZE, decrypt_chunks, decrypt_file_key
from tests.support.attachments import staff_attach, staff_files
from tests.support.casework import CaseworkClient
from tests.support.reporting import ReporterClient
from tests.support.staff import Account, StaffLogin

SECRET_FILE = b"Minutes of the 3 March launch review: the eval was skipped. " * 3000  # 180 kB
UPLOADS = "/api/v1/reporter/attachments"


@pytest.fixture
def recipients(staff: StaffLogin) -> dict[str, Account]:
    return {name: staff.create(name, role) for name, role in (
        ("rso1", Role.RSO), ("exec1", Role.EXECUTIVE), ("board1", Role.BOARD))}


@pytest.fixture
def reporter(client: FlaskClient, recipients: dict[str, Account]
             ) -> tuple[ReporterClient, protocol.OpenedCase, str]:
    """A reporter with a filed report whose session is open; and the codename."""
    reporting = ReporterClient(client)
    _response, codename = reporting.submit()
    view = reporting.open(codename).get_json()
    return reporting, protocol.open_case(view, codename), codename


def blob_bytes(app: Flask) -> bytes:
    folder: Path = state_of(app).config.blob_path
    return b"".join(p.read_bytes() for p in sorted(folder.iterdir())) if folder.is_dir() else b""


def rows(app: Flask) -> list[tuple[str, int, int]]:
    with app.app_context():
        return [(a.state, a.chunk_count, a.ciphertext_size)
                for a in db.session.scalars(db.select(Attachment))]


def started(reporting: ReporterClient, opened: protocol.OpenedCase, size: int
            ) -> protocol.OutgoingAttachment:
    upload = protocol.OutgoingAttachment.for_file("notes.txt", size)
    answer = reporting.post(UPLOADS, upload.start_body(opened.key_epoch))
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["received_chunks"] == 0
    return upload


def test_upload_read_back_and_staff_download(
        app: Flask, client: FlaskClient, staff: StaffLogin, recipients: dict[str, Account],
        reporter: tuple[ReporterClient, protocol.OpenedCase, str]) -> None:
    reporting, opened, codename = reporter
    ref = reporting.attach(opened, SECRET_FILE, "launch review.txt")
    view = client.get("/api/v1/reporter/case").get_json()
    [item] = view["attachments"]
    assert item["attachment_ref"] == ref and item["author"] == "reporter"
    assert item["frames"] == len(SECRET_FILE) // 65536 + 1
    assert item["size"] == HEADER_SIZE + item["frames"] * FRAME_SIZE
    assert item["created_on"] == date.today().isoformat()
    # The key and name records are listed with their attachment, not among the messages.
    assert {r["kind"] for r in view["records"]} == {"report"}
    assert reporting.download(opened, view, ref) == ("launch review.txt", SECRET_FILE)

    # Coming back later with the codename gives the same.
    again = ReporterClient(app.test_client())
    view = again.open(codename).get_json()
    assert again.download(protocol.open_case(view, codename), view, ref)[1] == SECRET_FILE

    rso = CaseworkClient(app.test_client(), staff, recipients["rso1"])
    number = view["number"]
    response = rso.get(f"/api/v1/staff/cases/{number}/attachments/{ref}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/octet-stream"
    staff_view = rso.case(number)
    [listed] = staff_view["attachments"]
    assert listed["attachment_ref"] == ref and listed["visible_to_reporter"] is True
    file_key = decrypt_file_key(rso.case_key(staff_view), staff_view["case_ref"],
                                listed["key_record"]["record_ref"],
                                base64.b64decode(listed["key_record"]["ciphertext"]))
    assert b"".join(decrypt_chunks(file_key, staff_view["case_ref"], ref,
                                   [response.get_data()])) == SECRET_FILE
    assert staff_files(rso, number) == {"launch review.txt": SECRET_FILE}
    with app.app_context():
        case = db.session.scalars(db.select(Case)).one()
        assert attachments.describe(case, visible_to_reporter_only=False)[0][
            "visible_to_reporter"] is True

    # Staff who may not see the case get a 404, like for a case that does not exist.
    exec1 = CaseworkClient(app.test_client(), staff, recipients["exec1"])
    assert exec1.get(f"/api/v1/staff/cases/{number}/attachments/{ref}").status_code == 404
    # Neither the content nor its name is stored anywhere in plain form.
    for secret in (SECRET_FILE[:40], b"launch review"):
        assert secret not in blob_bytes(app)
    names = {p.name for p in state_of(app).config.blob_path.iterdir()}
    assert all(len(name) == 32 for name in names)


def test_staff_attach_files_to_a_message_or_a_note(
        app: Flask, client: FlaskClient, staff: StaffLogin, recipients: dict[str, Account],
        reporter: tuple[ReporterClient, protocol.OpenedCase, str]) -> None:
    reporting, opened, _codename = reporter
    number = client.get("/api/v1/reporter/case").get_json()["number"]
    rso = CaseworkClient(app.test_client(), staff, recipients["rso1"])
    view = rso.case(number)
    prefix = f"/api/v1/staff/cases/{number}"
    refs = {}
    for visible in (True, False):
        upload = protocol.OutgoingAttachment.for_file(f"visible-{visible}.txt", 10)
        body = {**upload.start_body(view["key_epoch"]), "visible_to_reporter": visible}
        assert rso.post(f"{prefix}/attachments", body).status_code == 201
        frames = 0
        for index, (chunk, count) in enumerate(upload.chunks(view["case_ref"], [b"x" * 10])):
            frames += count
            answer = rso.client.put(f"{prefix}/attachments/{upload.attachment_ref}/chunks/"
                                    f"{index}", data=chunk, headers={"X-CSRFToken": rso.token})
            assert answer.status_code == 200, answer.get_json()
        done = rso.post(f"{prefix}/attachments/{upload.attachment_ref}/complete",
                        upload.completion_body(rso.case_key(view), view["case_ref"], frames, 10))
        assert done.status_code == 200, done.get_json()
        refs[visible] = upload.attachment_ref

    reporter_view = client.get("/api/v1/reporter/case").get_json()
    assert [a["attachment_ref"] for a in reporter_view["attachments"]] == [refs[True]]
    assert reporting.download(opened, reporter_view, refs[True]) == ("visible-True.txt",
                                                                      b"x" * 10)
    assert client.get(f"{UPLOADS}/{refs[False]}").status_code == 404
    # A staff upload is not the reporter's to add to, nor another staff member's.
    assert reporting.put(f"{UPLOADS}/{refs[True]}/chunks/1", b"x").status_code == 404
    board = CaseworkClient(app.test_client(), staff, recipients["exec1"])
    assert board.get(f"{prefix}/attachments/{refs[True]}/status").status_code == 404


def test_a_broken_connection_resumes_where_the_server_stopped(
        app: Flask, reporter: tuple[ReporterClient, protocol.OpenedCase, str]) -> None:
    reporting, opened, _codename = reporter
    data = os.urandom(3 * 65536 + 10)
    upload = started(reporting, opened, len(data))
    chunks = list(upload.chunks(opened.case_ref, [data], frames_per_chunk=1))
    assert len(chunks) == 4
    base = f"{UPLOADS}/{upload.attachment_ref}"
    assert reporting.put(f"{base}/chunks/0", chunks[0][0]).status_code == 200
    # Chunk 1 "got lost"; chunk 2 is refused with where to go on.
    skipped = reporting.put(f"{base}/chunks/2", chunks[2][0])
    assert skipped.status_code == 409 and "next one is chunk 1" in skipped.get_json()["message"]
    status = reporting.client.get(f"{base}/status").get_json()
    assert (status["received_chunks"], status["received_frames"]) == (1, 1)
    assert reporting.put(f"{base}/chunks/0", chunks[0][0]).status_code == 409  # sent twice
    early = reporting.post(f"{base}/complete",
                           upload.completion_body(opened.case_key, opened.case_ref, 4, len(data)))
    assert early.status_code == 409 and "incomplete" in early.get_json()["message"]
    for index in (1, 2, 3):
        assert reporting.put(f"{base}/chunks/{index}", chunks[index][0]).status_code == 200
    done = reporting.post(f"{base}/complete",
                          upload.completion_body(opened.case_key, opened.case_ref, 4, len(data)))
    assert done.status_code == 200 and done.get_json()["state"] == "complete"
    view = reporting.client.get("/api/v1/reporter/case").get_json()
    assert reporting.download(opened, view, upload.attachment_ref)[1] == data
    again = reporting.post(f"{base}/complete",
                           upload.completion_body(opened.case_key, opened.case_ref, 4, len(data)))
    assert again.status_code == 409
    assert reporting.put(f"{base}/chunks/4", chunks[3][0]).status_code == 409


def test_bad_uploads_are_refused_before_anything_is_stored(
        app: Flask, reporter: tuple[ReporterClient, protocol.OpenedCase, str]) -> None:
    reporting, opened, _codename = reporter
    good = protocol.OutgoingAttachment.for_file("a.txt", 200_000)  # 4 frames at most

    def start(**changes: Any) -> Any:
        return reporting.post(UPLOADS, {**good.start_body(opened.key_epoch), **changes})

    for changes, status, words in (
            ({"attachment_ref": "a-XYZ"}, 400, "malformed"),
            ({"attachment_ref": "../../etc/passwd"}, 400, "malformed"),
            ({"max_frames": 0}, 400, "malformed"),
            ({"max_frames": "4"}, 400, "whole number"),
            ({"max_frames": 2**40}, 400, "whole number between"),
            ({"max_frames": 40_000}, 413, "too large"),  # 2.6 GB > the 2 GiB default
            ({"key_epoch": 2}, 400, "key changed")):
        answer = start(**changes)
        assert answer.status_code == status, (changes, answer.get_json())
        assert words in answer.get_json()["message"]
    assert rows(app) == [] and blob_bytes(app) == b""

    assert start().status_code == 201
    assert start().status_code == 409  # the same identifier twice
    base = f"{UPLOADS}/{good.attachment_ref}"
    [(first, _frames), *rest] = good.chunks(opened.case_ref, [b"y" * 200_000],
                                           frames_per_chunk=1)
    versioned = b"\x02" + first[1:]
    for index, body, status, words in (
            (0, versioned, 400, "unsupported version"),
            (0, first[:-1], 400, "whole frames"),
            (0, first[:HEADER_SIZE], 400, "whole frames"),
            (0, first + b"z" * 17, 400, "whole frames"),
            (0, first + rest[0][0] + rest[1][0] + rest[2][0] + b"\0" * FRAME_SIZE, 413,
             "larger than was announced"),
            (0, b"\x01" + b"\0" * (HEADER_SIZE - 1 + 17 * FRAME_SIZE), 413, "at most 16"),
            (1, rest[0][0], 409, "next one is chunk 0")):
        answer = reporting.put(f"{base}/chunks/{index}", body)
        assert answer.status_code == status, (index, answer.get_json())
        assert words in answer.get_json()["message"]
    assert rows(app) == [("uploading", 0, 0)] and blob_bytes(app) == b""
    # A body shorter than its announced length is refused too.
    short = reporting.client.put(f"{base}/chunks/0", data=first[:100],
                                 headers={"X-CSRFToken": reporting.token},
                                 environ_overrides={"CONTENT_LENGTH": str(len(first))})
    assert short.status_code == 400
    assert rows(app) == [("uploading", 0, 0)] and blob_bytes(app) == b""

    assert reporting.put(f"{base}/chunks/0", first).status_code == 200
    completion = good.completion_body(opened.case_key, opened.case_ref, 1, 200_000)
    for broken, words in (
            ({**completion, "frames": 2}, "incomplete"),
            ({**completion, "name_record": completion["key_record"]}, "two record"),
            ({**completion, "key_record": {"record_ref": "r-1", "ciphertext": "AQ=="}},
             "malformed"),
            ({**completion, "key_record": {**completion["key_record"], "ciphertext": "AgAA"}},
             "malformed")):
        answer = reporting.post(f"{base}/complete", broken)
        assert answer.status_code in (400, 409) and words in answer.get_json()["message"]
    with app.app_context():
        assert db.session.scalars(db.select(CaseRecord.kind)).all() == ["report"]
    # An attachment of another case is not found; without a session nothing is.
    assert reporting.client.get(f"{UPLOADS}/a-{'0' * 32}/status").status_code == 404
    assert reporting.client.get(f"{base}").status_code == 404  # not complete yet
    assert reporting.post("/api/v1/reporter/leave", {}).status_code == 200
    assert reporting.client.get(f"{base}/status").status_code == 401
    reporting.token = reporting.client.get("/api/v1/session").get_json()["csrf_token"]
    assert reporting.put(f"{base}/chunks/1", rest[0][0]).status_code == 401


def test_the_size_of_a_case_s_attachments_is_limited(
        app: Flask, make_app: Any, recipients: dict[str, Account]) -> None:
    # The same instance folder, so the same organisation key and pinned fingerprint.
    small = make_app(max_attachment_bytes=2 * 1024**2, max_case_attachment_bytes=3 * 1024**2,
                     instance_path=state_of(app).config.instance_path)
    reporting = ReporterClient(small.test_client())
    response, codename = reporting.submit()
    assert response.status_code == 201, response.get_json()
    view = reporting.open(codename).get_json()
    opened = protocol.open_case(view, codename)
    two_mib = (2 * 1024**2 - HEADER_SIZE) // FRAME_SIZE  # the most frames that fit in 2 MiB
    first = reporting.post(UPLOADS, protocol.OutgoingAttachment.for_file("a", 1).start_body(1)
                           | {"max_frames": two_mib})
    assert first.status_code == 201
    too_big = reporting.post(UPLOADS, protocol.OutgoingAttachment.for_file("b", 1).start_body(1)
                             | {"max_frames": two_mib + 1})
    assert too_big.status_code == 413 and "too large" in too_big.get_json()["message"]
    over_case = reporting.post(UPLOADS, protocol.OutgoingAttachment.for_file("c", 1)
                               .start_body(1) | {"max_frames": two_mib})
    assert over_case.status_code == 413 and "go over" in over_case.get_json()["message"]
    assert reporting.attach(opened, b"small", "small.txt")


def test_abandoned_uploads_are_removed_by_housekeeping(
        app: Flask, reporter: tuple[ReporterClient, protocol.OpenedCase, str]) -> None:
    reporting, opened, _codename = reporter
    kept = reporting.attach(opened, b"finished", "kept.txt")
    abandoned = started(reporting, opened, 10)
    recent = started(reporting, opened, 10)
    blob_path: Path = state_of(app).config.blob_path
    orphan = blob_path / ("f" * 32)
    orphan.write_bytes(b"left by a failed request")
    three_days_ago = (datetime.now(UTC) - timedelta(days=3)).timestamp()
    os.utime(orphan, (three_days_ago, three_days_ago))
    fresh_orphan = blob_path / ("e" * 32)
    fresh_orphan.write_bytes(b"being written right now")
    with app.app_context():
        row = db.session.scalars(db.select(Attachment).where(
            Attachment.attachment_ref == abandoned.attachment_ref)).one()
        row.created_on = date.today() - timedelta(days=attachments.STALE_UPLOAD_DAYS)
        gone_blob = row.blob_id
        db.session.commit()
        now = datetime.now(UTC).replace(tzinfo=None)
        assert attachments.purge_stale_uploads(db.session, now, BlobStore(blob_path)) == 1
        db.session.commit()
        assert attachments.purge_stale_uploads(db.session, now, BlobStore(blob_path)) == 0
        left = set(db.session.scalars(db.select(Attachment.attachment_ref)))
    assert left == {kept, recent.attachment_ref}
    assert not (blob_path / gone_blob).exists() and not orphan.exists()
    assert fresh_orphan.exists()


def test_blob_times_say_only_the_day(
        app: Flask, reporter: tuple[ReporterClient, protocol.OpenedCase, str]) -> None:
    reporting, opened, _codename = reporter
    reporting.attach(opened, b"when was this sent?", "when.txt")
    for path in state_of(app).config.blob_path.iterdir():
        stat = path.stat()
        for stamp in (stat.st_mtime, stat.st_atime):
            moment = datetime.fromtimestamp(stamp, UTC)
            assert (moment.hour, moment.minute, moment.second) == (0, 0, 0)


def test_a_long_name_of_four_byte_characters_is_kept(
        app: Flask, client: FlaskClient, staff: StaffLogin, recipients: dict[str, Account],
        reporter: tuple[ReporterClient, protocol.OpenedCase, str]) -> None:
    """255 emoji are 1020 bytes of UTF-8, so the name record fills the 1 KiB bucket and its
    ciphertext is 1065 bytes: the small-record limit must admit it."""
    number = client.get("/api/v1/reporter/case").get_json()["number"]
    rso = CaseworkClient(app.test_client(), staff, recipients["rso1"])
    name = "\U0001f4c4" * 255
    staff_attach(rso, number, name, b"minutes")
    assert staff_files(rso, number) == {name: b"minutes"}
