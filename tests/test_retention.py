"""Retention: content is destroyed when its outcome's period ends (every grant, every record,
the reporter's look-up), the case row stays for the statistics, the trail records it; legal
hold keeps everything, and only the case's handlers can set it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AuditEntry,
    Case,
    CaseEvent,
    CaseExclusion,
    CaseGrant,
    CaseRecord,
    ContentDestruction,
)
from app.roles import Role
from app.services import audit, retention
from app.state import state_of
from tests.support.case_metadata import seeded_case
from tests.support.staff import StaffLogin, csrf_token

CLOSED = date(2024, 3, 1)


def closed_case(app: Flask, index: int, outcome: str | None, reader: int,
                closed_on: date = CLOSED, **values: object) -> str:
    with app.app_context():
        fields: dict[str, object] = {"status": "closed", **values}
        case = seeded_case(db.session, index, [reader], date(2024, 1, 10),
                           acknowledged_on=date(2024, 1, 11), closed_on=closed_on,
                           outcome=outcome, lookup_hash=bytes([index]) * 32, **fields)
        db.session.commit()
        return case.number


def counts(app: Flask, number: str) -> tuple[int, int]:
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.number == number)).one()
        grants = db.session.scalar(select(func.count()).select_from(CaseGrant)
                                   .where(CaseGrant.case_id == case.id))
        records = db.session.scalar(select(func.count()).select_from(CaseRecord)
                                    .where(CaseRecord.case_id == case.id))
        return grants or 0, records or 0


def test_content_goes_when_the_period_ends_and_the_row_stays(
        app: Flask, staff: StaffLogin) -> None:
    rso = staff.create("rso-keep", Role.RSO)
    out_of_scope = closed_case(app, 1, "out_of_scope", rso.id)  # 365 days by default
    substantiated = closed_case(app, 2, "substantiated", rso.id)  # 7 years
    with app.app_context():
        config = state_of(app).config
        early = retention.apply(db.session, datetime(2025, 2, 28), config)
        assert early.destroyed == []
        run = retention.apply(db.session, datetime(2025, 3, 1, 12), config)
        assert run.destroyed == [out_of_scope]
        again = retention.apply(db.session, datetime(2025, 3, 2), config)
        assert again.destroyed == []
        case = db.session.scalars(select(Case).where(Case.number == out_of_scope)).one()
        assert case.status == "closed" and case.outcome == "out_of_scope"  # metadata kept
        assert case.lookup_hash is None and case.reporter_public_key is None
        destroyed = db.session.scalars(select(ContentDestruction)).one()
        assert (destroyed.rule, destroyed.grants_deleted, destroyed.records_deleted) == \
            ("out_of_scope", 2, 1)
        assert [e.kind for e in case.events] == ["content_destroyed"]
        entry = db.session.scalars(select(AuditEntry)
                                   .where(AuditEntry.action == "retention.destroyed")).one()
        assert entry.case_number == out_of_scope and entry.actor == "system"
        assert audit.verify(db.session, None).ok
    assert counts(app, out_of_scope) == (0, 0)
    assert counts(app, substantiated) == (2, 1)


def test_a_reopened_case_is_not_destroyed(app: Flask, staff: StaffLogin) -> None:
    rso = staff.create("rso-reopen", Role.RSO)
    number = closed_case(app, 3, "out_of_scope", rso.id, status="investigating")
    with app.app_context():
        config = state_of(app).config
        assert retention.apply(db.session, datetime(2030, 1, 1), config).destroyed == []
    assert counts(app, number) == (2, 1)


def test_legal_hold_keeps_content_until_lifted(app: Flask, client: FlaskClient,
                                               staff: StaffLogin,
                                               runner: FlaskCliRunner) -> None:
    rso = staff.create("rso-hold", Role.RSO)
    number = closed_case(app, 4, "not_substantiated", rso.id)
    staff.login(client, rso)
    token = csrf_token(client, "/staff/")
    url = f"/api/v1/staff/cases/{number}/legal-hold"
    response = client.post(url, json={"held": True, "reason": "litigation"},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"number": number, "legal_hold": True, "changed": True}
    result = runner.invoke(args=["retention", "run", "--now", "2031-01-01T00:00:00"])
    assert "content destroyed: 0 cases" in result.output
    assert "kept under legal hold although expired: 1" in result.output
    assert counts(app, number) == (2, 1)

    response = client.post(url, json={"held": False}, headers={"X-CSRFToken": token})
    assert response.get_json()["legal_hold"] is False
    result = runner.invoke(args=["retention", "run", "--now", "2031-01-01T00:00:00"])
    assert f"content destroyed: 1 cases ({number})" in result.output
    assert counts(app, number) == (0, 0)
    with app.app_context():
        trail = [(e.action, e.actor) for e in db.session.scalars(
            select(AuditEntry).order_by(AuditEntry.id))]
        kinds = db.session.scalars(select(CaseEvent.kind).order_by(CaseEvent.id)).all()
    me = f"staff:{rso.id}"
    assert ("case.legal_hold", me) in trail and ("case.legal_hold_lifted", me) in trail
    assert trail[-1] == ("retention.destroyed", "system")
    assert kinds == ["legal_hold", "legal_hold_lifted", "content_destroyed"]


def test_legal_hold_is_for_the_case_handlers_only(app: Flask, client: FlaskClient,
                                                  staff: StaffLogin) -> None:
    rso = staff.create("rso-own", Role.RSO)
    other = staff.create("rso-other", Role.RSO)
    excluded = staff.create("exec-excluded", Role.EXECUTIVE)
    governance = staff.create("gov-hold", Role.GOVERNANCE)
    number = closed_case(app, 5, "substantiated", rso.id)
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.number == number)).one()
        case.grants.append(CaseGrant(kind="recipient", staff_id=excluded.id, grant=b"x",
                                     key_epoch=1))
        db.session.add(CaseExclusion(case_id=case.id, staff_id=excluded.id,
                                     reason="concerned"))
        db.session.commit()
    url = f"/api/v1/staff/cases/{number}/legal-hold"
    for account, status in ((other, 404), (excluded, 404), (governance, 403)):
        session = app.test_client()
        staff.login(session, account)
        token = csrf_token(session, "/staff/")
        response = session.post(url, json={"held": True}, headers={"X-CSRFToken": token})
        assert response.status_code == status, account.username
    staff.login(client, rso)
    token = csrf_token(client, "/staff/")
    for body in ({}, {"held": "yes"}, {"held": True, "reason": "my friend Bob"}, []):
        response = client.post(url, json=body, headers={"X-CSRFToken": token})
        assert response.status_code == 400, body
        assert "message" in response.get_json()
    assert client.post("/api/v1/staff/cases/C-ZZZZZ/legal-hold", json={"held": True},
                       headers={"X-CSRFToken": token}).status_code == 404
    assert client.post(url, json={"held": True}).status_code == 400  # no CSRF token
    with app.app_context():
        assert db.session.scalars(select(Case.legal_hold)
                                  .where(Case.number == number)).one() is False


def test_retention_periods_are_configurable(app: Flask, make_app: Callable[..., Flask],
                                            staff: StaffLogin) -> None:
    rso = staff.create("rso-config", Role.RSO)
    number = closed_case(app, 6, "substantiated", rso.id)
    short = make_app(retention_days=(("substantiated", 400),))
    with short.app_context():
        config = state_of(short).config
        assert retention.apply(db.session, datetime(2025, 4, 5), config).destroyed == [number]
