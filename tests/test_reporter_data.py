"""The reporter's data (GDPR Arts. 15-17; Directive Art. 17): one record or attachment that is
manifestly irrelevant is destroyed (its ciphertext, and an attachment's file key and blob, are
gone; audited; the reporter told); requests to access or correct data are recorded and
answered; retention clears the metadata that names people."""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Attachment,
    AuditEntry,
    Case,
    CaseEvent,
    CaseIntake,
    CaseRecord,
    RecordDestruction,
    today,
)
from app.roles import Role
from app.services import retention
from app.state import state_of
from candor_reporter import protocol
from crypto.envelope import RecordKind
from tests.support.casework import CaseworkClient
from tests.support.reporting import ReporterClient
from tests.support.staff import StaffLogin

IRRELEVANT = "My neighbour's medical history, which has nothing to do with this."
SECRET_FILE = b"A payslip that was attached by mistake."


@pytest.fixture
def rso(app: Flask, staff: StaffLogin) -> CaseworkClient:
    return CaseworkClient(app.test_client(), staff, staff.create("rso", Role.RSO))


def filed(app: Flask, **fields: Any) -> tuple[str, str, ReporterClient, protocol.OpenedCase]:
    reporter = ReporterClient(app.test_client())
    response, codename = reporter.submit(**fields)
    assert response.status_code == 201, response.get_json()
    view = reporter.open(codename).get_json()
    return response.get_json()["number"], codename, reporter, protocol.open_case(view, codename)


def ciphertexts(app: Flask) -> list[bytes]:
    with app.app_context():
        return list(db.session.scalars(select(CaseRecord.ciphertext)))


def blobs(app: Flask) -> bytes:
    folder: Path = state_of(app).config.blob_path
    return b"".join(p.read_bytes() for p in sorted(folder.iterdir())) if folder.is_dir() else b""


def destroy(rso: CaseworkClient, number: str, what: str, ref: str,
            reason: Any = "manifestly_irrelevant") -> Any:
    return rso.post(f"/api/v1/staff/cases/{number}/{what}/{ref}/destroy", {"reason": reason})


def test_one_irrelevant_message_is_destroyed_and_the_reporter_told(
        app: Flask, rso: CaseworkClient) -> None:
    number, codename, reporter, opened = filed(app)
    message = protocol.build_message(opened, IRRELEVANT)
    assert reporter.post("/api/v1/reporter/messages", message).status_code == 201
    kept = protocol.build_message(opened, "The run was on Tuesday.")
    assert reporter.post("/api/v1/reporter/messages", kept).status_code == 201
    ref = message["record_ref"]
    stored = base64.b64decode(message["ciphertext"])
    assert stored in ciphertexts(app)

    for bad in ("", "tidy", None):
        assert destroy(rso, number, "records", ref, bad).status_code == 400
    report_ref = next(r["record_ref"] for r in rso.case(number)["records"]
                      if r["kind"] == "report")
    refused = destroy(rso, number, "records", report_ref)
    assert refused.status_code == 400 and "one by one" in refused.get_json()["message"]
    assert destroy(rso, number, "records", "r-" + "0" * 32).status_code == 400

    done = destroy(rso, number, "records", ref)
    assert done.status_code == 200, done.get_json()
    view = done.get_json()
    assert rso.texts(view)["message"] == ["The run was on Tuesday."]
    assert [(d["kind"], d["author"], d["reason"], d["by"]) for d in view["destructions"]] == [
        ("message", "reporter", "manifestly_irrelevant", "rso")]
    assert stored not in ciphertexts(app)
    assert destroy(rso, number, "records", ref).status_code == 400  # gone: twice is refused
    # The reporter is told, and no longer reads it.
    assert IRRELEVANT not in [m.text for m in reporter.read(codename)]
    timeline = reporter.open(codename).get_json()["timeline"]
    assert [e for e in timeline if e["kind"] == "record_destroyed"]
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "case.record_destroyed")).one()
        assert json.loads(entry.detail) == {"kind": "message", "author": "reporter",
                                            "reason": "manifestly_irrelevant"}


def test_an_attachment_loses_its_blob_and_its_file_key(app: Flask,
                                                       rso: CaseworkClient) -> None:
    number, codename, reporter, opened = filed(app)
    ref = reporter.attach(opened, SECRET_FILE, "payslip.txt")
    view = rso.case(number)
    item = next(a for a in view["attachments"] if a["attachment_ref"] == ref)
    key_ref = item["key_record"]["record_ref"]
    assert blobs(app)
    done = destroy(rso, number, "attachments", ref, "third_party_data")
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["attachments"] == []
    assert blobs(app) == b""
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
        assert db.session.scalar(select(CaseRecord.id).where(
            CaseRecord.record_ref == key_ref)) is None
        assert db.session.scalar(select(func.count()).select_from(CaseRecord).where(
            CaseRecord.kind.in_(("file_key", "file_name")))) == 0
    assert reporter.open(codename).get_json()["attachments"] == []
    assert destroy(rso, number, "attachments", ref).status_code == 400


def test_the_identity_and_a_legal_hold(app: Flask, rso: CaseworkClient) -> None:
    number, _, _, _ = filed(app, identity="Ada, ada@example.org")
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.number == number)).one()
        case.legal_hold = True
        db.session.commit()
    identity = rso.post(f"/api/v1/staff/cases/{number}/identity",
                        {"reason": "contact_reporter"}).get_json()["record"]["record_ref"]
    held = destroy(rso, number, "records", identity)
    assert held.status_code == 400 and "legal hold" in held.get_json()["message"]
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.number == number)).one()
        case.legal_hold = False
        db.session.commit()
    view = destroy(rso, number, "records", identity).get_json()
    assert not view["identity_available"] and "identity" not in rso.texts(view)


def test_a_disclosure_notice_is_kept(app: Flask, rso: CaseworkClient) -> None:
    number, _, _, _ = filed(app, identity="Ada, ada@example.org")
    rso.post(f"/api/v1/staff/cases/{number}/identity", {"reason": "contact_reporter"})
    notice = rso.encrypted(rso.case(number), RecordKind.MESSAGE, "We will pass it on.")
    assert rso.post(f"/api/v1/staff/cases/{number}/handovers", {
        "recipient": "court", "reason": "judicial_proceedings", "includes_identity": True,
        "notice": notice}).status_code == 201
    kept = destroy(rso, number, "records", notice["record_ref"])
    assert kept.status_code == 400 and "proof" in kept.get_json()["message"]


def test_access_and_correction_requests_are_recorded_and_answered(
        app: Flask, rso: CaseworkClient) -> None:
    number, codename, reporter, opened = filed(app)
    asked = protocol.build_message(opened, "Please correct my team: it is Evals, not Policy.")
    assert reporter.post("/api/v1/reporter/messages", asked).status_code == 201
    url = f"/api/v1/staff/cases/{number}/data-requests"
    for bad in ({"kind": "erase"}, {"kind": "access", "received_on": "yesterday"},
                {"kind": "access", "received_on": (today() + timedelta(days=1)).isoformat()},
                {"kind": "access", "request_record_ref": "r-" + "1" * 32}):
        assert rso.post(url, bad).status_code == 400, bad
    made = rso.post(url, {"kind": "correction", "request_record_ref": asked["record_ref"]})
    assert made.status_code == 201, made.get_json()
    request = made.get_json()["data_requests"][0]
    assert request["due_on"] == (today() + timedelta(days=30)).isoformat()
    assert request["answered_on"] is None
    answer = rso.encrypted(rso.case(number), RecordKind.MESSAGE, "Corrected: your team is Evals.")
    answered = rso.post(f"{url}/{request['id']}/answer", {"record": answer})
    assert answered.status_code == 200, answered.get_json()
    request = answered.get_json()["data_requests"][0]
    assert request["answered_on"] == today().isoformat()
    assert request["answer_record_ref"] == answer["record_ref"]
    assert rso.post(f"{url}/{request['id']}/answer", {"record": answer}).status_code == 400
    assert rso.post(f"{url}/999/answer", {"record": answer}).status_code == 400
    assert "Corrected: your team is Evals." in [m.text for m in reporter.read(codename)]
    # The request and its answer are the proof: neither is destroyed one by one.
    assert destroy(rso, number, "records", asked["record_ref"]).status_code == 400


def test_retention_clears_the_metadata_that_names_people(app: Flask,
                                                         rso: CaseworkClient) -> None:
    number, _, _, _ = filed(app)
    assert rso.post(f"/api/v1/staff/cases/{number}/intake",
                    {"channel": "phone"}).status_code == 201
    assert rso.acknowledge(number, "Thanks.").status_code == 200
    assert rso.post(f"/api/v1/staff/cases/{number}/assignee",
                    {"staff_id": rso.account.id}).status_code == 200
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.number == number)).one()
        case.status, case.closed_on, case.outcome = "closed", date(2020, 1, 1), "out_of_scope"
        db.session.commit()
        config = state_of(app).config
        assert retention.apply(db.session, today(), config).destroyed == [number]
        case = db.session.scalars(select(Case).where(Case.number == number)).one()
        assert (case.reporter_salt, case.reporter_kdf_version, case.assignee_id) == (
            None, None, None)
        assert (case.route, case.category, case.outcome) == (
            "rso", "capability-cbrn", "out_of_scope")
        events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))
        assert {(e.actor_staff_id, e.detail) for e in events
                if e.kind != "content_destroyed"} == {(None, None)}
        assert {e.kind for e in case.events} >= {"received", "acknowledge", "content_destroyed"}
        assert db.session.scalar(select(func.count()).select_from(RecordDestruction)) == 0
        taken = db.session.scalars(select(CaseIntake)).one()
        assert (taken.channel, taken.taken_by_id) == ("phone", None)


def test_every_reporter_page_links_the_privacy_notice(app: Flask) -> None:
    client = app.test_client()
    pages = sorted(rule.rule for rule in app.url_map.iter_rules()
                   if rule.endpoint.split(".")[0] in ("reporter", "reporter_plain")
                   and "GET" in (rule.methods or ()) and not rule.arguments
                   and rule.rule != "/report/leave")  # not a page: it ends the session
    assert {"/", "/report/new", "/report/case", "/privacy"} <= set(pages)
    assert any(page.startswith("/report/plain") for page in pages)
    for page in pages:
        response = client.get(page)
        if response.status_code != 200:  # a page that needs an open case redirects
            continue
        assert b'<a href="/privacy">Privacy notice</a>' in response.data, page
    assert b"Privacy notice" not in client.get("/staff/login").data


def test_the_privacy_notice_is_the_labs_own_text_or_a_default(app: Flask) -> None:
    client = app.test_client()
    default = client.get("/privacy").get_data(as_text=True)
    assert "Your rights" in default and "substantiated: 7 years" in default
    assert "deleted 35 days after they are made" in default
    assert "standard notice" in default
    notice = state_of(app).config.instance_path / "privacy-notice.txt"
    notice.write_text("# Controller\nExample Lab, <dpo@example.org>.\n\n# Rights\nAsk us.\n",
                      encoding="utf-8")
    own = client.get("/privacy").get_data(as_text=True)
    assert "<h2>Controller</h2>" in own and "Example Lab, &lt;dpo@example.org&gt;." in own
    assert "standard notice" not in own and "Your rights" not in own
