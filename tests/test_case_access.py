"""Authorization matrix for every route that names a case, for every role, for a recipient who
may not see the case, and for staff excluded from it (named as concerned, or recused).

Each route is discovered from the URL map, so a new case route is covered without editing this
file. Expected: without HANDLE_CASES, 403; with it but without access to this case, 404, the same
answer as for a case that does not exist; with access, neither.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.roles import ROLE_PERMISSIONS, Permission, Role
from tests.support.casework import CaseworkClient
from tests.support.reporting import ReporterClient
from tests.support.staff import Account, StaffLogin, csrf_token
from tests.test_security_headers import DUMMY_ARGUMENTS


def case_routes(app: Flask, number: str) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) of every route with a case number in it, for ``number``."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "number" not in rule.arguments:
                continue
            values = {name: DUMMY_ARGUMENTS.get(
                type(converter).__name__.removesuffix("Converter").lower(), "x")
                for name, converter in rule._converters.items()}
            url = app.url_for(rule.endpoint, **{**values, "number": number})
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                found.append((rule.endpoint, method, url))
    return found


def request(client: FlaskClient, method: str, url: str, token_page: str = "/staff/") -> int:
    token = csrf_token(client, token_page)
    response = client.open(url, method=method, json={}, headers={"X-CSRFToken": token})
    response.close()
    return response.status_code


@pytest.fixture
def filed(app: Flask, staff: StaffLogin) -> dict[str, object]:
    """A case on the RSO route naming ``named`` (an executive) as concerned, read by ``rso``
    and ``rso2``; ``rso2`` then recuses."""
    accounts = {"rso": staff.create("rso", Role.RSO), "rso2": staff.create("rso2", Role.RSO),
                "named": staff.create("named", Role.EXECUTIVE),
                "board": staff.create("board", Role.BOARD)}
    reporter = ReporterClient(app.test_client())
    response, _ = reporter.submit(concerned_staff_ids=(accounts["named"].id,))
    assert response.status_code == 201, response.get_json()
    number = response.get_json()["number"]
    recusing = CaseworkClient(app.test_client(), staff, accounts["rso2"])
    assert recusing.post(f"/api/v1/staff/cases/{number}/recuse").status_code == 200
    # Signed in already (a second sign-in would replay the same TOTP code).
    return {"number": number, "rso2_client": recusing.client, **accounts}


def test_the_matrix_covers_every_case_route(app: Flask) -> None:
    endpoints = {endpoint for endpoint, _, _ in case_routes(app, "C-00000")}
    assert {"api.case_detail", "api.case_transition", "staff.case_page"} <= endpoints


@pytest.mark.parametrize("role", list(Role))
def test_role_without_access_to_the_case(app: Flask, staff: StaffLogin,
                                         filed: dict[str, object], role: Role) -> None:
    account = staff.create(f"someone-{role.value}", role)
    client = app.test_client()
    staff.login(client, account)
    expected = 404 if Permission.HANDLE_CASES in ROLE_PERMISSIONS[role] else 403
    if role is Role.RSO:
        expected = -1  # an RSO on the RSO route holds a key: checked below as a member
    for endpoint, method, url in case_routes(app, str(filed["number"])):
        status = request(client, method, url)
        if expected == -1:
            assert status not in (401, 403), (role, endpoint, method, status)
        else:
            assert status == expected, (role, endpoint, method, url, status)


@pytest.mark.parametrize("who", ["named", "rso2", "board"])
def test_excluded_or_not_yet_escalated_staff_get_404(app: Flask, staff: StaffLogin,
                                                     filed: dict[str, object],
                                                     who: str) -> None:
    account = filed[who]
    assert isinstance(account, Account)
    client = filed["rso2_client"] if who == "rso2" else app.test_client()
    assert isinstance(client, FlaskClient)
    if who != "rso2":
        staff.login(client, account)
    for endpoint, method, url in case_routes(app, str(filed["number"])):
        assert request(client, method, url) == 404, (who, endpoint, method, url)
    inbox = client.get("/api/v1/staff/cases", query_string={"status": "all"}).get_json()
    assert inbox["total"] == 0 and sum(inbox["counts"]["status"].values()) == 0


def test_a_member_reaches_every_case_route(app: Flask, staff: StaffLogin,
                                           filed: dict[str, object]) -> None:
    account = filed["rso"]
    assert isinstance(account, Account)
    client = app.test_client()
    staff.login(client, account)
    for endpoint, method, url in case_routes(app, str(filed["number"])):
        if method == "GET" and "<" not in url and endpoint in ("api.case_detail",
                                                               "staff.case_page"):
            assert request(client, method, url) == 200, endpoint
        else:
            assert request(client, method, url) not in (401, 403, 500), (endpoint, method)


def test_anonymous_callers_reach_no_case_route(app: Flask, client: FlaskClient,
                                               filed: dict[str, object]) -> None:
    for endpoint, method, url in case_routes(app, str(filed["number"])):
        status = request(client, method, url, token_page="/auth/login")
        assert status in (302, 401), (endpoint, method, status)
