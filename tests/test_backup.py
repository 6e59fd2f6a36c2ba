"""``candor backup`` then ``candor restore`` into an empty instance: every case still opens
with its codename and decrypts for its recipients, the blobs and the pinned key come back, and
the audit trail still verifies (when the instance has one)."""

from __future__ import annotations

import base64
import io
import json
import os
import stat
import tarfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import Case
from app.roles import Role
from app.services import audit
from app.state import state_of
from candor_reporter import protocol
from crypto.envelope import GrantKind, RecordKind, decrypt_record, open_grant
from tests.conftest import make_config
from tests.support import databases
from tests.support.fuzzing import row_counts
from tests.support.reporting import ReporterClient
from tests.support.staff import Account, StaffLogin

pytestmark = pytest.mark.slow


@pytest.fixture
def restored_app(tmp_path: Path, database_server: databases.Server,
                 request: pytest.FixtureRequest) -> Iterator[Flask]:
    """An app on a new, empty database and an empty instance folder."""
    url = database_server.create_database(f"restored_{request.node.name[-20:]}_{os.getpid()}")
    app = create_app(make_config(tmp_path / "restored", url))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def file_reports(app: Flask) -> dict[str, list[str]]:
    """Three reports (one with an identity, one with a reply); codename → texts."""
    texts: dict[str, list[str]] = {}
    for i in range(3):
        reporter = ReporterClient(app.test_client())
        identity = "Sam, sam@example.org" if i == 1 else None
        answer, codename = reporter.submit(f"Report number {i}.", identity=identity)
        assert answer.status_code == 201, answer.get_json()
        texts[codename] = [f"Report number {i}."] + ([identity] if identity else [])
        if i == 2:
            view = reporter.open(codename).get_json()
            message = protocol.build_message(protocol.open_case(view, codename), "More detail.")
            assert reporter.post("/api/v1/reporter/messages", message).status_code == 201
            texts[codename].append("More detail.")
    return texts


def decrypt_everything(app: Flask, accounts: list[Account]) -> int:
    """Decrypt every record of every case with each recipient's key; returns the count."""
    staff = StaffLogin(app)
    with app.app_context():
        keypairs = {a.id: staff.unwrap(a, base64.b64encode(staff.get(a.username)
                                                           .wrapped_private_key).decode())
                    for a in accounts}
        opened = 0
        for case in db.session.scalars(select(Case)):
            for grant in case.grants:
                if grant.kind != "recipient":
                    continue
                key = open_grant(grant.grant, keypairs[grant.staff_id], case.case_ref,
                                 GrantKind.RECIPIENT)
                for record in case.records:
                    decrypt_record(key, RecordKind[record.kind.upper()], case.case_ref,
                                   record.record_ref, record.ciphertext)
                    opened += 1
        return opened


def test_backup_and_restore_round_trip(app: Flask, staff: StaffLogin, restored_app: Flask,
                                       tmp_path: Path) -> None:
    accounts = [staff.create("rso1", Role.RSO), staff.create("exec1", Role.EXECUTIVE),
                staff.create("board1", Role.BOARD)]
    texts = file_reports(app)
    config = state_of(app).config
    blob = config.blob_path / "ab" / "attachment.bin"
    blob.parent.mkdir(parents=True)
    blob.write_bytes(os.urandom(4096))
    opened_before = decrypt_everything(app, accounts)
    assert opened_before >= 5

    archive = tmp_path / "candor-backup.tar.gz"
    result = app.test_cli_runner().invoke(args=["backup", str(archive)])
    assert result.exit_code == 0, result.output
    assert "WARNING: it contains secrets (secret_key)" in result.output
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as contents:
        names = contents.getnames()
    assert "org-fingerprint" in names and "blobs/ab/attachment.bin" in names
    assert "org-signing.key" not in names  # kept offline unless asked for

    result = restored_app.test_cli_runner().invoke(args=["restore", str(archive), "--yes"])
    assert result.exit_code == 0, result.output
    assert "WARNING" not in result.output  # same secret key, no fingerprint override

    assert row_counts(restored_app) == row_counts(app)
    restored = state_of(restored_app).config
    assert (restored.blob_path / "ab" / "attachment.bin").read_bytes() == blob.read_bytes()
    assert ((restored.instance_path / "org-fingerprint").read_text()
            == (config.instance_path / "org-fingerprint").read_text())
    # Every reporter finds their case with the codename alone and reads it.
    for codename, expected in texts.items():
        messages = ReporterClient(restored_app.test_client()).read(codename)
        assert [m.text for m in messages] == expected
    # Every recipient decrypts every record, and the directory still matches the pinned key.
    assert decrypt_everything(restored_app, accounts) == opened_before
    assert restored_app.test_cli_runner().invoke(args=["keys", "fingerprint"]).exit_code == 0
    if "audit" in restored_app.cli.commands:  # the audit trail, where this version has one
        verified = restored_app.test_cli_runner().invoke(args=["audit", "verify"])
        assert verified.exit_code == 0, verified.output

    # A second restore finds the database in use and refuses, changing nothing.
    again = restored_app.test_cli_runner().invoke(args=["restore", str(archive), "--yes"])
    assert again.exit_code != 0 and "not empty" in again.output
    assert row_counts(restored_app) == row_counts(app)


def test_backup_refuses_to_overwrite_and_restore_refuses_other_files(app: Flask,
                                                                     tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    existing = tmp_path / "exists.tar.gz"
    existing.write_bytes(b"keep me")
    result = runner.invoke(args=["backup", str(existing)])
    assert result.exit_code != 0 and "exists" in result.output
    assert existing.read_bytes() == b"keep me"
    result = runner.invoke(args=["restore", str(existing), "--yes"])
    assert result.exit_code != 0 and "is not a Candor backup" in result.output


def test_restore_refuses_links_and_paths_outside(app: Flask, tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as archive:
        link = tarfile.TarInfo("blobs/escape")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    result = app.test_cli_runner().invoke(args=["restore", str(evil), "--yes"])
    assert result.exit_code != 0 and "refusing archive member" in result.output


def test_the_audit_trail_keeps_its_checkpoint_key_through_a_restore(
        app: Flask, restored_app: Flask, tmp_path: Path) -> None:
    """After a restore, the old checkpoints verify under the pinned key and the restored
    instance goes on signing new ones with the same key."""
    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit", "init"]).exit_code == 0
    with app.app_context():
        audit.record(db.session, "case.triage", actor="system")
        db.session.commit()
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    archive = tmp_path / "candor-backup.tar.gz"
    result = runner.invoke(args=["backup", str(archive)])
    assert result.exit_code == 0 and "audit-checkpoint.key" in result.output
    result = restored_app.test_cli_runner().invoke(args=["restore", str(archive), "--yes"])
    assert result.exit_code == 0, result.output
    assert "WARNING" not in result.output

    restored = state_of(restored_app).config
    assert stat.S_IMODE(restored.audit_key_path.stat().st_mode) == 0o600
    with restored_app.app_context():
        audit.record(db.session, "case.close", actor="system")
        db.session.commit()
    restored_runner = restored_app.test_cli_runner()
    signed = restored_runner.invoke(args=["audit", "checkpoint"])
    assert signed.exit_code == 0 and "checkpoint 2:" in signed.output, signed.output
    verified = restored_runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "2 checkpoints" in verified.output


def test_restore_warns_about_the_secret_when_the_variable_is_not_set(
        app: Flask, tmp_path: Path, database_server: databases.Server) -> None:
    """Whatever the restoring shell's environment, the server's own CANDOR_SECRET_KEY decides:
    without the variable here, restore says where the secret went and when it is used."""
    archive = tmp_path / "candor-backup.tar.gz"
    assert app.test_cli_runner().invoke(args=["backup", str(archive)]).exit_code == 0
    url = database_server.create_database(f"restored_unset_{os.getpid()}")
    config = make_config(tmp_path / "restored", url, secret_key_from_environment=False)
    other = create_app(config)
    try:
        result = other.test_cli_runner().invoke(args=["restore", str(archive), "--yes"])
        assert result.exit_code == 0, result.output
        assert "WARNING: CANDOR_SECRET_KEY is not set here" in result.output
    finally:
        with other.app_context():
            db.engine.dispose()


def test_restore_says_what_to_do_when_the_checkpoint_key_is_not_in_the_backup(
        app: Flask, restored_app: Flask, tmp_path: Path) -> None:
    """An archive made where the key lives outside the instance (CANDOR_AUDIT_KEY_FILE on other
    media, or by an older Candor): restore says where the key must go, and not to make a new
    one."""
    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit", "init"]).exit_code == 0
    with app.app_context():
        audit.record(db.session, "case.triage", actor="system")
        db.session.commit()
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    config = state_of(app).config
    config.audit_key_path.rename(tmp_path / "key-kept-elsewhere")
    archive = tmp_path / "candor-backup.tar.gz"
    assert runner.invoke(args=["backup", str(archive)]).exit_code == 0
    result = restored_app.test_cli_runner().invoke(args=["restore", str(archive), "--yes"])
    assert result.exit_code == 0, result.output
    assert "the backup holds no audit checkpoint key" in result.output
    assert "Do not run `candor audit init`" in result.output


def _aged(source: Path, target: Path, expires_on: str) -> None:
    """A copy of the archive ``source`` whose manifest says it expires on ``expires_on``."""
    with tarfile.open(source, "r:gz") as old, tarfile.open(target, "w:gz") as new:
        for member in old.getmembers():
            data = old.extractfile(member) if member.isfile() else None
            if member.name == "manifest.json" and data is not None:
                manifest = json.loads(data.read())
                manifest["expires_on"] = expires_on
                body = json.dumps(manifest).encode()
                member.size = len(body)
                new.addfile(member, io.BytesIO(body))
            else:
                new.addfile(member, data)


def test_archives_expire_and_an_expired_one_is_not_restored(
        app: Flask, restored_app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    folder = tmp_path / "backups"
    folder.mkdir()
    first = folder / "candor-1.tar.gz"
    result = runner.invoke(args=["backup", str(first)])
    assert result.exit_code == 0, result.output
    keep_days = state_of(app).config.backup_keep_days
    expected = (datetime.now(UTC).date() + timedelta(days=keep_days)).isoformat()
    assert f"It expires on {expected}" in result.output
    with tarfile.open(first) as contents:
        assert contents.getnames()[0] == "manifest.json"

    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    expired = folder / "candor-0.tar.gz"
    _aged(first, expired, yesterday)
    other = folder / "photos.tar.gz"
    with tarfile.open(other, "w:gz") as photos:
        photos.addfile(tarfile.TarInfo("manifest.json"), io.BytesIO(b""))
    (folder / "notes.txt").write_text("kept")

    refused = restored_app.test_cli_runner().invoke(args=["restore", str(expired), "--yes"])
    assert refused.exit_code != 0 and f"expired on {yesterday}" in refused.output
    assert row_counts(restored_app) != row_counts(app)  # nothing was restored

    kept = runner.invoke(args=["backup", "--keep-expired", str(folder / "candor-2.tar.gz")])
    assert kept.exit_code == 0 and expired.exists()
    second = runner.invoke(args=["backup", str(folder / "candor-3.tar.gz")])
    assert second.exit_code == 0, second.output
    assert f"Deleted the expired archive {expired}" in second.output
    assert sorted(p.name for p in folder.iterdir()) == [
        "candor-1.tar.gz", "candor-2.tar.gz", "candor-3.tar.gz", "notes.txt", "photos.tar.gz"]

    _aged(first, expired, yesterday)
    forced = restored_app.test_cli_runner().invoke(
        args=["restore", str(expired), "--yes", "--allow-expired"])
    assert forced.exit_code == 0, forced.output


def test_pg_dump_gets_every_host_and_never_the_password() -> None:
    """A primary and its standby in one URL reach pg_dump in libpq's form; the password goes in
    the environment only, never on a command line others can list."""
    from app.backup import _libpq

    url, env = _libpq("postgresql+psycopg://candor:s3cret@/candor?host=db1:5432&host=db2:5433"
                      "&target_session_attrs=read-write")
    assert url == ("postgresql://candor@/candor?host=db1%2Cdb2&port=5432%2C5433"
                   "&target_session_attrs=read-write")
    assert env["PGPASSWORD"] == "s3cret"
    url, _env = _libpq("postgresql+psycopg://candor:s3cret@127.0.0.1:5432/candor")
    assert url == "postgresql://candor@127.0.0.1:5432/candor"
