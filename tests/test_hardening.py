"""Regression tests for findings of a security review of case management and attachments: each
one failed before its fix."""

from __future__ import annotations

import base64
import io
import os
import struct
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.extensions import db
from app.roles import Role
from app.services.blobs import BlobStore
from app.state import state_of
from candor_reporter import metadata, protocol
from crypto.envelope import CaseKey, GrantKind, seal_case_key
from tests.support.casework import CaseworkClient, b64
from tests.support.reporting import ReporterClient
from tests.support.staff import StaffLogin
from tests.test_attachments_plain import post_files
from tests.test_reporter_plain import token


def test_an_upload_begun_before_a_revocation_cannot_finish_after_it(
        app: Flask, staff: StaffLogin) -> None:
    people = {name: staff.create(name, Role.RSO) for name in ("rso", "rso2")}
    people["board"] = staff.create("board", Role.BOARD)
    response, _ = ReporterClient(app.test_client()).submit()
    number = response.get_json()["number"]
    rso = CaseworkClient(app.test_client(), staff, people["rso"])
    view = rso.case(number)
    data = b"Written after rso2 lost access. " * 50
    upload = protocol.OutgoingAttachment.for_file("after.txt", len(data))
    prefix = f"/api/v1/staff/cases/{number}/attachments"
    assert rso.post(prefix, upload.start_body(1)).status_code == 201
    frames = 0
    for index, (chunk, count) in enumerate(upload.chunks(view["case_ref"], [data])):
        sent = rso.client.put(f"{prefix}/{upload.attachment_ref}/chunks/{index}", data=chunk,
                              headers={"X-CSRFToken": rso.token})
        assert sent.status_code == 200
        frames += count

    new_key = CaseKey.generate()
    with app.app_context():
        keys = {name: staff.get(name).public_key for name in ("rso", "board")}

    def sealed(kind: str, staff_id: int | None, public_key: bytes, grant: GrantKind
               ) -> dict[str, Any]:
        return {"kind": kind, "staff_id": staff_id,
                "grant": b64(seal_case_key(new_key, public_key, view["case_ref"], grant))}

    grants = [sealed("recipient", people["rso"].id, keys["rso"], GrantKind.RECIPIENT),
              sealed("escrow", people["board"].id, keys["board"], GrantKind.ESCROW),
              sealed("reporter", None, base64.b64decode(view["reporter_public_key"]),
                     GrantKind.REPORTER)]
    assert rso.post(f"/api/v1/staff/cases/{number}/members/{people['rso2'].id}/revoke",
                    {"key_epoch": 2, "grants": grants}).status_code == 200
    body = upload.completion_body(rso.case_key(view, 1), view["case_ref"], frames, len(data))
    done = rso.post(f"{prefix}/{upload.attachment_ref}/complete", body)
    assert done.status_code == 409 and "key changed" in done.get_json()["message"]
    assert rso.case(number)["attachments"] == []


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))


def test_png_keeps_only_the_chunks_that_render() -> None:
    secret = b"signer=Alice Example; device=Pixel 9; gps=37.77,-122.41"
    png = (metadata.PNG_MAGIC + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
           + _png_chunk(b"caBX", b"jumb" + secret) + _png_chunk(b"prVW", secret)
           + _png_chunk(b"iCCP", b"icc\x00\x00" + secret) + _png_chunk(b"gAMA", bytes(4))
           + _png_chunk(b"IDAT", zlib.compress(b"\x00\x00")) + _png_chunk(b"IEND", b""))
    cleaned = metadata.strip(png)
    assert secret not in cleaned
    assert b"gAMA" in cleaned and b"IDAT" in cleaned and cleaned.endswith(
        _png_chunk(b"IEND", b""))


def test_blob_change_times_are_blurred(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    blob = store.new_id()
    store.create(blob)
    store.write_at(blob, 0, b"\x01" + bytes(100))
    written = os.stat(store.path(blob)).st_ctime
    time.sleep(1.1)
    began = time.time()
    assert store.blur_change_times() == 1
    assert os.stat(store.path(blob)).st_ctime >= began - 0.01 > written
    assert os.stat(store.path(blob)).st_mtime % 86400 == 0


def _large_form(client: Any, **fields: Any) -> dict[str, Any]:
    return {"route": "rso", "category": "asl3-deployment", "text": "x",
            "send": "Encrypt and send",
            "attachments": [(io.BytesIO(os.urandom(512 * 1024)), "a.bin")], **fields}


def test_files_are_not_read_without_the_token_in_the_address(app: Flask) -> None:
    client = app.test_client()
    body = _large_form(client, csrf_token=token(client))
    blobs = Path(state_of(app).config.blob_path)
    response = post_files(client, "/report/plain/new", body)
    assert response.status_code == 400
    assert not blobs.exists() or list(blobs.iterdir()) == []
    forged = post_files(client, "/report/plain/new?csrf_token=forged",
                        _large_form(client, csrf_token="forged"))
    assert forged.status_code == 400


def test_files_are_not_read_once_the_submission_limit_is_used(
        make_app: Callable[..., Flask]) -> None:
    app = make_app(submissions_per_minute=1)
    with app.app_context():
        # the minute's one submission, counted
        state_of(app).take_rate_limit(db.session, "submission")
    client = app.test_client()
    csrf = token(client)
    response = post_files(client, f"/report/plain/new?csrf_token={csrf}",
                          _large_form(client, csrf_token=csrf))
    assert response.status_code == 429
    blobs = Path(state_of(app).config.blob_path)
    assert not blobs.exists() or list(blobs.iterdir()) == []


@pytest.mark.parametrize("path", ["/api/v1/reports", "/api/v1/reporter/open"])
def test_deeply_nested_json_is_a_400(app: Flask, path: str) -> None:
    client = app.test_client()
    csrf = client.get("/api/v1/session").get_json()["csrf_token"]
    response = client.post(path, data="[" * 100_000, content_type="application/json",
                           headers={"X-CSRFToken": csrf})
    assert response.status_code == 400


def test_file_names_lose_bidirectional_overrides() -> None:
    assert protocol.safe_file_name("minutes\u202efdp.exe") == "minutes_fdp.exe"
    assert protocol.safe_file_name("a\u2066b\u200fc.pdf") == "a_b_c.pdf"
