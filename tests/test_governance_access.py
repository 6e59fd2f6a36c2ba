"""Governance and auditor roles reach no content, on any route or API endpoint of the URL map:
no ciphertext, no record, no grant, no case page. The case they probe is real (stored grants and
a record), and visible to its recipient, so a leak would show."""

from __future__ import annotations

import base64
import itertools
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from app.extensions import db
from app.roles import Role
from tests.support.case_metadata import CIPHERTEXT_MARKER, GRANT_MARKER, seeded_case
from tests.support.staff import StaffLogin, csrf_token

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _forms(raw: bytes) -> list[bytes]:
    """Every way a response could carry these bytes."""
    return [raw, base64.b64encode(raw), base64.urlsafe_b64encode(raw).rstrip(b"="),
            raw.hex().encode()]


def _arguments(rule: Rule, name: str, number: str, staff_id: int) -> list[object]:
    """Values to try for one URL argument: every choice of an ``any(...)``, else one."""
    converter = rule._converters[name]
    kind = type(converter).__name__
    if kind == "AnyConverter":
        return sorted(converter.items)  # type: ignore[attr-defined]
    if kind == "IntegerConverter":
        return [staff_id]
    if kind == "PathConverter":
        return ["css/candor.css"]
    return [number if name == "number" else "r-" + "0" * 32]


def probes(app: Flask, number: str, staff_id: int) -> list[tuple[Rule, str, str]]:
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue
            names = sorted(rule.arguments)
            choices = [_arguments(rule, name, number, staff_id) for name in names]
            for combination in itertools.product(*choices):
                url = app.url_for(rule.endpoint, **dict(zip(names, combination, strict=True)))
                found += [(rule, method, url) for method in METHODS
                          if method in (rule.methods or ())]
    return found


@pytest.mark.parametrize("role", [Role.GOVERNANCE, Role.AUDITOR])
def test_no_route_hands_governance_any_content(app: Flask, client: FlaskClient,
                                               staff: StaffLogin, role: Role) -> None:
    rso = staff.create("rso-holder", Role.RSO)
    viewer = staff.create(f"{role.value}-viewer", role)
    with app.app_context():
        case = seeded_case(db.session, 77, [rso.id], date(2026, 2, 3), status="investigating",
                           acknowledged_on=date(2026, 2, 4))
        number, record_ref, case_ref = case.number, case.records[0].record_ref, case.case_ref
        db.session.commit()
    forbidden = [*_forms(CIPHERTEXT_MARKER), *_forms(GRANT_MARKER), record_ref.encode(),
                 case_ref.encode()]

    owner = app.test_client()  # the recipient can reach it: the probe is not vacuous
    staff.login(owner, rso)
    view = owner.get(f"/api/v1/staff/cases/{number}")
    assert view.status_code == 200
    assert any(form in view.get_data() for form in _forms(CIPHERTEXT_MARKER))

    staff.login(client, viewer)
    token = csrf_token(client, "/staff/")
    checked = 0
    for rule, method, url in probes(app, number, rso.id):
        if rule.endpoint == "auth.logout":
            continue  # would end the session the rest of the probe needs
        response = client.open(url, method=method, json={}, headers={"X-CSRFToken": token})
        body = response.get_data()
        where = f"{role.value} {method} {url} -> {response.status_code}"
        assert response.status_code < 500, where
        assert not any(form in body for form in forbidden), f"content reached {where}"
        if "<number>" in rule.rule:
            assert response.status_code in (302, 400, 401, 403, 404, 405), where
        checked += 1
    assert checked > 40
    # and the pages they are meant to use do answer
    for url in ("/governance/", "/governance/packs/board", "/governance/packs/officers/json"):
        assert client.get(url).status_code == 200, url
    audit_page = client.get("/governance/audit").status_code
    assert audit_page == (200 if role is Role.AUDITOR else 403)
