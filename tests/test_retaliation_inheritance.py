"""A report of retaliation keeps what its first report left out (issue 16, finding 1): the
people its reporter named as concerned, and the "concerns the RSO" flag. The server insists,
whatever the client sends; the pages show them already ticked."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Case, CaseExclusion, CaseGrant
from app.roles import Role
from app.services.reports import INHERITED_READERS
from candor_reporter import protocol
from tests.support.dump import database_dump
from tests.support.reporting import ReporterClient
from tests.support.staff import StaffLogin

NEW, OPEN = "/report/plain/new", "/report/plain/open"
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_CODENAME = re.compile(r'id="codename-copy" readonly[^>]*value="([^"]+)"')


@pytest.fixture
def people(staff: StaffLogin) -> dict[str, int]:
    return {name: staff.create(name, role).id for name, role in (
        ("rso1", Role.RSO), ("rso2", Role.RSO), ("exec1", Role.EXECUTIVE),
        ("board1", Role.BOARD), ("board2", Role.BOARD))}


def the_case(app: Flask, number: str) -> tuple[bool, set[int], set[int | None]]:
    """(concerns_rso, excluded staff ids, staff ids holding a grant) of a stored case."""
    with app.app_context():
        case = db.session.scalars(db.select(Case).where(Case.number == number)).one()
        excluded = set(db.session.scalars(db.select(CaseExclusion.staff_id)
                                          .where(CaseExclusion.case_id == case.id)))
        granted = set(db.session.scalars(db.select(CaseGrant.staff_id)
                                         .where(CaseGrant.case_id == case.id)))
        return case.concerns_rso, excluded, granted


def retaliation(reporter: ReporterClient, **fields: Any) -> Any:
    fields = {"route": "rso", "category": "retaliation", "text": "I was moved off the team.",
              **fields}
    body, _codename = reporter.build(protocol.NewReport(**fields))
    return reporter.post("/api/v1/reports", {**body, "retaliation_for_open_case": True})


def test_a_linked_report_cannot_drop_the_people_its_first_report_left_out(
        app: Flask, client: FlaskClient, people: dict[str, int]) -> None:
    reporter = ReporterClient(client)
    filed, _codename = reporter.submit(concerned_staff_ids=(people["rso2"],))
    assert filed.status_code == 201
    before = database_dump(app, leave_out=("spent_challenges",))  # the refusal spends its puzzle
    # Encrypted to rso2 as the form would be if the reporter left them out: refused.
    dropped = retaliation(reporter)
    assert dropped.status_code == 400
    assert dropped.get_json()["message"] == INHERITED_READERS
    assert database_dump(app, leave_out=("spent_challenges",)) == before
    # Naming them again, and one more person, is filed; rso2 gets no key to it.
    kept = retaliation(reporter, concerned_staff_ids=(people["rso2"], people["board2"]))
    assert kept.status_code == 201, kept.get_json()
    concerns_rso, excluded, granted = the_case(app, kept.get_json()["number"])
    assert excluded == {people["rso2"], people["board2"]}
    assert people["rso2"] not in granted and people["rso1"] in granted
    assert not concerns_rso


def test_a_linked_report_keeps_concerning_the_rso(
        app: Flask, client: FlaskClient, people: dict[str, int]) -> None:
    reporter = ReporterClient(client)
    assert reporter.submit(concerns_rso=True)[0].status_code == 201
    # Encrypted to the RSOs, as a form without the flag would be: refused.
    assert retaliation(reporter).get_json()["message"] == INHERITED_READERS
    kept = retaliation(reporter, concerns_rso=True)
    assert kept.status_code == 201
    concerns_rso, excluded, granted = the_case(app, kept.get_json()["number"])
    assert concerns_rso
    assert {people["rso1"], people["rso2"]} <= excluded
    assert not granted & {people["rso1"], people["rso2"]}


def test_an_unlinked_report_is_free_to_choose(
        app: Flask, client: FlaskClient, people: dict[str, int]) -> None:
    reporter = ReporterClient(client)
    assert reporter.submit(concerns_rso=True)[0].status_code == 201
    body, _codename = reporter.build(protocol.NewReport("rso", "other", "Another matter."))
    assert reporter.post("/api/v1/reports", body).status_code == 201


def test_the_javascript_page_carries_what_is_inherited(
        client: FlaskClient, people: dict[str, int]) -> None:
    reporter = ReporterClient(client)
    assert reporter.submit(concerns_rso=True,
                           concerned_staff_ids=(people["exec1"],))[0].status_code == 201
    shown = client.get("/report/new?retaliation=1").get_data(as_text=True)
    inherited = re.search(r'data-inherited-concerned="([^"]*)"', shown)
    assert inherited and set(inherited.group(1).split()) == {
        str(people[name]) for name in ("exec1", "rso1", "rso2")}
    assert 'data-inherited-concerns-rso="1"' in shown
    assert 'id="inherited-hint"' in shown
    plain = client.get("/report/new").get_data(as_text=True)  # not a retaliation report
    assert 'data-inherited-concerned=""' in plain and 'data-inherited-concerns-rso=""' in plain


def _checked(page: str, value: int) -> bool:
    return re.search(rf'<input checked id="concerned-\d+" name="concerned" type="checkbox" '
                     rf'value="{value}">', page) is not None


def test_the_page_without_javascript_ticks_and_keeps_them(
        app: Flask, client: FlaskClient, people: dict[str, int]) -> None:
    first = client.post(NEW, data={
        "csrf_token": _TOKEN.search(client.get(NEW).get_data(as_text=True)).group(1),
        "route": "rso", "category": "other", "text": "The first report.",
        "concerned": [str(people["rso2"])], "send": "Encrypt and send"},
        follow_redirects=True)  # to the receipt, shown once
    codename = _CODENAME.search(first.get_data(as_text=True)).group(1)
    opened = client.post(OPEN, data={
        "csrf_token": _TOKEN.search(client.get(OPEN).get_data(as_text=True)).group(1),
        "codename": html.unescape(codename)})
    assert opened.status_code == 200
    form_page = client.get(NEW + "?retaliation=1").get_data(as_text=True)
    assert _checked(form_page, people["rso2"]) and not _checked(form_page, people["exec1"])
    assert 'id="inherited-hint"' in form_page
    # Unticked by the reporter: not among the readers shown, and left out of the new report.
    preview = client.post(NEW, data={
        "csrf_token": _TOKEN.search(form_page).group(1), "route": "rso",
        "category": "retaliation", "retaliation": "1", "preview": "Show who would read it"})
    readers = preview.get_data(as_text=True).split('id="readers"')[1].split("</dl>")[0]
    assert "rso1" in readers and "rso2" not in readers
    response = client.post(NEW, data={
        "csrf_token": _TOKEN.search(form_page).group(1), "route": "rso",
        "category": "retaliation", "retaliation": "1", "text": "I was moved off the team.",
        "send": "Encrypt and send"})
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        second = db.session.scalars(db.select(Case).where(
            Case.link_kind == "retaliation")).one().number
    _flag, excluded, granted = the_case(app, second)
    assert people["rso2"] in excluded and people["rso2"] not in granted
