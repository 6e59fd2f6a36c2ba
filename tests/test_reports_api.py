"""Filing a report and coming back with the codename, through the JSON API."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func

from app.extensions import db
from app.models import Case, CaseGrant, CaseRecord, SpentChallenge
from app.roles import Role
from app.services import deadlines, reports
from app.services.directory import pinned_fingerprint
from app.state import state_of
from candor_reporter import protocol
from crypto import kdf
from tests.support.dump import database_dump
from tests.support.reporting import ReporterClient
from tests.support.staff import StaffLogin


@pytest.fixture
def recipients(staff: StaffLogin) -> dict[str, int]:
    return {name: staff.create(name, role).id for name, role in (
        ("rso1", Role.RSO), ("exec1", Role.EXECUTIVE), ("board1", Role.BOARD),
        ("board2", Role.BOARD))}


def cases(app: Flask) -> list[Case]:
    with app.app_context():
        return list(db.session.scalars(db.select(Case)))


def test_submit_and_come_back(app: Flask, client: FlaskClient,
                              recipients: dict[str, int]) -> None:
    reporter = ReporterClient(client)
    text = "Weights were copied to an unapproved bucket on 3 November."
    response, codename = reporter.submit(text, category="weights-security",
                                         identity="Jane, jane@example.org")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["number"].startswith("C-")
    assert len(codename.split()) == 7

    again = ReporterClient(app.test_client())
    messages = again.read(codename)
    assert [(m.kind, m.text) for m in messages] == [("report", text),
                                                    ("identity", "Jane, jane@example.org")]
    view = again.client.get("/api/v1/reporter/case").get_json()
    assert view["status"] == "received"
    assert view["timeline"][0]["kind"] == "received"
    received = date.fromisoformat(view["received_on"])
    assert date.fromisoformat(view["acknowledge_by"]) == received + timedelta(days=7)

    with app.app_context():
        case = db.session.scalars(db.select(Case)).one()
        grants = {(g.kind, g.staff_id) for g in case.grants}
    assert grants == {("reporter", None), ("recipient", recipients["rso1"]),
                      ("escrow", recipients["board1"]), ("escrow", recipients["board2"])}
    dump = database_dump(app)
    for secret in (text, codename, "jane@example.org"):
        assert secret.encode() not in dump


def test_a_wrong_codename_gets_the_same_answer_as_an_unknown_one(
        client: FlaskClient, recipients: dict[str, int]) -> None:
    reporter = ReporterClient(client)
    _response, codename = reporter.submit()
    words = codename.split()
    wrong = " ".join([*words[:-1], "zebra" if words[-1] != "zebra" else "apple"])
    answers = [reporter.open(c) for c in (wrong, "abacus " * 7)]
    assert {a.status_code for a in answers} == {404}
    assert len({a.get_json()["message"] for a in answers}) == 1
    assert client.get("/api/v1/reporter/case").status_code == 401


def test_reporter_reply_and_leaving(app: Flask, client: FlaskClient,
                                    recipients: dict[str, int]) -> None:
    reporter = ReporterClient(client)
    _response, codename = reporter.submit()
    view = reporter.open(codename).get_json()
    opened = protocol.open_case(view, codename)
    sent = reporter.post("/api/v1/reporter/messages",
                         protocol.build_message(opened, "One more detail."))
    assert sent.status_code == 201
    assert [m.text for m in protocol.read_messages(sent.get_json(), opened)][-1] == \
        "One more detail."
    assert reporter.post("/api/v1/reporter/leave", {}).status_code == 200
    assert client.get("/api/v1/reporter/case").status_code == 401


def test_reporter_session_expires_when_idle(app: Flask, client: FlaskClient,
                                            recipients: dict[str, int],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    reporter = ReporterClient(client)
    _response, codename = reporter.submit()
    reporter.open(codename)
    idle = state_of(app).config.reporter_idle_minutes * 60
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + idle + 1)
    assert client.get("/api/v1/reporter/case").status_code == 401


def test_concerned_people_are_left_out(app: Flask, client: FlaskClient,
                                       recipients: dict[str, int]) -> None:
    reporter = ReporterClient(client)
    response, _codename = reporter.submit(route="executive",
                                          concerned_staff_ids=(recipients["board1"],))
    assert response.status_code == 201
    with app.app_context():
        grants = {(g.kind, g.staff_id) for g in db.session.scalars(db.select(CaseGrant))}
    assert ("escrow", recipients["board1"]) not in grants
    assert ("recipient", recipients["exec1"]) in grants


def test_a_report_concerning_the_rso_goes_to_the_board(client: FlaskClient,
                                                       recipients: dict[str, int]) -> None:
    reporter = ReporterClient(client)
    readers = reporter.post("/api/v1/readers", {"route": "rso", "concerns_rso": True}).get_json()
    assert {p["username"] for p in readers["now"]} == {"board1", "board2"}
    assert readers["on_escalation"] == []
    response, _codename = reporter.submit(concerns_rso=True)
    assert response.status_code == 201


def test_grants_must_match_the_readers_exactly(app: Flask, client: FlaskClient,
                                               recipients: dict[str, int]) -> None:
    reporter = ReporterClient(client)
    body, _codename = reporter.build(protocol.NewReport("rso", "other", "text"))
    without_escrow = dict(body, grants=[g for g in body["grants"] if g["kind"] != "escrow"])
    swapped = dict(body, grants=[dict(g, staff_id=recipients["exec1"])
                                 if g["kind"] == "recipient" else g for g in body["grants"]])
    for bad in (without_escrow, swapped):  # each with its own proof: a refusal spends one
        answer = reporter.post("/api/v1/reports", reporter.with_proof_of_work(bad))
        assert answer.status_code == 400
        assert "exactly the current readers" in answer.get_json()["message"]
    assert cases(app) == []


@pytest.mark.parametrize(("change", "message"), [
    (lambda b: b.update(category="gossip"), "categories"),
    (lambda b: b.update(route="ceo"), "routes"),
    (lambda b: b.update(case_ref="../../etc"), "case identifier"),
    (lambda b: b.update(reporter_kdf_version=1), "wrong parameters"),
    (lambda b: b.update(reporter_public_key=base64.b64encode(bytes(32)).decode()), "public key"),
    (lambda b: b.update(lookup_id="not base64!"), "base64"),
    (lambda b: b.update(records=[]), "no report"),
    (lambda b: b["records"][0].update(ciphertext=base64.b64encode(b"\x01" * 100).decode()),
     "malformed"),
    (lambda b: b["records"][0].update(ciphertext=base64.b64encode(b"\x02" + b"x" * 296).decode()),
     "malformed"),
    (lambda b: b["records"][0].update(kind="note"), "report or an identity"),
    (lambda b: b["grants"][0].update(grant=base64.b64encode(b"\x01" * 10).decode()), "sealed key"),
    (lambda b: b.update(concerned_staff_ids=[987654]), "not a member of staff"),
    (lambda b: b.update(concerned_staff_ids="everyone"), "list"),
    (lambda b: b.update(material_risk="yes"), "true or false"),
])
def test_bad_submissions_are_refused_and_nothing_is_stored(
        app: Flask, client: FlaskClient, recipients: dict[str, int], change, message) -> None:  # type: ignore[no-untyped-def]
    reporter = ReporterClient(client)
    body, _codename = reporter.build(protocol.NewReport("rso", "other", "text"))
    change(body)
    answer = reporter.post("/api/v1/reports", body)
    assert answer.status_code == 400
    assert message in answer.get_json()["message"]
    assert cases(app) == []


def test_a_route_nobody_can_read_is_refused(client: FlaskClient, staff: StaffLogin) -> None:
    staff.create("only-rso", Role.RSO)
    reporter = ReporterClient(client)
    answer = reporter.post("/api/v1/readers", {"route": "board"})
    assert answer.status_code == 409 and "No one can receive" in answer.get_json()["message"]


def test_nothing_about_the_reporters_connection_is_stored(
        app: Flask, client: FlaskClient, recipients: dict[str, int]) -> None:
    reporter = ReporterClient(client)
    client.environ_base.update(REMOTE_ADDR="203.0.113.77",
                               HTTP_USER_AGENT="ReporterBrowser/9.9 (unique-agent)")
    response, _codename = reporter.submit()
    assert response.status_code == 201
    dump = database_dump(app)
    assert b"203.0.113.77" not in dump and b"unique-agent" not in dump
    with app.app_context():
        record = db.session.scalars(db.select(CaseRecord)).first()
        assert record is not None and record.created_on == date.today()


def test_clients_work_out_the_readers_from_signed_roles(app: Flask, client: FlaskClient,
                                                        recipients: dict[str, int]) -> None:
    """Whatever the server says, a client seals only to the route's signed role holders and
    never to someone named as concerned; a server whose roles disagree gets no report."""
    reporter = ReporterClient(client)
    directory = protocol.verified_directory(client.get("/api/v1/directory").get_json(),
                                            reporter.options()["organisation_fingerprint"])
    readers = protocol.expected_readers(directory, "executive", False, [recipients["board2"]])
    assert [r.username for r in readers.now] == ["exec1"]
    assert [r.username for r in readers.on_escalation] == ["board1"]
    with pytest.raises(protocol.NoReaders):
        protocol.expected_readers(directory, "executive", False, [recipients["exec1"]])
    concerns = protocol.expected_readers(directory, "rso", True, [])
    assert {r.username for r in concerns.now} == {"board1", "board2"}

    # The database now says exec1 is an RSO, but the signed entry still says executive.
    with app.app_context():
        from app.models import StaffRole

        db.session.add(StaffRole(staff_id=recipients["exec1"], role="rso"))
        db.session.commit()
    answer, _codename = reporter.submit(route="rso")
    assert answer.status_code == 400 and "exactly the current readers" in \
        answer.get_json()["message"]
    assert cases(app) == []


def test_the_reporter_cookie_does_not_say_which_case(app: Flask, client: FlaskClient,
                                                     recipients: dict[str, int]) -> None:
    """The cookie is sealed: whoever holds it (a seized device) reads nothing in it, not even
    with Flask's own cookie reader; only the server's key opens it."""
    from flask.sessions import SecureCookieSessionInterface
    from itsdangerous import BadSignature

    from app.surfaces import SealedCookie

    reporter = ReporterClient(client)
    response, _codename = reporter.submit()
    number = response.get_json()["number"]
    cookie = client.get_cookie("candor_reporter")
    assert cookie is not None
    with app.app_context():
        case = db.session.scalars(db.select(Case)).one()
    sealed = base64.urlsafe_b64decode(cookie.value + "=" * (-len(cookie.value) % 4))
    for clear in (case.case_ref, number, "reporter", "case", "csrf_token",
                  response.get_json()["csrf_token"]):
        assert clear.encode() not in sealed
    signed = SecureCookieSessionInterface()
    signed.salt = "candor-candor_reporter"
    with pytest.raises(BadSignature):
        signed.get_signing_serializer(app).loads(cookie.value)
    with pytest.raises(BadSignature):
        SealedCookie(bytes(32)).loads(cookie.value)
    data = app.session_interface.reporter.get_signing_serializer(app).loads(cookie.value)
    assert set(data) == {"csrf_token", "reporter"} and data["reporter"]["case"] == case.id
    assert client.get("/api/v1/reporter/case").status_code == 200


def test_a_report_about_the_rso_excludes_every_rso(app: Flask, client: FlaskClient,
                                                   recipients: dict[str, int]) -> None:
    from app.models import CaseExclusion

    response, _codename = ReporterClient(client).submit(concerns_rso=True)
    assert response.status_code == 201
    with app.app_context():
        excluded = set(db.session.scalars(db.select(CaseExclusion.staff_id)))
    assert excluded == {recipients["rso1"]}


def test_huge_staff_ids_are_a_clear_400(client: FlaskClient, recipients: dict[str, int]) -> None:
    reporter = ReporterClient(client)
    answer = reporter.post("/api/v1/readers", {"route": "rso", "concerned_staff_ids": [2**63]})
    assert answer.status_code == 400


def test_every_key_epoch_opens_and_new_messages_use_the_current_one(
        app: Flask, client: FlaskClient, recipients: dict[str, int]) -> None:
    """After a revocation the case key has a new epoch: the reporter opens both epochs' grants,
    reads what was written under each, and writes under the newest only."""
    from crypto.envelope import CaseKey, GrantKind, RecordKind, encrypt_record, seal_case_key

    reporter = ReporterClient(client)
    _response, codename = reporter.submit("Written under the first key.")
    view = reporter.open(codename).get_json()
    first = protocol.open_case(view, codename)
    second_key = CaseKey.generate()
    later_ref = protocol.new_record_ref()
    with app.app_context():
        case = db.session.scalars(db.select(Case)).one()
        case.key_epoch = 2
        case.grants.append(CaseGrant(
            kind="reporter", key_epoch=2,
            grant=seal_case_key(second_key, first.reporter.public_key, case.case_ref,
                                GrantKind.REPORTER)))
        case.records.append(CaseRecord(
            record_ref=later_ref, kind="message", author="staff", visible_to_reporter=True,
            created_on=date.today(), key_epoch=2,
            ciphertext=encrypt_record(second_key, RecordKind.MESSAGE, case.case_ref, later_ref,
                                      b"Written under the second key.")))
        db.session.commit()

    view = client.get("/api/v1/reporter/case").get_json()
    assert view["key_epoch"] == 2
    assert [g["key_epoch"] for g in view["reporter_grants"]] == [1, 2]
    assert [r["key_epoch"] for r in view["records"]] == [1, 2]
    opened = protocol.open_case(view, codename)
    assert opened.case_key == second_key
    assert [m.text for m in protocol.read_messages(view, opened)] == [
        "Written under the first key.", "Written under the second key."]

    stale = protocol.build_message(first, "Under the old key.")
    assert stale["key_epoch"] == 1
    refused = reporter.post("/api/v1/reporter/messages", stale)
    assert refused.status_code == 400 and "key changed" in refused.get_json()["message"]
    sent = reporter.post("/api/v1/reporter/messages", protocol.build_message(opened, "Newer."))
    assert sent.status_code == 201
    assert sent.get_json()["records"][-1]["key_epoch"] == 2
    assert protocol.read_messages(sent.get_json(), opened)[-1].text == "Newer."
    with app.app_context():
        assert db.session.scalars(db.select(CaseRecord.key_epoch)
                                  .where(CaseRecord.record_ref == sent.get_json()
                                         ["records"][-1]["record_ref"])).one() == 2


def test_the_reporter_view_shows_no_row_ids(client: FlaskClient,
                                            recipients: dict[str, int]) -> None:
    """Row ids are sequential: they would tell a reporter how many reports came before."""
    reporter = ReporterClient(client)
    _response, codename = reporter.submit()
    view = reporter.open(codename).get_json()

    def keys(value: object) -> set[str]:
        if isinstance(value, dict):
            return set(value) | {k for v in value.values() for k in keys(v)}
        if isinstance(value, list):
            return {k for v in value for k in keys(v)}
        return set()

    assert not {k for k in keys(view) if k == "id" or k.endswith("_id")}
    missing_epoch = protocol.build_message(protocol.open_case(view, codename), "x")
    del missing_epoch["key_epoch"]
    assert reporter.post("/api/v1/reporter/messages", missing_epoch).status_code == 400


def test_a_retaliation_report_is_linked_to_the_case_the_session_has_open(
        app: Flask, client: FlaskClient, staff: StaffLogin, recipients: dict[str, int]) -> None:
    from tests.support.casework import CaseworkClient
    from tests.support.staff import Account

    reporter = ReporterClient(client)
    _response, first_codename = reporter.submit("The first report.")
    first = reporter.open(first_codename).get_json()
    body, second_codename = reporter.build(protocol.NewReport(
        "rso", "retaliation", "I was moved off the team after reporting."))
    filed = reporter.post("/api/v1/reports", {**body, "retaliation_for_open_case": True})
    assert filed.status_code == 201, filed.get_json()
    assert second_codename != first_codename
    second = reporter.open(second_codename).get_json()
    assert second["timeline"][-1]["kind"] == "linked"
    again = reporter.open(first_codename).get_json()
    assert again["timeline"][-1]["detail"] == \
        "You reported retaliation in a new report linked to this one."
    with app.app_context():
        linked = db.session.scalars(db.select(Case).where(
            Case.number == filed.get_json()["number"])).one()
        original = db.session.scalars(db.select(Case).where(
            Case.number == first["number"])).one()
        assert (linked.linked_case_id, linked.link_kind) == (original.id, "retaliation")
        assert linked.category == "retaliation"
    with app.app_context():
        secret = staff.get("rso1").totp_secret
    rso = CaseworkClient(app.test_client(), staff,
                         Account(recipients["rso1"], "rso1", "password-of-rso1", secret))
    assert rso.case(filed.get_json()["number"])["linked"] == [
        {"number": first["number"], "link_kind": "retaliation"}]

    # Without an open session, nothing is linked and nothing is stored.
    stranger = ReporterClient(app.test_client())
    body, _codename = stranger.build(protocol.NewReport("rso", "retaliation", "Linked?"))
    refused = stranger.post("/api/v1/reports", {**body, "retaliation_for_open_case": True})
    assert refused.status_code == 400 and "session" in refused.get_json()["message"]
    assert len(cases(app)) == 2


def _build(reporter: ReporterClient, text: str, case_ref: str | None = None,
           category: str = "other") -> tuple[dict[str, Any], str]:
    """A submission encrypted under ``case_ref`` (a fresh one if None)."""
    options = reporter.options()
    directory = protocol.verified_directory(reporter.client.get("/api/v1/directory").get_json(),
                                            options["organisation_fingerprint"])
    params = kdf.params_by_version(options["reporter_kdf"]["version"])
    body, codename, _key = protocol.build_submission_with_key(
        protocol.NewReport("rso", category, text), directory, params, case_ref)
    return reporter.with_proof_of_work(body), codename


SHARED_LIMITS = ("spent_challenges", "rate_limit_counts")


@pytest.mark.parametrize(("taken", "message"), [
    ("case_ref", "This case identifier is taken; submit again."),
    ("lookup_id", "This codename is taken; submit again."),
])
def test_a_taken_case_identifier_or_codename_is_a_clear_400_and_changes_nothing(
        app: Flask, client: FlaskClient, recipients: dict[str, int], taken: str,
        message: str) -> None:
    # The database's unique constraints find these (no query before the insert), and the
    # failed insert must leave nothing behind, on PostgreSQL (which aborts the transaction)
    # as on SQLite.
    # Only the second report's puzzle is spent (a refusal uses up its solution), and a taken
    # codename counts as a look-up.
    reporter = ReporterClient(client)
    first, first_codename = _build(reporter, "The first report.")
    assert reporter.post("/api/v1/reports", first).status_code == 201
    before = database_dump(app, leave_out=SHARED_LIMITS)
    second, _codename = _build(reporter, "The second report.",
                               first["case_ref"] if taken == "case_ref" else None)
    if taken == "lookup_id":
        second["lookup_id"] = first["lookup_id"]
    answer = reporter.post("/api/v1/reports", second)
    assert answer.status_code == 400
    assert answer.get_json() == {"error": "submission_rejected", "message": message}
    assert database_dump(app, leave_out=SHARED_LIMITS) == before
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(SpentChallenge)) == 2
    again = ReporterClient(app.test_client())
    assert [m.text for m in again.read(first_codename)] == ["The first report."]
    # The same worker goes on: the next submission is stored.
    third, third_codename = _build(reporter, "The third report.")
    assert reporter.post("/api/v1/reports", third).status_code == 201
    assert [m.text for m in again.read(third_codename)] == ["The third report."]
    assert len(cases(app)) == 2


def test_a_taken_codename_answer_counts_against_the_look_up_limit(
        make_app: Callable[..., Flask], app: Flask, recipients: dict[str, int]) -> None:
    # "This codename is taken" says a lookup identifier opens a case, as a look-up would: it is
    # counted like one, and a probe past the limit gets no answer about the identifier.
    config = state_of(app).config
    limited = make_app(codename_attempts_per_minute=2, org_key_file=config.org_signing_key_path,
                       org_fingerprint=pinned_fingerprint(config))
    reporter = ReporterClient(limited.test_client())
    first, _codename = _build(reporter, "The first report.")
    assert reporter.post("/api/v1/reports", first).status_code == 201
    answers = []
    for text in ("Probe one.", "Probe two.", "Probe three."):
        probe, _codename = _build(reporter, text)
        probe["lookup_id"] = first["lookup_id"]
        answer = reporter.post("/api/v1/reports", probe)
        answers.append((answer.status_code, (answer.get_json() or {}).get("message")))
    assert answers[:2] == [(400, "This codename is taken; submit again.")] * 2
    assert answers[2][0] == 429
    assert "codename" not in (answers[2][1] or "")
    assert len(cases(limited)) == 1


def test_a_taken_case_number_is_drawn_again(app: Flask, client: FlaskClient,
                                            recipients: dict[str, int],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # A retaliation report, so the case the session has open must survive the rolled-back
    # attempt too.
    reporter = ReporterClient(client)
    first, first_codename = _build(reporter, "The first report.")
    taken = reporter.post("/api/v1/reports", first).get_json()["number"]
    draws = iter([taken, taken, "C-7KQ2M"])
    monkeypatch.setattr(reports, "draw_number", lambda: next(draws))
    second, second_codename = _build(reporter, "Moved off the team.", category="retaliation")
    answer = reporter.post("/api/v1/reports", {**second, "retaliation_for_open_case": True})
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["number"] == "C-7KQ2M"
    again = ReporterClient(app.test_client())
    assert [m.text for m in again.read(second_codename)] == ["Moved off the team."]
    assert again.client.get("/api/v1/reporter/case").get_json()["timeline"][-1]["kind"] == \
        "linked"
    assert again.open(first_codename).get_json()["timeline"][-1]["kind"] == \
        "retaliation_reported"
    with app.app_context():
        numbers = sorted(db.session.scalars(db.select(Case.number)))
        grants = db.session.scalar(db.select(func.count()).select_from(CaseGrant))
        records = db.session.scalar(db.select(func.count()).select_from(CaseRecord))
    assert numbers == sorted([taken, "C-7KQ2M"])
    # Nothing of the attempts that collided was kept: two cases' grants and records only.
    assert (grants, records) == (2 * 4, 2)


def test_a_new_cases_clocks_are_what_a_recount_from_the_database_gives(
        app: Flask, client: FlaskClient, recipients: dict[str, int]) -> None:
    # Filing computes the deadline columns from what the submission carries, before the
    # INSERT; recomputing them from the stored rows must change nothing.
    reporter = ReporterClient(client)
    for fields in ({}, {"identity": "Jane"}, {"route": "executive"}, {"concerns_rso": True},
                   {"material_risk": True, "sb53_disclosure": True}):
        assert reporter.submit(**fields)[0].status_code == 201
    columns = ("deadline_policy_version", "next_due_on", "next_due_clock",
               "next_escalation_on")
    with app.app_context():
        stored = list(db.session.scalars(db.select(Case).order_by(Case.id)))
        filed = [tuple(getattr(c, name) for name in columns) for c in stored]
        for case in stored:
            deadlines.refresh_due(case, db.session)
        assert [tuple(getattr(c, name) for name in columns) for c in stored] == filed
        assert all(due is not None and clock == "acknowledge"
                   for _version, due, clock, _look in filed)
        db.session.rollback()


def test_a_case_filed_with_the_light_codename_parameters_keeps_them(
        app: Flask, client: FlaskClient, recipients: dict[str, int]) -> None:
    # A browser without WebAssembly files with the parameter set the server offers as light;
    # the case records it, the API returns it, and the codename opens the case with it.
    reporter = ReporterClient(client)
    options = reporter.options()
    light = options["reporter_kdf_light"]
    assert light == {"version": kdf.REPORTER_CODENAME_LIGHT_V1.version,
                     "opslimit": kdf.REPORTER_CODENAME_LIGHT_V1.opslimit,
                     "memlimit": kdf.REPORTER_CODENAME_LIGHT_V1.memlimit}
    directory = protocol.verified_directory(client.get("/api/v1/directory").get_json(),
                                            options["organisation_fingerprint"])
    body, codename = protocol.build_submission(
        protocol.NewReport("rso", "other", "Filed without WebAssembly."), directory,
        kdf.params_by_version(light["version"]))
    assert reporter.post("/api/v1/reports", reporter.with_proof_of_work(body)).status_code == 201
    [case] = cases(app)
    assert case.reporter_kdf_version == kdf.REPORTER_CODENAME_LIGHT_V1.version
    returning = ReporterClient(app.test_client())
    view = returning.open(codename).get_json()
    assert view["reporter_kdf_version"] == kdf.REPORTER_CODENAME_LIGHT_V1.version
    opened = protocol.open_case(view, codename)
    assert [m.text for m in protocol.read_messages(view, opened)] == ["Filed without WebAssembly."]
