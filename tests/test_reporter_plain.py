"""The reporter's journey without JavaScript: the server runs the protocol for one request."""

from __future__ import annotations

import html
import logging
import re
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Case, CaseRecord
from app.roles import Role
from crypto import kdf, keys
from crypto.envelope import GrantKind, RecordKind, decrypt_record, open_grant
from tests.support.dump import database_dump
from tests.support.reporting import ReporterClient
from tests.support.staff import StaffLogin

NEW, OPEN, REPLY = "/report/plain/new", "/report/plain/open", "/report/plain/reply"
TEXT = "The ASL-3 safeguards were switched off for the 4 March launch."
IDENTITY = "Sam, sam@example.org"
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_CODENAME = re.compile(r'id="codename-copy" readonly[^>]*value="([^"]+)"')
_HIDDEN_CODENAME = re.compile(r'name="codename" type="hidden" value="([^"]+)"')
NOT_FOUND = "No report matches this codename."


@pytest.fixture
def recipients(staff: StaffLogin) -> dict[str, int]:
    return {name: staff.create(name, role).id for name, role in (
        ("rso1", Role.RSO), ("exec1", Role.EXECUTIVE), ("board1", Role.BOARD),
        ("board2", Role.BOARD))}


def token(client: FlaskClient, path: str = NEW) -> str:
    match = _TOKEN.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def report_form(client: FlaskClient, **fields: Any) -> dict[str, Any]:
    return {"csrf_token": token(client), "route": "rso", "category": "asl3-deployment",
            "text": TEXT, "send": "Encrypt and send", **fields}


def submit(client: FlaskClient, **fields: Any) -> tuple[Any, str]:
    response = client.post(NEW, data=report_form(client, **fields), follow_redirects=True)
    assert response.status_code == 200, response.get_data(as_text=True)
    match = _CODENAME.search(response.get_data(as_text=True))
    assert match
    return response, match.group(1)


def open_case(client: FlaskClient, codename: str) -> Any:
    return client.post(OPEN, data={"csrf_token": token(client, OPEN), "codename": codename})


def page(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def stored_cases(app: Flask) -> list[Case]:
    with app.app_context():
        return list(db.session.scalars(db.select(Case)))


def test_the_form_says_what_this_mode_means_and_who_reads(
        client: FlaskClient, recipients: dict[str, int]) -> None:
    response = client.get(NEW)
    assert response.status_code == 200
    text = page(response)
    assert "Without JavaScript" in text or "without JavaScript" in text
    assert "for that moment it sees it" in text and "candor report" in text
    readers = text.split('id="readers"')[1].split("</dl>")[0]
    assert "rso1" in readers.split("On escalation")[0]
    assert "board1" in readers.split("On escalation")[1]
    assert "exec1" not in readers
    assert "Security of model weights" in text
    assert ' style=' not in text and "<script" not in text and " onclick" not in text


def test_show_who_would_read_it_sends_nothing(app: Flask, client: FlaskClient,
                                              recipients: dict[str, int]) -> None:
    for fields, now, later in (
            ({"route": "executive"}, {"exec1"}, {"board1", "board2"}),
            ({"route": "rso", "concerns_rso": "y"}, {"board1", "board2"}, set()),
            ({"route": "executive", "concerned": [str(recipients["board1"])]}, {"exec1"},
             {"board2"})):
        data = {**report_form(client, **fields), "preview": "Show who would read it"}
        del data["send"]
        response = client.post(NEW, data=data)
        assert response.status_code == 200
        readers = page(response).split('id="readers"')[1].split("</dl>")[0]
        shown_now, shown_later = readers.split("On escalation")
        for name in ("rso1", "exec1", "board1", "board2"):
            assert (name in shown_now) == (name in now), (fields, name)
            assert (name in shown_later) == (name in later), (fields, name)
        assert TEXT in page(response)  # what was typed so far is kept in the form
    assert stored_cases(app) == []


def test_submit_open_and_reply(app: Flask, client: FlaskClient,
                               recipients: dict[str, int]) -> None:
    response, codename = submit(client, category="weights-security", identity=IDENTITY,
                                material_risk="y")
    assert len(codename.split()) == 7
    receipt = page(response)
    today = date.today()
    assert (today + timedelta(days=7)).isoformat() in receipt
    assert "Write this codename down" in receipt
    [case] = stored_cases(app)
    assert case.number in receipt and case.material_risk and case.identity_given
    assert codename not in response.headers.get("Set-Cookie", "")

    dump = database_dump(app)
    for secret in (TEXT, codename, "sam@example.org"):
        assert secret.encode() not in dump

    reader = app.test_client()  # another browser: nothing carries over but the codename
    opened = open_case(reader, codename)
    assert opened.status_code == 200
    shown = page(opened)
    assert TEXT in shown and IDENTITY in shown and case.number in shown
    assert "received" in shown and "waiting for its readers" in shown

    hidden = _HIDDEN_CODENAME.search(opened.get_data(as_text=True))
    assert hidden and html.unescape(hidden.group(1)) == codename
    answer = reader.post(REPLY, data={"csrf_token": token(reader, OPEN), "codename": codename,
                                      "text": "The logs are in the launch channel."})
    assert answer.status_code == 200
    assert "The logs are in the launch channel." in page(answer)
    assert "Your message was sent." in page(answer)

    messages = ReporterClient(app.test_client()).read(codename)
    assert [(m.kind, m.author, m.text) for m in messages] == [
        ("report", "reporter", TEXT), ("identity", "reporter", IDENTITY),
        ("message", "reporter", "The logs are in the launch channel.")]
    assert b"launch channel" not in database_dump(app)


def test_the_rso_opens_the_report_with_their_own_key(
        app: Flask, client: FlaskClient, staff: StaffLogin, recipients: dict[str, int]) -> None:
    submit(client)
    with app.app_context():
        rso = staff.get("rso1")
        unwrap_key = kdf.derive_staff_secrets("password-of-rso1", rso.kdf_salt,
                                              kdf.params_by_version(rso.kdf_version)).unwrap_key
        keypair = keys.unwrap_private_key(rso.wrapped_private_key, unwrap_key, str(rso.id))
        case = db.session.scalars(db.select(Case)).one()
        grant = next(g for g in case.grants if g.kind == "recipient")
        assert grant.staff_id == rso.id
        case_key = open_grant(grant.grant, keypair, case.case_ref, GrantKind.RECIPIENT)
        record = db.session.scalars(db.select(CaseRecord)).one()
        plaintext = decrypt_record(case_key, RecordKind.REPORT, case.case_ref, record.record_ref,
                                   record.ciphertext)
    assert plaintext.decode() == TEXT


def test_a_wrong_or_unknown_codename_gets_one_answer(
        client: FlaskClient, recipients: dict[str, int]) -> None:
    _response, codename = submit(client)
    words = codename.split()
    wrong = " ".join([*words[:-1], "zebra" if words[-1] != "zebra" else "apple"])
    answers = [open_case(client, typed) for typed in
               (wrong, "abacus " * 7, "notaword " * 7, "abacus", "x" * 5000)]
    assert {a.status_code for a in answers} == {404}
    for answer in answers:
        assert NOT_FOUND in page(answer)
        assert "zebra" not in page(answer) and "abacus" not in page(answer)
    assert open_case(client, "").status_code == 400
    assert open_case(client, codename.upper().replace(" ", "  ")).status_code == 200


@pytest.mark.parametrize(("fields", "message"), [
    ({"text": ""}, "Write your report"),
    ({"text": " \n\t "}, "Write your report"),
    ({"text": "x" * 100_001}, "under 100,000 characters"),
    ({"category": "gossip"}, "listed categories"),
    ({"category": ""}, "listed categories"),
    ({"route": "ceo"}, "Choose one of the routes"),
    ({"concerned": ["987654"]}, "only people from this list"),
    ({"concerned": ["everyone"]}, "only people from this list"),
    ({"identity": "y" * 2_001}, "under 2,000 characters"),
])
def test_bad_input_is_refused_and_nothing_is_stored(
        app: Flask, client: FlaskClient, recipients: dict[str, int],
        fields: dict[str, Any], message: str) -> None:
    response = client.post(NEW, data=report_form(client, **fields))
    assert response.status_code == 400
    assert message in page(response) and "Nothing was sent" in page(response)
    assert stored_cases(app) == []


def test_a_route_no_one_can_read_is_refused(app: Flask, client: FlaskClient,
                                            staff: StaffLogin) -> None:
    staff.create("only-rso", Role.RSO)
    response = client.post(NEW, data=report_form(client, route="board"))
    assert response.status_code == 400
    assert "No one can receive a report on this route" in page(response)
    assert stored_cases(app) == []


def test_a_forged_directory_entry_stops_the_submission(
        app: Flask, client: FlaskClient, recipients: dict[str, int]) -> None:
    with app.app_context():
        from app.models import StaffUser

        exec1 = db.session.get(StaffUser, recipients["exec1"])
        assert exec1 is not None and exec1.directory_entry is not None
        entry = bytearray(exec1.directory_entry)
        entry[-1] ^= 1
        exec1.directory_entry = bytes(entry)
        db.session.commit()
    response = client.post(NEW, data=report_form(client))
    assert response.status_code == 400
    assert "could not be verified" in page(response)
    assert stored_cases(app) == []


def test_reply_checks_its_input(app: Flask, client: FlaskClient,
                                recipients: dict[str, int]) -> None:
    _response, codename = submit(client)
    for text, status in (("", 400), ("z" * 100_001, 400)):
        answer = client.post(REPLY, data={"csrf_token": token(client, OPEN),
                                          "codename": codename, "text": text})
        assert answer.status_code == status
        assert TEXT in page(answer)  # the case is shown again with the error
    answer = client.post(REPLY, data={"csrf_token": token(client, OPEN),
                                      "codename": "abacus " * 7, "text": "hello"})
    assert answer.status_code == 404 and NOT_FOUND in page(answer)
    answer = client.post(REPLY, data={"csrf_token": token(client, OPEN), "text": "hello"})
    assert answer.status_code == 404
    with app.app_context():
        assert db.session.scalars(db.select(CaseRecord.kind)).all() == ["report"]


def test_every_form_needs_its_csrf_token(app: Flask, client: FlaskClient,
                                         recipients: dict[str, int]) -> None:
    _response, codename = submit(client)
    for path, data in ((NEW, report_form(client)), (OPEN, {"codename": codename}),
                       (REPLY, {"codename": codename, "text": "hello"})):
        data.pop("csrf_token", None)
        response = app.test_client().post(path, data=data)
        assert response.status_code == 400 and "Form expired" in page(response)
    assert len(stored_cases(app)) == 1
    with app.app_context():
        assert len(db.session.scalars(db.select(CaseRecord)).all()) == 1


def test_no_log_line_holds_the_text_or_the_codename(
        app: Flask, client: FlaskClient, recipients: dict[str, int],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")  # every statement and its parameters
    _response, codename = submit(client, identity=IDENTITY)
    open_case(client, codename)
    client.post(REPLY, data={"csrf_token": token(client, OPEN), "codename": codename,
                             "text": "A reply nobody should log."})
    client.post(NEW, data=report_form(client, category="gossip"))  # a refused one, too
    assert caplog.records, "logging was not captured"
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in (TEXT, codename, "sam@example.org", "nobody should log"):
        assert secret not in logged


def test_an_altered_record_is_reported_not_crashed_on(app: Flask, client: FlaskClient,
                                                      recipients: dict[str, int]) -> None:
    """The records that decrypt are shown; the one that does not is marked, not the whole page
    refused."""
    _response, codename = submit(client, identity=IDENTITY)
    with app.app_context():
        record = db.session.scalars(db.select(CaseRecord).where(CaseRecord.kind == "report")
                                    ).one()
        altered = bytearray(record.ciphertext)
        altered[-1] ^= 1
        record.ciphertext = bytes(altered)
        db.session.commit()
    answer = open_case(client, codename)
    shown = page(answer)
    assert answer.status_code == 200
    assert shown.count("could not be decrypted") == 1 and TEXT not in shown
    assert IDENTITY in shown


def test_retaliation_opens_a_linked_report_without_javascript(
        app: Flask, client: FlaskClient, recipients: dict[str, int]) -> None:
    _response, first_codename = submit(client)
    opened = open_case(client, first_codename)
    assert 'href="/report/plain/new?retaliation=1"' in opened.get_data(as_text=True)
    form_page = client.get(NEW + "?retaliation=1")
    shown = page(form_page)
    [first] = stored_cases(app)
    assert "Report retaliation" in shown
    assert f"linked to your report <strong>{first.number}</strong>" in shown
    assert re.search(r'<option selected value="retaliation">', shown)
    csrf = _TOKEN.search(form_page.get_data(as_text=True)).group(1)
    response = client.post(NEW, data={
        "csrf_token": csrf, "route": "rso", "category": "retaliation", "retaliation": "1",
        "text": "I was moved off the team.", "send": "Encrypt and send"}, follow_redirects=True)
    assert response.status_code == 200, page(response)
    receipt = page(response)
    assert f"linked to your report {first.number}" in receipt and "keep both codenames" in receipt
    second_codename = _CODENAME.search(response.get_data(as_text=True)).group(1)
    assert second_codename != first_codename
    with app.app_context():
        second = db.session.scalars(db.select(Case).where(Case.id != first.id)).one()
        assert (second.linked_case_id, second.link_kind) == (first.id, "retaliation")

    # Another browser with no session on the first case cannot link anything.
    other = app.test_client()
    refused = other.post(NEW, data={**report_form(other), "retaliation": "1"})
    assert refused.status_code == 400 and "session on your first report" in page(refused)
    assert len(stored_cases(app)) == 2
