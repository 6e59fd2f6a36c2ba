"""SB 53 quarterly sharing (Labor Code §1107.1(e)(2)): each SB 53 disclosure's summary and
response, sealed end-to-end to every officer and director in the register not named in it.
An accused director gets nothing of the case; every other one decrypts it with their own key;
the server refuses a share sealed to anyone else or missing anyone; only a share meets the
quarterly clock; officer-only holders never read reports."""

from __future__ import annotations

import base64
import secrets
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import AuditEntry, Case, CaseRecord, OfficerShare, OfficerShareGrant, today
from app.roles import Role
from app.services import deadlines, officer_shares, statistics
from app.services.routing import Route, reader_ids_for
from candor_reporter import protocol
from crypto.envelope import (
    SHARE_SUMMARY_ID,
    CaseKey,
    GrantKind,
    RecordKind,
    decrypt_record,
    encrypt_record,
    open_grant,
    seal_case_key,
)
from crypto.errors import CryptoError
from tests.support.casework import CaseworkClient, b64
from tests.support.reporting import ReporterClient
from tests.support.staff import Account, StaffLogin
from tests.test_reporter_plain import NEW, open_case, page, report_form

SUMMARY = ("What was disclosed:\nThe CBRN evaluation was skipped before launch.\n\n"
           "What the lab did or answered:\nThe launch was paused and the evaluation re-run.")


@pytest.fixture
def people(staff: StaffLogin) -> dict[str, Account]:
    """Case handlers, two directors who handle no case, and a Board member who is also on
    the register."""
    return {name: staff.create(name, *roles) for name, roles in (
        ("rso1", (Role.RSO,)), ("exec1", (Role.EXECUTIVE,)), ("board1", (Role.BOARD,)),
        ("dir1", (Role.OFFICER,)), ("dir2", (Role.OFFICER,)),
        ("board2", (Role.BOARD, Role.OFFICER)))}


def directory(client: FlaskClient) -> dict[int, protocol.Reader]:
    options = client.get("/api/v1/report-options").get_json()
    return protocol.verified_directory(client.get("/api/v1/directory").get_json(),
                                       options["organisation_fingerprint"])


def file_sb53(client: FlaskClient, concerned: tuple[int, ...] = (),
              **fields: Any) -> tuple[str, str]:
    reporter = ReporterClient(client)
    answer, codename = reporter.submit(sb53_disclosure=True, concerned_staff_ids=concerned,
                                       **fields)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["number"], codename


def share_body(handler: CaseworkClient, number: str, sealed_to: list[protocol.Reader],
               text: str = SUMMARY) -> dict[str, Any]:
    """What the handler's browser sends: the summary under a new share key, that key sealed to
    each of ``sealed_to``, and the same words to the reporter under the case key."""
    share_key = CaseKey.generate()
    share_ref = "s-" + secrets.token_hex(16)
    summary = encrypt_record(share_key, RecordKind.SHARE, share_ref, SHARE_SUMMARY_ID,
                             text.encode("utf-8"))
    view = handler.case(number)
    return {"share_ref": share_ref, "summary": b64(summary),
            "grants": [{"staff_id": r.staff_id,
                        "grant": b64(seal_case_key(share_key, r.public_key, share_ref,
                                                   GrantKind.SHARE))} for r in sealed_to],
            "message": handler.encrypted(view, RecordKind.MESSAGE, text)}


def read_shares(client: FlaskClient, staff: StaffLogin, account: Account) -> list[str]:
    """Sign in as ``account`` and decrypt every share sealed to them with their private key."""
    reader = CaseworkClient(client, staff, account)
    answer = reader.get("/api/v1/staff/officer-shares")
    assert answer.status_code == 200, answer.get_json()
    texts = []
    for share in answer.get_json()["shares"]:
        key = open_grant(base64.b64decode(share["grant"]), reader.keypair, share["share_ref"],
                         GrantKind.SHARE)
        texts.append(decrypt_record(key, RecordKind.SHARE, share["share_ref"], SHARE_SUMMARY_ID,
                                    base64.b64decode(share["summary"])).decode("utf-8"))
    return texts


def test_officer_only_holders_are_in_the_directory_but_never_read_a_report(
        app: Flask, client: FlaskClient, people: dict[str, Account]) -> None:
    listed = directory(client)
    assert {r.username for r in listed.values()} == set(people)
    dirs = {people["dir1"].id, people["dir2"].id}
    for route in ("rso", "executive", "board"):
        for concerns_rso in (False, True):
            if concerns_rso and route != "rso":
                continue
            readers = protocol.expected_readers(listed, route, concerns_rso, ())
            chosen = {r.staff_id for r in (*readers.now, *readers.on_escalation)}
            assert not chosen & dirs, route
            with app.app_context():
                ids = reader_ids_for(db.session, Route(route), concerns_rso, ())
            assert {r.staff_id for r in readers.now} == set(ids.now)
            assert {r.staff_id for r in readers.on_escalation} == set(ids.on_escalation)
    # board2 reads Board reports as a Board member, not as a director.
    board = protocol.expected_readers(listed, "board", False, ())
    assert {r.username for r in board.now} == {"board1", "board2"}


def test_an_accused_director_gets_nothing_and_every_other_decrypts(
        app: Flask, client: FlaskClient, staff: StaffLogin, people: dict[str, Account]) -> None:
    number, codename = file_sb53(client, concerned=(people["dir1"].id,))
    handler = CaseworkClient(client, staff, people["rso1"])
    answer = handler.get(f"/api/v1/staff/cases/{number}/sb53-share")
    assert answer.status_code == 200
    expected = {p["username"] for p in answer.get_json()["recipients"]}
    assert expected == {"dir2", "board2"}
    listed = directory(client)
    sealed_to = [r for r in listed.values() if r.username in expected]
    body = share_body(handler, number, sealed_to)
    written = handler.post(f"/api/v1/staff/cases/{number}/sb53-share", body)
    assert written.status_code == 201, written.get_json()

    with app.app_context():
        grants = db.session.scalars(db.select(OfficerShareGrant)).all()
        assert {g.staff_id for g in grants} == {people["dir2"].id, people["board2"].id}
        # dir1's own key opens none of the grants that exist.
        dir1_key = staff.unwrap(people["dir1"], base64.b64encode(
            staff.get("dir1").wrapped_private_key).decode())
        for grant in grants:
            with pytest.raises(CryptoError):
                open_grant(grant.grant, dir1_key, body["share_ref"], GrantKind.SHARE)
    for name in ("dir2", "board2"):
        assert read_shares(client, staff, people[name]) == [SUMMARY], name
    assert read_shares(client, staff, people["dir1"]) == []
    # The reporter reads what was shared, as a message of their case.
    messages = ReporterClient(client).read(codename)
    assert [m.text for m in messages if m.purpose == deadlines.SB53_SHARE_PURPOSE] == [SUMMARY]
    shown = page(open_case(app.test_client(), codename))
    assert "shared with officers and directors (SB 53)" in shown
    assert "The launch was paused and the evaluation re-run." in shown


def test_the_server_refuses_a_share_sealed_to_the_wrong_people(
        app: Flask, client: FlaskClient, staff: StaffLogin, people: dict[str, Account]) -> None:
    number, _ = file_sb53(client, concerned=(people["dir1"].id,))
    handler = CaseworkClient(client, staff, people["rso1"])
    listed = {r.username: r for r in directory(client).values()}
    for names in (("dir2", "board2", "dir1"),  # the accused director added
                  ("dir2",),  # a director left out
                  ("dir2", "board2", "exec1"),  # someone off the register
                  ("dir2", "board2", "dir2")):  # sealed twice
        body = share_body(handler, number, [listed[n] for n in names])
        answer = handler.post(f"/api/v1/staff/cases/{number}/sb53-share", body)
        assert answer.status_code == 400, names
        assert "sealed" in answer.get_json()["message"]
    broken = share_body(handler, number, [listed["dir2"], listed["board2"]])
    broken["summary"] = b64(b"\x01" + b"\x00" * 10)
    assert handler.post(f"/api/v1/staff/cases/{number}/sb53-share", broken).status_code == 400
    assert handler.post(f"/api/v1/staff/cases/{number}/sb53-share",
                        {"share_ref": "nope"}).status_code == 400
    with app.app_context():
        assert db.session.scalars(db.select(OfficerShare)).all() == []
        assert db.session.scalars(db.select(CaseRecord).where(
            CaseRecord.purpose == deadlines.SB53_SHARE_PURPOSE)).all() == []


def test_a_report_about_the_rso_is_not_shared_with_an_rso_on_the_register(
        app: Flask, client: FlaskClient, staff: StaffLogin) -> None:
    staff.create("rso1", Role.RSO, Role.OFFICER)
    staff.create("board1", Role.BOARD)
    staff.create("dir1", Role.OFFICER)
    number, _ = file_sb53(client, concerns_rso=True)
    with app.app_context():
        case = db.session.scalars(db.select(Case).where(Case.number == number)).one()
        assert [s.username for s in officer_shares.recipients(db.session, case)] == ["dir1"]
    listed = directory(client)
    assert [r.username for r in protocol.sb53_sharers(listed, True, ())] == ["dir1"]
    assert {r.username for r in protocol.sb53_sharers(listed, False, ())} == {"rso1", "dir1"}


def test_only_a_share_meets_the_quarterly_clock(
        app: Flask, client: FlaskClient, staff: StaffLogin, people: dict[str, Account]) -> None:
    number, _ = file_sb53(client)
    handler = CaseworkClient(client, staff, people["rso1"])

    def quarter_clock() -> deadlines.Deadline:
        with app.app_context():
            case = db.session.scalars(db.select(Case).where(Case.number == number)).one()
            found = [d for d in deadlines.case_deadlines(db.session, case)
                     if d.clock == "sb53_share"]
        assert len(found) == 1
        return found[0]

    clock = quarter_clock()
    cycle, _, quarter_end = deadlines.quarter_bounds(today())
    assert clock.is_open and clock.cycle == cycle
    assert (clock.due_on - quarter_end).days == 30
    # A status update, feedback or plain message to the reporter does not meet it.
    assert handler.acknowledge(number).status_code == 200
    for purpose in ("update", "feedback", None):
        assert handler.write(number, "message", "News.", purpose=purpose).status_code == 201
        assert quarter_clock().is_open, purpose
    dashboard = page(handler.get("/staff/deadlines")).split('id="sb53-heading"')[1]
    assert number in dashboard.split("</section>")[0]
    listed = directory(client)
    sealed_to = [r for r in listed.values() if "officer" in r.roles]
    answer = handler.post(f"/api/v1/staff/cases/{number}/sb53-share",
                          share_body(handler, number, sealed_to))
    assert answer.status_code == 201, answer.get_json()
    assert quarter_clock().met_on == today()
    dashboard = page(handler.get("/staff/deadlines")).split('id="sb53-heading"')[1]
    assert "No SB 53 share is owed." in dashboard.split("</section>")[0]
    with app.app_context():
        actions = [e.action for e in db.session.scalars(db.select(AuditEntry).where(
            AuditEntry.case_number == number))]
    assert "case.sb53_shared" in actions and "deadline.sb53_share_met" in actions


def test_a_case_that_is_no_sb53_disclosure_has_no_clock_and_no_share(
        app: Flask, client: FlaskClient, staff: StaffLogin, people: dict[str, Account]) -> None:
    reporter = ReporterClient(client)
    answer, _ = reporter.submit()
    number = answer.get_json()["number"]
    with app.app_context():
        case = db.session.scalars(db.select(Case).where(Case.number == number)).one()
        assert not [d for d in deadlines.case_deadlines(db.session, case)
                    if d.clock == "sb53_share"]
    handler = CaseworkClient(client, staff, people["rso1"])
    sealed_to = [r for r in directory(client).values() if "officer" in r.roles]
    refused = handler.post(f"/api/v1/staff/cases/{number}/sb53-share",
                           share_body(handler, number, sealed_to))
    assert refused.status_code == 400 and "SB 53" in refused.get_json()["message"]


def test_officers_need_the_register_role_to_list_shares(
        client: FlaskClient, staff: StaffLogin, people: dict[str, Account]) -> None:
    handler = CaseworkClient(client, staff, people["exec1"])
    assert handler.get("/api/v1/staff/officer-shares").status_code == 403


def test_statistics_count_a_case_naming_a_director_as_accusing_an_officer(
        app: Flask, client: FlaskClient, people: dict[str, Account]) -> None:
    accusing, _ = file_sb53(client, concerned=(people["dir1"].id,))
    plain, _ = file_sb53(client)
    with app.app_context():
        ids = dict(db.session.execute(db.select(Case.number, Case.id)).all())
        accused = set(db.session.scalars(db.select(Case.id).where(
            statistics.accuses_an_officer())))
    assert accused == {ids[accusing]}
    assert ids[plain] not in accused


def test_the_page_without_javascript_says_what_is_shared_and_with_whom(
        client: FlaskClient, people: dict[str, Account]) -> None:
    text = page(client.get(NEW))
    assert "officers and directors at least quarterly" not in text
    shared = text.split('id="sb53-officers"')[1].split("</ul>")[0]
    assert {"dir1", "dir2", "board2"} <= set(shared.replace("<li>", " ").replace(",", " ").split())
    assert "rso1" not in shared and "exec1" not in shared
    data = {**report_form(client, concerned=[str(people["dir1"].id)]),
            "preview": "Show who would read it"}
    del data["send"]
    shared = page(client.post(NEW, data=data)).split('id="sb53-officers"')[1].split("</ul>")[0]
    assert "dir1" not in shared and "dir2" in shared and "board2" in shared


def test_an_officer_whose_key_is_unsigned_is_told_no_share_can_reach_them(
        app: Flask, client: FlaskClient, staff: StaffLogin) -> None:
    staff.create("rso1", Role.RSO)
    account = staff.create("dir1", Role.OFFICER)
    with app.app_context():
        staff.get("dir1").directory_entry = None
        db.session.commit()
    assert "dir1" not in {r.username for r in directory(client).values()}
    CaseworkClient(client, staff, account)
    home = page(client.get("/staff/"))
    assert "No SB 53 share can reach you yet." in home and "candor keys sign-directory" in home
    assert 'href="/staff/officer-shares"' in home
