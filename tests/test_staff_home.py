"""The staff home: the work waiting, and a warning while no report can reach the person."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Case
from app.roles import Role
from tests.support.reporting import ReporterClient
from tests.support.staff import StaffLogin


def home(client: FlaskClient) -> str:
    response = client.get("/staff/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def counted(page: str, label: str) -> int:
    match = re.search(r"<strong>(\d+)</strong> " + label, page)
    assert match, label
    return int(match.group(1))


def test_the_home_lists_the_work_waiting(app: Flask, client: FlaskClient,
                                         staff: StaffLogin) -> None:
    rso = staff.create("rso1", Role.RSO)
    staff.create("board1", Role.BOARD)
    staff.login(client, rso)
    assert 'id="work-none"' in home(client)
    reporter = ReporterClient(app.test_client())
    for _ in range(2):
        assert reporter.submit()[0].status_code == 201
    with app.app_context():
        first = db.session.scalars(db.select(Case)).first()
        assert first is not None
        first.status, first.assignee_id = "acknowledged", rso.id
        db.session.commit()
    shown = home(client)
    assert counted(shown, "new report to acknowledge") == 1
    assert counted(shown, "assigned to you") == 1
    assert counted(shown, "nobody has taken yet") == 1
    assert 'href="/staff/cases?status=received"' in shown
    assert 'id="awaiting-signature"' not in shown


def test_a_key_awaiting_the_operators_signature_is_told_no_report_reaches_it(
        app: Flask, client: FlaskClient, staff: StaffLogin) -> None:
    newcomer = staff.create("exec-new", Role.EXECUTIVE)
    with app.app_context():
        staff.get("exec-new").directory_entry = None
        db.session.commit()
    staff.login(client, newcomer)
    shown = home(client)
    assert 'id="awaiting-signature"' in shown and "No report can reach you yet" in shown
    assert "candor keys sign-directory" in shown


def test_people_without_cases_see_no_work_list(client: FlaskClient, staff: StaffLogin) -> None:
    auditor = staff.create("auditor1", Role.AUDITOR)
    staff.login(client, auditor)
    shown = home(client)
    assert "Waiting for you" not in shown and 'id="awaiting-signature"' not in shown
