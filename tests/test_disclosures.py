"""The disclosure register (EU Directive 2019/1937 Art. 16(2)-(3)): a reveal records its reason;
passing the identity beyond the case's readers needs a written notice to the reporter first, or
a recorded reason why that would jeopardise the investigation; every handover and export is
recorded, audited and listed on the case."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, CaseDisclosure, CaseRecord
from app.roles import Role
from crypto.envelope import RecordKind
from tests.support.casework import CaseworkClient
from tests.support.reporting import ReporterClient
from tests.support.staff import Account, StaffLogin

IDENTITY = "Ada Lovelace, ada@example.org"


@pytest.fixture
def people(staff: StaffLogin) -> dict[str, Account]:
    return {"rso": staff.create("rso", Role.RSO), "rso2": staff.create("rso2", Role.RSO)}


def opened(app: Flask, staff: StaffLogin, account: Account,
           identity: str | None = IDENTITY) -> tuple[str, str, ReporterClient, CaseworkClient]:
    reporter = ReporterClient(app.test_client())
    response, codename = reporter.submit(text="The eval was skipped.", identity=identity)
    assert response.status_code == 201, response.get_json()
    return (response.get_json()["number"], codename, reporter,
            CaseworkClient(app.test_client(), staff, account))


def reveal(rso: CaseworkClient, number: str, reason: Any = "investigation_need") -> Any:
    return rso.post(f"/api/v1/staff/cases/{number}/identity", {"reason": reason})


def hand_over(rso: CaseworkClient, number: str, **fields: Any) -> Any:
    body = {"recipient": "competent_authority", "reason": "authority_investigation", **fields}
    return rso.post(f"/api/v1/staff/cases/{number}/handovers", body)


def counts(app: Flask) -> tuple[int, int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(CaseDisclosure)) or 0,
                db.session.scalar(select(func.count()).select_from(CaseRecord)) or 0,
                db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_a_reveal_needs_and_records_a_reason(app: Flask, staff: StaffLogin,
                                             people: dict[str, Account]) -> None:
    number, _, _, rso = opened(app, staff, people["rso"])
    before = counts(app)
    for bad in (None, "", "curiosity", 7):
        answer = reveal(rso, number, bad)
        assert answer.status_code == 400, bad
        assert "record" not in (answer.get_json() or {})
    assert counts(app) == before
    assert not rso.case(number)["identity_revealed"]

    assert reveal(rso, number).status_code == 200
    assert reveal(rso, number, "contact_reporter").status_code == 200  # recorded once
    view = rso.case(number)
    assert [(d["kind"], d["reason"], d["by"], d["includes_identity"])
            for d in view["disclosures"]] == [("reveal", "investigation_need", "rso", True)]
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "case.identity_revealed")).one()
        assert json.loads(entry.detail) == {"reason": "investigation_need"}


def test_passing_the_identity_on_needs_a_notice_to_the_reporter_first(
        app: Flask, staff: StaffLogin, people: dict[str, Account]) -> None:
    number, codename, reporter, rso = opened(app, staff, people["rso"])
    # Not before this handler has revealed it (with a reason).
    assert hand_over(rso, number, includes_identity=True).status_code == 400
    assert reveal(rso, number).status_code == 200
    before = counts(app)
    refused = hand_over(rso, number, includes_identity=True)
    assert refused.status_code == 400
    assert "tell the reporter" in refused.get_json()["message"]
    assert counts(app) == before

    view = rso.case(number)
    notice = rso.encrypted(view, RecordKind.MESSAGE,
                           "We must pass your name to the national authority next week.")
    done = hand_over(rso, number, includes_identity=True, notice=notice)
    assert done.status_code == 201, done.get_json()
    entry = done.get_json()["disclosures"][-1]
    assert entry | {"on": None} == {
        "kind": "handover", "on": None, "by": "rso", "reason": "authority_investigation",
        "recipient": "competent_authority", "includes_identity": True,
        "notice_record_ref": notice["record_ref"], "withheld_note_ref": None}
    # The reporter reads the notice with their codename.
    texts = [m.text for m in reporter.read(codename) if m.author == "staff"]
    assert texts == ["We must pass your name to the national authority next week."]
    with app.app_context():
        audited = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "case.handed_over")).one()
        assert json.loads(audited.detail) == {
            "recipient": "competent_authority", "reason": "authority_investigation",
            "identity": True, "reporter_told": True}


def test_a_notice_can_be_withheld_only_with_a_recorded_reason(
        app: Flask, staff: StaffLogin, people: dict[str, Account]) -> None:
    number, codename, reporter, rso = opened(app, staff, people["rso"])
    assert reveal(rso, number).status_code == 200
    seen_before = len(reporter.read(codename))
    view = rso.case(number)
    why = rso.encrypted(view, RecordKind.NOTE, "Telling the reporter would warn the suspect.")
    both = hand_over(rso, number, includes_identity=True, withheld=why,
                     notice=rso.encrypted(view, RecordKind.MESSAGE, "We will pass it on."))
    assert both.status_code == 400
    done = hand_over(rso, number, includes_identity=True, withheld=why, recipient="court",
                     reason="judicial_proceedings")
    assert done.status_code == 201, done.get_json()
    view = done.get_json()
    assert view["disclosures"][-1]["withheld_note_ref"] == why["record_ref"]
    assert view["disclosures"][-1]["notice_record_ref"] is None
    assert rso.texts(view)["note"] == ["Telling the reporter would warn the suspect."]
    # The reporter sees nothing of it: no message, no event.
    assert len(reporter.read(codename)) == seen_before
    timeline = reporter.open(codename).get_json()["timeline"]
    assert not any(e["kind"] in ("handed_over", "disclosure_notice") for e in timeline)


def test_material_without_the_identity_and_exports_are_recorded(
        app: Flask, staff: StaffLogin, people: dict[str, Account]) -> None:
    number, _, _, rso = opened(app, staff, people["rso"])
    assert hand_over(rso, number, includes_identity=False).status_code == 201
    for bad in ({"recipient": "the press"}, {"reason": "because"},
                {"includes_identity": "yes"}, {"notice": "text"}):
        assert hand_over(rso, number, **bad).status_code == 400, bad
    exported = rso.post(f"/api/v1/staff/cases/{number}/exports")
    assert exported.status_code == 201
    assert reveal(rso, number).status_code == 200
    again = rso.post(f"/api/v1/staff/cases/{number}/exports").get_json()
    assert [(d["kind"], d["includes_identity"]) for d in again["disclosures"]] == [
        ("handover", False), ("export", False), ("reveal", True), ("export", True)]
    # Another reader's export holds no identity: it was not revealed to them.
    rso2 = CaseworkClient(app.test_client(), staff, people["rso2"])
    other = rso2.post(f"/api/v1/staff/cases/{number}/exports").get_json()
    assert other["disclosures"][-1] == {**other["disclosures"][-1], "by": "rso2",
                                        "includes_identity": False}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "case.exported")) == 3


def test_no_reporter_no_notice(app: Flask, staff: StaffLogin,
                               people: dict[str, Account]) -> None:
    number, _, _, rso = opened(app, staff, people["rso"], identity=None)
    assert reveal(rso, number).status_code == 400
    assert hand_over(rso, number, includes_identity=True).status_code == 400
    assert rso.case(number)["disclosures"] == []
