"""Case management through the staff API, with real crypto on both sides: the lifecycle and
what each step needs, what the reporter sees of it, conflicts of interest, sharing, revocation
with a new case key, identity reveal, cases opened by staff, links and the inbox."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Case, CaseGrant
from app.roles import Role
from candor_reporter import protocol
from crypto.envelope import CaseKey, GrantKind, RecordKind, encrypt_record, seal_case_key
from tests.support.casework import CaseworkClient, b64
from tests.support.reporting import ReporterClient
from tests.support.staff import Account, StaffLogin


@pytest.fixture
def people(staff: StaffLogin) -> dict[str, Account]:
    return {"rso": staff.create("rso", Role.RSO), "rso2": staff.create("rso2", Role.RSO),
            "exec": staff.create("exec", Role.EXECUTIVE),
            "board": staff.create("board", Role.BOARD)}


def worker(app: Flask, staff: StaffLogin, account: Account) -> CaseworkClient:
    return CaseworkClient(app.test_client(), staff, account)


def file_report(app: Flask, **fields: Any) -> tuple[str, str, ReporterClient]:
    reporter = ReporterClient(app.test_client())
    response, codename = reporter.submit(**fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["number"], codename, reporter


def test_whole_life_of_a_case(app: Flask, staff: StaffLogin, people: dict[str, Account]) -> None:
    number, codename, reporter = file_report(app, text="The CBRN eval was skipped.",
                                             identity="Ada, ada@example.org")
    rso = worker(app, staff, people["rso"])
    assert [c["number"] for c in rso.inbox()["cases"]] == [number]

    view = rso.case(number)
    assert rso.texts(view)["report"] == ["The CBRN eval was skipped."]
    assert "identity" not in rso.texts(view) and view["identity_available"]
    assert rso.acknowledge(number, "Thank you. We are looking into it.").status_code == 200
    triage = {"category": "capability-cbrn", "severity": "high", "retaliation_risk": "medium"}
    assert rso.act(number, "triage", **triage).status_code == 200
    assignee = rso.post(f"/api/v1/staff/cases/{number}/assignee",
                        {"staff_id": people["rso2"].id})
    assert assignee.status_code == 200, assignee.get_json()
    assert rso.write(number, "note", "Interview the eval lead first.").status_code == 201
    assert rso.act(number, "investigate").status_code == 200
    assert rso.write(number, "message", "Can you tell us which run?").status_code == 201
    assert rso.write(number, "message", "Status: interviews. Actions: logs kept.",
                     purpose="update").status_code == 201
    assert rso.write(number, "note", "x", purpose="update").status_code == 400
    assert rso.write(number, "message", "x", purpose="gossip").status_code == 400
    view = rso.case(number)
    findings = rso.encrypted(view, RecordKind.FINDINGS, "The eval was skipped twice.")
    assert rso.act(number, "findings", outcome="substantiated", material_risk_found=True,
                   record=findings).status_code == 200
    action = rso.encrypted(rso.case(number), RecordKind.ACTION, "Evals re-run; process fixed.")
    assert rso.act(number, "corrective_action", record=action).status_code == 200
    refused = rso.act(number, "close", approver_id=people["rso2"].id)
    assert refused.status_code == 400 and "outcome" in refused.get_json()["message"]
    outcome = rso.encrypted(rso.case(number), RecordKind.MESSAGE,
                            "Substantiated; evals re-run. You may also turn to the AI Office.")
    closed = rso.act(number, "close", approver_id=people["rso2"].id, message=outcome)
    assert closed.status_code == 200, closed.get_json()

    view = closed.get_json()
    assert view["status"] == "closed" and view["approver"] == "rso2"
    assert view["assignee"]["username"] == "rso2" and view["outcome"] == "substantiated"
    texts = rso.texts(view)
    assert texts["note"] == ["Interview the eval lead first."]
    assert texts["findings"] == ["The eval was skipped twice."]
    assert texts["action"] == ["Evals re-run; process fixed."]

    # The reporter sees the replies and every status change, never the note or the findings.
    messages = reporter.read(codename)
    assert [m.text for m in messages if m.author == "staff"] == [
        "Thank you. We are looking into it.", "Can you tell us which run?",
        "Status: interviews. Actions: logs kept.",
        "Substantiated; evals re-run. You may also turn to the AI Office."]
    shown = reporter.open(codename).get_json()
    assert [r["purpose"] for r in shown["records"] if r["author"] == "staff"] == [
        None, None, "update", "outcome"]
    assert {m.kind for m in messages} == {"report", "identity", "message"}
    timeline = reporter.open(codename).get_json()["timeline"]
    assert [e["kind"] for e in timeline if e["kind"] in (
        "acknowledge", "triage", "investigate", "findings", "corrective_action", "close")] == [
        "acknowledge", "triage", "investigate", "findings", "corrective_action", "close"]
    assert all("eval" not in (e["detail"] or "").lower() for e in timeline)
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action)
                                     .where(AuditEntry.case_number == number)).all()
    assert {"case.acknowledge", "case.triage", "case.close", "case.note_written"} <= set(actions)


def test_each_step_demands_what_makes_it_meaningful(app: Flask, staff: StaffLogin,
                                                   people: dict[str, Account]) -> None:
    number, _, _ = file_report(app)
    rso = worker(app, staff, people["rso"])

    def refused(action: str, **fields: Any) -> str:
        response = rso.act(number, action, **fields)
        assert response.status_code == 400, (action, response.get_json())
        return str(response.get_json()["message"])

    assert "cannot be moved" in refused("triage", category="other", severity="low",
                                        retaliation_risk="low")
    assert rso.acknowledge(number).status_code == 200
    assert "severity" in refused("triage", category="other", severity="dire",
                                 retaliation_risk="low")
    assert "retaliation" in refused("triage", category="other", severity="low",
                                    retaliation_risk="none")
    assert "categor" in refused("triage", category="no-such", severity="low",
                                retaliation_risk="low")
    assert rso.case(number)["status"] == "acknowledged"
    assert rso.act(number, "triage", category="other", severity="low",
                   retaliation_risk="low").status_code == 200
    assert rso.act(number, "investigate").status_code == 200
    view = rso.case(number)
    record = rso.encrypted(view, RecordKind.FINDINGS, "Not borne out.")
    refused("findings", outcome="maybe", material_risk_found=False, record=record)
    assert rso.act(number, "findings", outcome="not_substantiated",
                   record=record).status_code == 400  # the material-risk answer is required
    refused("findings", outcome="not_substantiated", material_risk_found=False,
            record={**record, "ciphertext": b64(b"\x01" + bytes(40))})
    assert "cannot be moved" in refused("close", approver_id=people["rso"].id)
    assert rso.act(number, "findings", outcome="not_substantiated", material_risk_found=False,
                   record=record).status_code == 200
    action = rso.encrypted(rso.case(number), RecordKind.ACTION, "No action needed.")
    assert rso.act(number, "corrective_action", record=action).status_code == 200
    assert "approver" in refused("close", approver_id=people["exec"].id)
    outcome = rso.encrypted(rso.case(number), RecordKind.MESSAGE, "Not borne out.")
    assert rso.act(number, "close", approver_id=people["rso"].id,
                   message=outcome).status_code == 200
    reopened = rso.act(number, "reopen").get_json()
    assert reopened["status"] == "investigating" and reopened["reopened_count"] == 1
    assert rso.act(number, "dance").status_code == 400


def test_a_report_concerning_the_rso_does_not_exist_for_any_rso(
        app: Flask, staff: StaffLogin, people: dict[str, Account]) -> None:
    visible, _, _ = file_report(app)
    hidden, _, _ = file_report(app, concerns_rso=True)
    rso = worker(app, staff, people["rso"])
    board = worker(app, staff, people["board"])

    assert [c["number"] for c in rso.inbox()["cases"]] == [visible]
    assert rso.inbox()["total"] == 1 and sum(rso.inbox()["counts"]["status"].values()) == 1
    assert rso.inbox(status="received")["total"] == 1
    for path in (f"/api/v1/staff/cases/{hidden}", f"/staff/cases/{hidden}"):
        assert rso.get(path).status_code == 404
    for suffix in ("records", "transitions", "assignee", "members", "recuse", "identity",
                   "links", f"members/{people['board'].id}/revoke"):
        assert rso.post(f"/api/v1/staff/cases/{hidden}/{suffix}", {}).status_code == 404, suffix
    # Linking to it cannot be used to learn it exists either.
    assert rso.post(f"/api/v1/staff/cases/{visible}/links",
                    {"number": hidden, "link_kind": "related"}).status_code == 404

    assert [c["number"] for c in board.inbox()["cases"]] == [hidden]
    assert board.texts(board.case(hidden))["report"] == ["The CBRN eval was skipped."]


def test_other_routes_and_roles_see_nothing(app: Flask, staff: StaffLogin,
                                           people: dict[str, Account]) -> None:
    number, _, _ = file_report(app)
    executive = worker(app, staff, people["exec"])
    assert executive.inbox()["total"] == 0
    assert executive.get(f"/api/v1/staff/cases/{number}").status_code == 404
    # The Board holds only an escrow copy until the case escalates.
    board = worker(app, staff, people["board"])
    assert board.inbox()["total"] == 0
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.number == number)).one()
        escrow = [g for g in case.grants if g.kind == "escrow"]
        assert [g.staff_id for g in escrow] == [people["board"].id]
        escrow[0].released_on = case.received_on
        db.session.commit()
    assert [c["number"] for c in board.inbox()["cases"]] == [number]
    assert board.texts(board.case(number))["report"] == ["The CBRN eval was skipped."]


def test_recusal_makes_the_case_disappear(app: Flask, staff: StaffLogin,
                                         people: dict[str, Account]) -> None:
    number, _, _ = file_report(app)
    rso, rso2 = worker(app, staff, people["rso"]), worker(app, staff, people["rso2"])
    assert rso.post(f"/api/v1/staff/cases/{number}/recuse").status_code == 200
    assert rso.get(f"/api/v1/staff/cases/{number}").status_code == 404
    assert rso.inbox()["total"] == 0
    last = rso2.post(f"/api/v1/staff/cases/{number}/recuse")
    assert last.status_code == 400 and "only person" in last.get_json()["message"]
    assert rso2.case(number)["members"] == [
        {"id": people["rso2"].id, "username": "rso2", "roles": ["rso"],
         "described": "rso2, Responsible Scaling Officer"}]


def test_sharing_and_revocation_rotate_the_case_key(app: Flask, staff: StaffLogin,
                                                   people: dict[str, Account]) -> None:
    number, codename, reporter = file_report(app)
    rso, executive = worker(app, staff, people["rso"]), worker(app, staff, people["exec"])
    view = rso.case(number)
    assert [c["username"] for c in view["candidates"]] == ["exec"]
    exec_key = executive.keypair.public_key
    shared = rso.post(f"/api/v1/staff/cases/{number}/members", {
        "staff_id": people["exec"].id,
        "grants": [{"key_epoch": 1, "grant": rso.seal_for(view, exec_key, 1)}]})
    assert shared.status_code == 200, shared.get_json()
    assert executive.texts(executive.case(number))["report"] == ["The CBRN eval was skipped."]

    # Revoking rso2: a new case key sealed to the remaining members, the reporter and the Board.
    view = rso.case(number)
    new_key = CaseKey.generate()
    ref = view["case_ref"]

    def sealed(kind: str, staff_id: int | None, public_key: bytes, grant_kind: GrantKind
               ) -> dict[str, Any]:
        return {"kind": kind, "staff_id": staff_id,
                "grant": b64(seal_case_key(new_key, public_key, ref, grant_kind))}

    with app.app_context():
        keys = {a: staff.get(a).public_key for a in ("rso", "exec", "board")}
    grants = [sealed("recipient", people["rso"].id, keys["rso"], GrantKind.RECIPIENT),
              sealed("recipient", people["exec"].id, keys["exec"], GrantKind.RECIPIENT),
              sealed("escrow", people["board"].id, keys["board"], GrantKind.ESCROW),
              sealed("reporter", None, base64.b64decode(view["reporter_public_key"]),
                     GrantKind.REPORTER)]
    revoke = f"/api/v1/staff/cases/{number}/members/{people['rso2'].id}/revoke"
    assert rso.post(revoke, {"key_epoch": 2, "grants": grants[:2]}).status_code == 400
    assert rso.post(revoke, {"key_epoch": 3, "grants": grants}).status_code == 400
    revoked = rso.post(revoke, {"key_epoch": 2, "grants": grants})
    assert revoked.status_code == 200, revoked.get_json()
    assert worker(app, staff, people["rso2"]).get(f"/api/v1/staff/cases/{number}"
                                                  ).status_code == 404
    with app.app_context():
        left = db.session.scalars(select(CaseGrant).where(
            CaseGrant.staff_id == people["rso2"].id)).all()
    assert left == []

    # Written afterwards under epoch 2; old content still opens with the epoch-1 key.
    stale = rso.encrypted(view, RecordKind.NOTE, "old key")
    assert rso.post(f"/api/v1/staff/cases/{number}/records",
                    {"kind": "note", **stale}).status_code == 400
    assert executive.write(number, "note", "Written after the revocation.").status_code == 201
    view = executive.case(number)
    note = next(r for r in view["records"] if r["kind"] == "note")
    assert note["key_epoch"] == 2
    assert executive.texts(view) == {"report": ["The CBRN eval was skipped."],
                                     "note": ["Written after the revocation."]}
    assert len(reporter.read(codename)) >= 1


def test_identity_is_revealed_only_by_an_audited_action(app: Flask, staff: StaffLogin,
                                                       people: dict[str, Account]) -> None:
    number, codename, reporter = file_report(app, identity="Ada, ada@example.org")
    rso = worker(app, staff, people["rso"])
    assert all(r["kind"] != "identity" for r in rso.case(number)["records"])
    revealed = rso.post(f"/api/v1/staff/cases/{number}/identity",
                        {"reason": "contact_reporter"})
    assert revealed.status_code == 200
    view = rso.case(number)
    assert view["identity_revealed"]
    assert rso.read(view, revealed.get_json()["record"]) == "Ada, ada@example.org"
    assert rso.texts(view)["identity"] == ["Ada, ada@example.org"]
    # Only for the one who revealed it.
    rso2 = worker(app, staff, people["rso2"])
    assert all(r["kind"] != "identity" for r in rso2.case(number)["records"])
    with app.app_context():
        assert db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "case.identity_revealed",
            AuditEntry.actor == f"staff:{people['rso'].id}")).one()
    timeline = reporter.open(codename).get_json()["timeline"]
    assert any(e["kind"] == "identity_revealed" for e in timeline)
    anonymous, _, _ = file_report(app)
    assert rso.post(f"/api/v1/staff/cases/{anonymous}/identity",
                    {"reason": "contact_reporter"}).status_code == 400


def test_a_case_opened_by_staff(app: Flask, staff: StaffLogin,
                                people: dict[str, Account]) -> None:
    rso = worker(app, staff, people["rso"])
    with app.app_context():
        keys = {a: staff.get(a) for a in ("rso", "rso2", "board")}
        public = {a: s.public_key for a, s in keys.items()}
    case_key, case_ref, ref = CaseKey.generate(), protocol.new_case_ref(), protocol.new_record_ref()
    report = encrypt_record(case_key, RecordKind.REPORT, case_ref, ref, b"Seen in a review.")

    def grant(kind: str, who: str, grant_kind: GrantKind) -> dict[str, Any]:
        return {"kind": kind, "staff_id": people[who].id,
                "grant": b64(seal_case_key(case_key, public[who], case_ref, grant_kind))}

    body = {"case_ref": case_ref, "route": "rso", "category": "governance",
            "material_risk": False,
            "grants": [grant("recipient", "rso", GrantKind.RECIPIENT),
                       grant("recipient", "rso2", GrantKind.RECIPIENT),
                       grant("escrow", "board", GrantKind.ESCROW)],
            "records": [{"record_ref": ref, "kind": "report", "ciphertext": b64(report)}]}
    short = {**body, "grants": body["grants"][:1]}
    assert rso.post("/api/v1/staff/cases", short).status_code == 400
    executive = worker(app, staff, people["exec"])
    assert executive.post("/api/v1/staff/cases", body).status_code == 400  # not on their route
    opened = rso.post("/api/v1/staff/cases", body)
    assert opened.status_code == 201, opened.get_json()
    view = rso.case(opened.get_json()["number"])
    assert view["origin"] == "staff" and view["status"] == "acknowledged"
    assert rso.texts(view)["report"] == ["Seen in a review."]
    assert view["reporter_public_key"] is None
    message = rso.write(view["number"], "message", "To nobody")
    assert message.status_code == 400 and "no reporter" in message.get_json()["message"]


def test_links_between_cases(app: Flask, staff: StaffLogin, people: dict[str, Account]) -> None:
    first, _, _ = file_report(app)
    second, _, _ = file_report(app)
    rso = worker(app, staff, people["rso"])
    assert rso.post(f"/api/v1/staff/cases/{second}/links",
                    {"number": first, "link_kind": "duplicate"}).status_code == 200
    assert rso.case(second)["linked"] == [{"number": first, "link_kind": "duplicate"}]
    assert rso.case(first)["linked"] == [{"number": second, "link_kind": "duplicate"}]
    assert rso.post(f"/api/v1/staff/cases/{second}/links",
                    {"number": second, "link_kind": "duplicate"}).status_code == 400
    assert rso.post(f"/api/v1/staff/cases/{second}/links",
                    {"number": first, "link_kind": "cousin"}).status_code == 400
    # Someone who reads only one end sees neither the link nor the event of making it.
    executive = worker(app, staff, people["exec"])
    view = rso.case(second)
    assert rso.post(f"/api/v1/staff/cases/{second}/members", {
        "staff_id": people["exec"].id, "grants": [
            {"key_epoch": 1, "grant": rso.seal_for(view, executive.keypair.public_key, 1)}],
    }).status_code == 200
    seen = executive.case(second)
    assert seen["linked"] == [] and "linked" not in [e["kind"] for e in seen["events"]]
    assert "linked" in [e["kind"] for e in rso.case(second)["events"]]


def test_inbox_filters_pages_and_counts(app: Flask, staff: StaffLogin,
                                       people: dict[str, Account]) -> None:
    numbers = [file_report(app, category=category)[0]
               for category in ("capability-cbrn", "other", "other")]
    flagged, _, _ = file_report(app, material_risk=True)
    rso = worker(app, staff, people["rso"])
    assert rso.acknowledge(numbers[0]).status_code == 200
    rso.post(f"/api/v1/staff/cases/{numbers[1]}/assignee", {"staff_id": people["rso"].id})

    every = rso.inbox()
    assert every["total"] == 4 and every["counts"]["status"]["received"] == 3
    assert every["counts"]["status"]["acknowledged"] == 1
    assert every["counts"]["mine"] == 1 and every["counts"]["unassigned"] == 3
    assert {c["number"] for c in rso.inbox(category="other")["cases"]} == set(numbers[1:])
    assert [c["number"] for c in rso.inbox(assignee="me")["cases"]] == [numbers[1]]
    assert [c["number"] for c in rso.inbox(flag="material_risk")["cases"]] == [flagged]
    assert [c["number"] for c in rso.inbox(status="acknowledged")["cases"]] == [numbers[0]]
    assert rso.inbox(overdue="1")["total"] == 0
    summary = every["cases"][0]
    assert summary["preview"] and summary["grants"] and summary["next_due_clock"]
    # The acknowledged case's next deadline is its triage (the others': acknowledgement).
    assert {c["number"]: c["next_due_clock"] for c in every["cases"]}[numbers[0]] == "triage"
    for bad in ({"status": "lost"}, {"page": "-1"}, {"assignee": "everyone"},
                {"sort": "random"}, {"flag": "secret"}, {"category": "nope"}):
        response = rso.client.get("/api/v1/staff/cases", query_string=bad)
        assert response.status_code == 400, bad
    assert rso.inbox(page="99")["page"] == 1


def test_bad_input_changes_nothing(app: Flask, client: FlaskClient, staff: StaffLogin,
                                   people: dict[str, Account]) -> None:
    number, _, _ = file_report(app)
    rso = worker(app, staff, people["rso"])
    before = rso.case(number)
    for path, body in (
        ("records", {"kind": "note"}),
        ("records", {"kind": "report", "record_ref": "r-" + "0" * 32, "key_epoch": 1,
                     "ciphertext": "AA=="}),
        ("records", []),
        ("transitions", {"action": 7}),
        ("assignee", {"staff_id": "me"}),
        ("assignee", {"staff_id": people["exec"].id}),
        ("members", {"staff_id": people["exec"].id, "grants": "none"}),
        ("members", {"staff_id": people["exec"].id, "grants": [{"key_epoch": 1,
                                                                  "grant": "AA=="}]}),
        ("links", {"number": "C-00000", "link_kind": "related"}),
    ):
        response = rso.post(f"/api/v1/staff/cases/{number}/{path}", body)
        assert 400 <= response.status_code < 500, (path, body, response.status_code)
        assert response.is_json
    after = rso.case(number)
    assert after["records"] == before["records"] and after["members"] == before["members"]
    assert after["assignee"] is None
