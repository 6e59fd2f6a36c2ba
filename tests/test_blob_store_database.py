"""Attachments kept in the database (``CANDOR_BLOB_STORE=database``): uploads through the API and
without JavaScript land in ``blob_chunks`` rows and nowhere on disk, resume after a broken
connection, download and decrypt; retention deletes the rows in the same transaction as the
case's records; ``candor backup`` and ``candor restore`` carry them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from app import create_app
from app.config import Config, ConfigError
from app.extensions import db
from app.models import Attachment, BlobChunk, Case
from app.roles import Role
from app.services import attachments, retention
from app.services.blobs import ROW_BYTES, DatabaseBlobStore
from app.state import state_of
from candor_reporter import protocol
from tests.conftest import make_config
from tests.support import databases
from tests.support.attachments import staff_files
from tests.support.casework import CaseworkClient
from tests.support.dump import database_dump
from tests.support.reporting import ReporterClient
from tests.support.staff import Account, StaffLogin
from tests.test_attachments_plain import submit_with

UPLOADS = "/api/v1/reporter/attachments"


def database_store_app(tmp_path: Path, database_url: str, **overrides: object) -> Flask:
    application = create_app(make_config(tmp_path, database_url, blob_store="database",
                                         **overrides))
    with application.app_context():
        from app.services.directory import init_organisation_key

        config = state_of(application).config
        init_organisation_key(db.session, config.org_signing_key_path, config.instance_path)
        db.session.commit()
    return application


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    application = database_store_app(tmp_path, database_url,
                                     max_attachment_bytes=8 * 1024 * 1024)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def recipients(staff: StaffLogin) -> dict[str, Account]:
    return {name: staff.create(name, role) for name, role in (
        ("rso1", Role.RSO), ("exec1", Role.EXECUTIVE), ("board1", Role.BOARD))}


def chunk_rows(app: Flask) -> list[tuple[str, int, int]]:
    with app.app_context():
        return [(blob_id, start, size) for blob_id, start, size in db.session.execute(
            select(BlobChunk.blob_id, BlobChunk.start, func.length(BlobChunk.data))
            .order_by(BlobChunk.blob_id, BlobChunk.start))]


def no_blob_files(app: Flask) -> bool:
    folder: Path = state_of(app).config.blob_path
    return not folder.exists() or not any(folder.iterdir())


def test_the_store_is_chosen_by_its_setting(tmp_path: Path) -> None:
    assert Config.from_env(tmp_path, {}).blob_store == "filesystem"
    assert Config.from_env(tmp_path, {"CANDOR_BLOB_STORE": "database"}).blob_store == "database"
    with pytest.raises(ConfigError, match="CANDOR_BLOB_STORE must be one of filesystem, "
                                          "database"):
        Config.from_env(tmp_path, {"CANDOR_BLOB_STORE": "s3"})


def test_an_upload_resumes_and_downloads_from_rows(
        app: Flask, staff: StaffLogin, recipients: dict[str, Account]) -> None:
    reporting = ReporterClient(app.test_client())
    _answer, codename = reporting.submit()
    view = reporting.open(codename).get_json()
    opened = protocol.open_case(view, codename)
    data = os.urandom(3 * 65536 + 10)
    upload = protocol.OutgoingAttachment.for_file("minutes.txt", len(data))
    assert reporting.post(UPLOADS, upload.start_body(opened.key_epoch)).status_code == 201
    chunks = list(upload.chunks(opened.case_ref, [data], frames_per_chunk=1))
    base = f"{UPLOADS}/{upload.attachment_ref}"
    assert reporting.put(f"{base}/chunks/0", chunks[0][0]).status_code == 200
    # The connection broke: the client asks where the server is and sends the rest.
    assert reporting.put(f"{base}/chunks/2", chunks[2][0]).status_code == 409
    status = reporting.client.get(f"{base}/status").get_json()
    assert (status["received_chunks"], status["received_frames"]) == (1, 1)
    for index in (1, 2, 3):
        assert reporting.put(f"{base}/chunks/{index}", chunks[index][0]).status_code == 200
    done = reporting.post(f"{base}/complete",
                          upload.completion_body(opened.case_key, opened.case_ref, 4, len(data)))
    assert done.status_code == 200, done.get_json()

    rows = chunk_rows(app)
    assert [size for _blob, _start, size in rows] == [len(c) for c, _frames in chunks]
    assert [start for _blob, start, _size in rows] == [
        sum(len(c) for c, _frames in chunks[:i]) for i in range(4)]
    assert no_blob_files(app)
    view = reporting.client.get("/api/v1/reporter/case").get_json()
    assert reporting.download(opened, view, upload.attachment_ref) == ("minutes.txt", data)
    rso = CaseworkClient(app.test_client(), staff, recipients["rso1"])
    assert staff_files(rso, view["number"]) == {"minutes.txt": data}
    assert data[:40] not in database_dump(app)


def test_files_without_javascript_become_rows_and_a_refused_request_leaves_none(
        app: Flask, staff: StaffLogin, recipients: dict[str, Account]) -> None:
    notes = os.urandom(ROW_BYTES + 300_000)  # more than one row's worth
    response = submit_with(app.test_client(), ("notes.bin", notes))
    assert response.status_code == 200
    rows = chunk_rows(app)
    assert len({blob for blob, _start, _size in rows}) == 1 and len(rows) == 2
    assert rows[0][2] == ROW_BYTES
    assert no_blob_files(app)
    with app.app_context():
        number = db.session.scalars(select(Case.number)).one()
    rso = CaseworkClient(app.test_client(), staff, recipients["rso1"])
    assert staff_files(rso, number) == {"notes.bin": notes}

    too_large = submit_with(app.test_client(), ("big.bin", os.urandom(9 * 1024 * 1024)))
    assert too_large.status_code == 413
    assert chunk_rows(app) == rows  # nothing of the refused file stayed


def test_store_writes_cuts_and_reads_a_row_at_a_time(app: Flask) -> None:
    with app.app_context():
        store = DatabaseBlobStore(db.session)
        blob = store.new_id()
        store.create(blob)
        assert store.size(blob) == 0 and list(store.read_pieces(blob)) == []
        writer = store.appender(blob)
        pieces = [os.urandom(300_000) for _ in range(8)]  # 2.4 MB: three rows
        for piece in pieces:
            writer.write(piece)
        writer.close()
        # Reads take a connection of their own (a download outlives its request's session):
        # they see what is committed.
        assert list(store.read_pieces(blob)) == []
        db.session.commit()
        whole = b"".join(pieces)
        assert store.size(blob) == len(whole)
        read = list(store.read_pieces(blob))
        assert b"".join(read) == whole and len(read) == 3
        assert [len(r) for r in read] == [ROW_BYTES, ROW_BYTES, len(whole) - 2 * ROW_BYTES]
        # A write in the middle of a row replaces everything after it, as a file's does.
        store.write_at(blob, 1_500_000, b"tail")
        db.session.commit()
        assert b"".join(store.read_pieces(blob)) == whole[:1_500_000] + b"tail"
        store.truncate(blob, 10)
        assert store.size(blob) == 10
        with pytest.raises(ValueError, match="malformed"):
            store.size("../etc/passwd")
        # Rows of a blob no attachment names are swept; an attachment's are kept.
        assert store.purge_orphans(set(), 0) == 1
        assert store.size(blob) == 0


def test_retention_deletes_the_rows_in_the_case_s_transaction(
        app: Flask, recipients: dict[str, Account]) -> None:
    reporting = ReporterClient(app.test_client())
    _answer, codename = reporting.submit()
    view = reporting.open(codename).get_json()
    opened = protocol.open_case(view, codename)
    reporting.attach(opened, os.urandom(200_000), "a.bin")
    reporting.attach(opened, os.urandom(70_000), "b.bin")
    assert len({blob for blob, _start, _size in chunk_rows(app)}) == 2
    config = state_of(app).config
    with app.app_context():
        case = db.session.scalars(select(Case)).one()
        retention.destroy_content(db.session, case, date.today(), config)
        db.session.flush()
        assert db.session.scalar(select(func.count()).select_from(BlobChunk)) == 0
        db.session.rollback()  # the destruction fails later on: the rows come back with it
    assert len({blob for blob, _start, _size in chunk_rows(app)}) == 2
    with app.app_context():
        case = db.session.scalars(select(Case)).one()
        retention.destroy_content(db.session, case, date.today(), config)
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
    assert chunk_rows(app) == []


def test_housekeeping_removes_abandoned_uploads_rows(app: Flask,
                                                    recipients: dict[str, Account]) -> None:
    from datetime import datetime, timedelta

    reporting = ReporterClient(app.test_client())
    _answer, codename = reporting.submit()
    view = reporting.open(codename).get_json()
    opened = protocol.open_case(view, codename)
    upload = protocol.OutgoingAttachment.for_file("half.bin", 200_000)
    assert reporting.post(UPLOADS, upload.start_body(opened.key_epoch)).status_code == 201
    chunk = next(iter(upload.chunks(opened.case_ref, [os.urandom(200_000)],
                                    frames_per_chunk=1)))[0]
    assert reporting.put(f"{UPLOADS}/{upload.attachment_ref}/chunks/0", chunk).status_code == 200
    assert len(chunk_rows(app)) == 1
    with app.app_context():
        store = attachments.store_for(state_of(app).config, db.session)
        later = datetime.now() + timedelta(days=attachments.STALE_UPLOAD_DAYS)
        assert attachments.purge_stale_uploads(db.session, later, store) == 1
        db.session.commit()
    assert chunk_rows(app) == []


@pytest.fixture
def restored_app(tmp_path: Path, database_server: databases.Server,
                 request: pytest.FixtureRequest) -> Iterator[Flask]:
    url = database_server.create_database(f"restored_{request.node.name[-20:]}_{os.getpid()}")
    application = create_app(make_config(tmp_path / "restored", url, blob_store="database"))
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.slow
def test_backup_and_restore_carry_the_rows(app: Flask, recipients: dict[str, Account],
                                           restored_app: Flask, tmp_path: Path,
                                           database_server: databases.Server) -> None:
    reporting = ReporterClient(app.test_client())
    _answer, codename = reporting.submit()
    view = reporting.open(codename).get_json()
    data = os.urandom(500_000)
    ref = reporting.attach(protocol.open_case(view, codename), data, "kept.bin")
    archive = tmp_path / "candor-backup.tar.gz"
    result = app.test_cli_runner().invoke(args=["backup", str(archive)])
    assert result.exit_code == 0, result.output
    assert "blobs in the database" in result.output
    result = restored_app.test_cli_runner().invoke(args=["restore", str(archive), "--yes"])
    assert result.exit_code == 0, result.output
    assert "WARNING" not in result.output
    assert chunk_rows(restored_app) == chunk_rows(app)

    again = ReporterClient(restored_app.test_client())
    view = again.open(codename).get_json()
    assert again.download(protocol.open_case(view, codename), view, ref) == ("kept.bin", data)

    # Restored into an instance that keeps files, the operator is told where they are.
    url = database_server.create_database(f"restored_files_{os.getpid()}")
    files_app = create_app(make_config(tmp_path / "files", url))
    result = files_app.test_cli_runner().invoke(args=["restore", str(archive), "--yes"])
    with files_app.app_context():
        db.engine.dispose()
    assert result.exit_code == 0, result.output
    assert "set CANDOR_BLOB_STORE=database" in result.output
