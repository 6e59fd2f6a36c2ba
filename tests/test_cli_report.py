"""``candor report``: the reporter's command-line client against a live server."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from werkzeug.serving import make_server

from app.extensions import db
from app.models import Case, CaseRecord, today
from app.roles import Role
from app.services.directory import current_fingerprint
from candor_reporter import protocol
from candor_reporter.cli import report_group, server_url, shown
from candor_reporter.file_size import format_bytes
from candor_reporter.protocol import verified_directory
from crypto import codename as codenames
from crypto.directory import OrganisationSigningKey, fingerprint
from crypto.envelope import (
    CaseKey,
    GrantKind,
    RecordKind,
    decrypt_record,
    encode_file_name,
    encrypt_record,
    open_grant,
)
from crypto.errors import CryptoError
from tests.conftest import free_port
from tests.support.staff import Account, StaffLogin

PROJECT = Path(__file__).resolve().parent.parent
REPORT = "The CBRN evaluation was skipped before the 3 November launch."


@pytest.fixture
def rso(staff: StaffLogin) -> Account:
    account = staff.create("rso1", Role.RSO)
    staff.create("exec1", Role.EXECUTIVE)
    staff.create("board1", Role.BOARD)
    return account


@pytest.fixture
def org_fingerprint(app: Flask) -> str:
    with app.app_context():
        value = current_fingerprint(db.session)
    assert value
    return value


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(report_group, list(args), input=input)


def submit(server: str, fp: str, folder: Path, *extra: str, input: str = "y\n") -> Result:
    folder.mkdir(exist_ok=True)
    report = folder / "report.txt"
    report.write_text(REPORT, encoding="utf-8")
    return run("submit", "--server", server, "--fingerprint", fp, "--category",
               "capability-cbrn", "--text-file", str(report), *extra, input=input)


def refused(result: Result, message: str) -> bool:
    """A clear error and a non-zero exit, never an unhandled exception."""
    return (result.exit_code != 0 and isinstance(result.exception, SystemExit)
            and message in result.output)


def codename_of(result: Result) -> str:
    match = re.search(r"Codename: (.+)\n", result.stdout)
    assert match, result.output
    return match.group(1)


def the_case() -> Case:
    case: Case = db.session.scalars(db.select(Case)).one()
    return case


def rso_case_key(app: Flask, staff: StaffLogin, account: Account) -> tuple[str, CaseKey]:
    """What the RSO's browser does: unwrap their private key with their password and open the
    recipient grant."""
    with app.app_context():
        wrapped = staff.get(account.username).wrapped_private_key
        case = the_case()
        grant = next(g.grant for g in case.grants if g.staff_id == account.id)
        case_ref = case.case_ref
    keypair = staff.unwrap(account, base64.b64encode(wrapped).decode())
    return case_ref, open_grant(grant, keypair, case_ref, GrantKind.RECIPIENT)


def test_report_read_and_reply(app: Flask, live_server: str, org_fingerprint: str,
                               staff: StaffLogin, rso: Account, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "reporter"
    home.mkdir()
    monkeypatch.chdir(home)  # the codename must not land in any file here
    (tmp_path / "identity.txt").write_text("Jane Roe\n", encoding="utf-8")
    filed = submit(live_server, org_fingerprint, home, "--identity-file",
                   str(tmp_path / "identity.txt"), "--material-risk", "--concerned", "exec1")
    assert filed.exit_code == 0, filed.output
    assert "Solving the anti-abuse puzzle" in filed.stderr
    assert "Can read this report now:\n  rso1, Responsible Scaling Officer" in filed.stdout
    assert "escalated to the Board:\n  board1, Board member" in filed.stdout
    assert "Left out, as the report concerns them: exec1" in filed.stdout
    codename = codename_of(filed)
    assert "shown only this once" in filed.stdout and "safe" in filed.stdout
    assert [p.name for p in home.iterdir()] == ["report.txt"]

    case_ref, case_key = rso_case_key(app, staff, rso)
    with app.app_context():
        case = the_case()
        assert case.number in filed.stdout
        assert case.material_risk and case.identity_given
        report = next(r for r in case.records if r.kind == "report")
        assert decrypt_record(case_key, RecordKind.REPORT, case_ref, report.record_ref,
                              report.ciphertext).decode() == REPORT
        reply_ref = protocol.new_record_ref()
        case.records.append(CaseRecord(
            record_ref=reply_ref, kind="message", author="staff", author_staff_id=rso.id,
            visible_to_reporter=True, created_on=today(),
            ciphertext=encrypt_record(case_key, RecordKind.MESSAGE, case_ref, reply_ref,
                                      b"Thank you. Who ran the evaluation?")))
        db.session.commit()

    case_view = run("read", "--server", live_server, "--fingerprint", org_fingerprint,
                    input=codename + "\n")
    assert case_view.exit_code == 0, case_view.output
    assert codename not in case_view.output  # the prompt hides it
    for text in ("Case C-", ": received", "acknowledgement due by", "feedback due by",
                 "Your report was received", REPORT, "Jane Roe",
                 "Staff, message\nThank you. Who ran the evaluation?"):
        assert text in case_view.stdout

    answered = run("reply", "--server", live_server, "--fingerprint", org_fingerprint,
                   "--codename-stdin", input=f"{codename}\nThe safety team lead.\n")
    assert answered.exit_code == 0, answered.output
    assert "You, message\nThe safety team lead." in answered.stdout
    with app.app_context():
        mine = db.session.scalars(db.select(CaseRecord).where(
            CaseRecord.author == "reporter", CaseRecord.kind == "message")).one()
        assert decrypt_record(case_key, RecordKind.MESSAGE, case_ref, mine.record_ref,
                              mine.ciphertext) == b"The safety team lead."


def test_a_wrong_fingerprint_sends_nothing(app: Flask, live_server: str, rso: Account,
                                           tmp_path: Path) -> None:
    wrong = fingerprint(OrganisationSigningKey.generate().verify_key)
    result = submit(live_server, wrong, tmp_path, "--yes")
    assert refused(result, "failed verification") and "Nothing was sent" in result.output
    with app.app_context():
        assert db.session.scalars(db.select(Case)).first() is None
    for command in ("read", "reply"):
        assert refused(run(command, "--server", live_server, "--fingerprint", wrong,
                           "--codename-stdin",
                           input=codenames.generate_codename() + "\nhello\n"),
                       "failed verification")


def test_a_tampered_directory_entry_is_refused(app: Flask, live_server: str,
                                               org_fingerprint: str, rso: Account) -> None:
    answer = json.loads(app.test_client().get("/api/v1/directory").get_data())
    assert {r.username for r in verified_directory(answer, org_fingerprint).values()} == \
        {"rso1", "exec1", "board1"}
    entry = bytearray(base64.b64decode(answer["entries"][0]))
    entry[5] ^= 1
    tampered = dict(answer, entries=[base64.b64encode(entry).decode(), *answer["entries"][1:]])
    with pytest.raises(CryptoError):
        verified_directory(tampered, org_fingerprint)
    other = OrganisationSigningKey.generate().verify_key
    with pytest.raises(CryptoError):
        verified_directory(dict(answer, organisation_key=base64.b64encode(other).decode()),
                            org_fingerprint)


def test_an_unknown_codename_is_a_clear_error(live_server: str, org_fingerprint: str,
                                              rso: Account) -> None:
    unknown = run("read", "--server", live_server, "--fingerprint", org_fingerprint,
                  "--codename-stdin", input=codenames.generate_codename() + "\n")
    assert refused(unknown, "No report matches this codename")
    typo = run("read", "--server", live_server, "--fingerprint", org_fingerprint,
               "--codename-stdin", input="not a real codename at all here\n")
    assert refused(typo, "not in the word list")


def test_list_categories_and_bad_input(live_server: str, org_fingerprint: str,
                                       rso: Account, tmp_path: Path) -> None:
    listed = run("submit", "--server", live_server, "--fingerprint", org_fingerprint,
                 "--list-categories")
    assert listed.exit_code == 0, listed.output
    assert re.search(r"^capability-cbrn +Capability thresholds", listed.stdout, re.M)
    for extra, message in ((("--category", "gossip"), "--list-categories"),
                           (("--category", "other"), "--text-file, or pass --yes"),
                           (("--category", "other", "--concerned", "nobody", "--yes"),
                            "not in the key directory")):
        assert refused(run("submit", "--server", live_server, "--fingerprint",
                           org_fingerprint, *extra, input="text\n"), message)
    declined = submit(live_server, org_fingerprint, tmp_path, input="n\n")
    assert refused(declined, "Aborted") and "Codename" not in declined.output


def test_server_addresses_and_unreachable_servers(
        org_fingerprint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert refused(run("read", "--server", "ftp://example.org", "--fingerprint",
                       org_fingerprint), "http:// or https://")
    assert refused(run("read", "--server", f"http://127.0.0.1:{free_port()}", "--fingerprint",
                       org_fingerprint, "--codename-stdin", input="x\n"), "cannot reach")
    for quiet in ("https://example.org", "http://127.0.0.1:5000/", "http://[::1]:5000",
                  "http://localhost", "http://abcdefgh.onion"):
        assert server_url(quiet) == quiet
    assert capsys.readouterr().err == ""
    server_url("http://candor.example.org")
    assert "plain http" in capsys.readouterr().err


def test_a_server_that_answers_nonsense(org_fingerprint: str) -> None:
    def nonsense(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"taxonomy": [1, 2], "csrf_token": "t"}']

    server = make_server("127.0.0.1", free_port(), nonsense)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = run("submit", "--server", f"http://127.0.0.1:{server.server_port}",
                     "--fingerprint", org_fingerprint, "--list-categories")
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert refused(result, "is this a Candor server?")


def test_server_text_cannot_drive_the_terminal() -> None:
    assert shown("\x1b[2Jfine\r\nnext\tline\x9b") == "\ufffd[2Jfine\ufffd\nnext\tline\ufffd"


def test_report_commands_need_no_server_configuration(tmp_path: Path) -> None:
    cwd, instance = tmp_path / "cwd", tmp_path / "instance"
    cwd.mkdir()
    instance.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CANDOR_", "FLASK_"))}
    env.update(CANDOR_INSTANCE_PATH=str(instance), PYTHONPATH=str(PROJECT))
    for args in (["report", "--help"], ["report", "submit", "--help"]):
        result = subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=cwd, env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert "--server" in result.stdout or "submit" in result.stdout
    assert list(cwd.iterdir()) == [] and list(instance.iterdir()) == []


def test_attachments_from_and_to_the_command_line(
        app: Flask, live_server: str, org_fingerprint: str, staff: StaffLogin, rso: Account,
        tmp_path: Path) -> None:
    from tests.support.attachments import staff_attach, staff_files
    from tests.support.casework import CaseworkClient
    from tests.support.images import GPS_MARK, pillow_jpeg

    photo, notes = tmp_path / "IMG_0042.jpg", tmp_path / "notes.txt"
    photo.write_bytes(pillow_jpeg())
    notes.write_bytes(b"Text 1.7 minutes of the launch review " * 5000)  # 190 kB: 3 frames
    filed = submit(live_server, org_fingerprint, tmp_path / "home", "--attach", str(photo),
                   "--attach", str(notes), "--yes")
    assert filed.exit_code == 0, filed.output
    assert "notes.txt cannot be cleaned" in filed.stderr
    assert "IMG_0042.jpg: a JPEG image" in filed.stderr
    codename = codename_of(filed)
    with app.app_context():
        number = the_case().number
    worker = CaseworkClient(app.test_client(), staff, rso)
    received = staff_files(worker, number)
    assert received["notes.txt"] == notes.read_bytes()
    assert GPS_MARK not in received["IMG_0042.jpg"]
    # The size sent is the cleaned photo's (smaller than the file on disk), stated exactly.
    cleaned = len(received["IMG_0042.jpg"])
    assert cleaned < photo.stat().st_size
    assert f"Sent IMG_0042.jpg ({format_bytes(cleaned)}), encrypted." in filed.stderr
    staff_attach(worker, number, "policy.txt", b"The evaluation policy.\n" * 100)

    saved = tmp_path / "saved"
    (saved / "policy.txt").parent.mkdir()
    (saved / "policy.txt").write_text("already here")
    read = run("read", "--server", live_server, "--fingerprint", org_fingerprint,
               "--codename-stdin", "--save-attachments", str(saved), input=codename + "\n")
    assert read.exit_code == 0, read.output
    assert f"You    IMG_0042.jpg  ({format_bytes(cleaned)})" in read.stdout
    assert "You    notes.txt  (185.5 KB)" in read.stdout  # 190,000 bytes
    assert "Staff  policy.txt  (2.2 KB)" in read.stdout  # 2,300 bytes
    assert "Saved" in read.stdout and "notes.txt (185.5 KB)" in read.stdout
    assert "Warning" not in read.stderr
    assert (saved / "policy (2).txt").read_bytes() == b"The evaluation policy.\n" * 100
    assert (saved / "notes.txt").read_bytes() == notes.read_bytes()
    assert (saved / "notes.txt").stat().st_mode & 0o777 == 0o600  # this user's only
    assert (saved / "policy.txt").read_text() == "already here"
    assert not list(saved.glob(".candor-*"))

    schedule = tmp_path / "schedule.txt"
    schedule.write_text("09:00 eval run, cancelled at 08:40\n")
    replied = run("reply", "--server", live_server, "--fingerprint", org_fingerprint,
                  "--codename-stdin", "--attach", str(schedule), "--no-text",
                  input=codename + "\n")
    assert replied.exit_code == 0, replied.output
    assert "You    schedule.txt" in replied.stdout
    assert staff_files(worker, number)["schedule.txt"] == schedule.read_bytes()
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    refused_reply = run("reply", "--server", live_server, "--fingerprint", org_fingerprint,
                        "--codename-stdin", "--attach", str(broken), "--no-text",
                        input=codename + "\n")
    assert refused(refused_reply, "broken.png was not sent")


def test_the_command_line_checks_the_stated_size_and_reads_older_attachments(
        app: Flask, live_server: str, org_fingerprint: str, staff: StaffLogin, rso: Account,
        tmp_path: Path) -> None:
    from tests.support.attachments import staff_attach
    from tests.support.casework import CaseworkClient

    filed = submit(live_server, org_fingerprint, tmp_path / "home", "--yes")
    assert filed.exit_code == 0, filed.output
    codename = codename_of(filed)
    with app.app_context():
        number = the_case().number
    worker = CaseworkClient(app.test_client(), staff, rso)
    data = b"The schedule, as kept.\n" * 200  # 4,600 bytes
    # A sending program that states 1,000 bytes, and one from before sizes were recorded.
    staff_attach(worker, number, "schedule.txt", data,
                 name_content=encode_file_name("schedule.txt", 1000))
    staff_attach(worker, number, "older.txt", data, name_content=b"older.txt")
    listed = run("read", "--server", live_server, "--fingerprint", org_fingerprint,
                 "--codename-stdin", input=codename + "\n")
    assert listed.exit_code == 0, listed.output
    assert "Staff  schedule.txt  (1000 bytes)" in listed.stdout  # what was stated, unchecked
    assert "Staff  older.txt  (up to 64.0 KB)" in listed.stdout
    saved = tmp_path / "saved"
    read = run("read", "--server", live_server, "--fingerprint", org_fingerprint,
               "--codename-stdin", "--save-attachments", str(saved), input=codename + "\n")
    assert read.exit_code == 0, read.output
    assert (saved / "schedule.txt").read_bytes() == data
    assert (saved / "older.txt").read_bytes() == data
    assert ("Warning: schedule.txt: Its sender's program stated 1000 bytes, but the file is "
            "4.5 KB: the size shown before downloading was wrong.") in read.stderr
    assert "older.txt:" not in read.stderr


def test_report_read_opens_a_case_filed_with_the_light_parameters(
        app: Flask, live_server: str, org_fingerprint: str, rso: Account) -> None:
    # As a browser without WebAssembly files it: the light codename parameters, kept by the case.
    from crypto import kdf
    from tests.support.reporting import ReporterClient

    reporter = ReporterClient(app.test_client())
    options = reporter.options()
    directory = verified_directory(app.test_client().get("/api/v1/directory").get_json(),
                                   options["organisation_fingerprint"])
    body, codename = protocol.build_submission(
        protocol.NewReport("rso", "capability-cbrn", REPORT), directory,
        kdf.params_by_version(options["reporter_kdf_light"]["version"]))
    assert reporter.post("/api/v1/reports", reporter.with_proof_of_work(body)).status_code == 201
    with app.app_context():
        assert the_case().reporter_kdf_version == kdf.REPORTER_CODENAME_LIGHT_V1.version
    case_view = run("read", "--server", live_server, "--fingerprint", org_fingerprint,
                    input=codename + "\n")
    assert case_view.exit_code == 0, case_view.output
    assert REPORT in case_view.stdout
