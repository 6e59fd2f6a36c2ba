"""Every number a URL can carry is bounded: walk the app's whole URL map, put oversized and
malformed numbers in every integer path argument and in every query parameter a view reads,
and require a 4xx, never a 500 (issue 16, finding 7).

The requests are made by a member of staff holding every role, so that each view gets past
its permission check to the code that reads the number."""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter, Rule

from app.request_numbers import DB_INT_MAX
from app.roles import Role
from tests.support.staff import StaffLogin, csrf_token

HUGE = "9" * 30
# How a view reads a query parameter: request.args.get("x"), query_int("x", ...), or a
# helper of its module called with the parameter's name first (_choice("x", ...)).
_QUERY_NAME = re.compile(r"""(?:args\.get|query_int|_choice)\(\s*["'](\w+)["']""")
BAD_NUMBERS = [HUGE, str(DB_INT_MAX + 1), "-1", "0", "1e3", "x", "\u00b9", "1" * 7, " 1"]
SAMPLE = {"number": "C-00000", "attachment_ref": "a-" + "0" * 32, "filename": "x.js"}


def rules(app: Flask) -> Iterator[Rule]:
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static":
            yield rule


def int_arguments(rule: Rule) -> list[str]:
    return [name for name, converter in rule._converters.items()
            if isinstance(converter, IntegerConverter)]


def query_names(app: Flask, rule: Rule) -> set[str]:
    """Every query parameter the module of this rule's view reads."""
    view = inspect.unwrap(app.view_functions[rule.endpoint])
    module = sys.modules[view.__module__]
    return set(_QUERY_NAME.findall(inspect.getsource(module))) | {"page"}


def url(rule: Rule, overrides: dict[str, str]) -> str:
    values = {name: overrides.get(name, SAMPLE.get(name, "1")) for name in rule.arguments}
    path = rule.rule
    for name in rule.arguments:
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", values[name], path)
    return path


@pytest.fixture
def admin(app: Flask, staff: StaffLogin) -> FlaskClient:
    client = app.test_client()
    staff.login(client, staff.create("everyone", *Role))
    return client


def send(client: FlaskClient, method: str, path: str, token: str) -> int:
    return client.open(path, method=method, headers={"X-CSRFToken": token},
                       json={}).status_code


def test_the_map_has_integer_arguments_to_try(app: Flask) -> None:
    """The walk below covers the routes the review named; if none were found it tests nothing."""
    found = {rule.rule for rule in rules(app) if int_arguments(rule)}
    assert {"/staff/admin/staff/<int:staff_id>/disable", "/staff/admin/staff/<int:staff_id>/email",
            "/staff/admin/notifications/<int:message_id>/retry"} <= found


def test_oversized_integers_in_paths_match_no_route(app: Flask, admin: FlaskClient) -> None:
    token = csrf_token(admin, "/staff/")
    tried = 0
    for rule in rules(app):
        for name in int_arguments(rule):
            for value in (HUGE, str(DB_INT_MAX + 1)):
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    status = send(admin, method, url(rule, {name: value}), token)
                    assert status == 404, (method, rule.rule, value, status)
                    tried += 1
    assert tried


def test_bad_numbers_in_every_query_parameter(app: Flask, admin: FlaskClient) -> None:
    tried = 0
    for rule in rules(app):
        if "GET" not in rule.methods:
            continue
        for name in sorted(query_names(app, rule)):
            for value in BAD_NUMBERS:
                path = url(rule, {})
                response = admin.get(path, query_string={name: value})
                assert response.status_code < 500, (path, name, value, response.status_code)
                tried += 1
    assert tried > 100


@pytest.mark.parametrize("path", ["/governance/audit?page=" + "9" * 20,
                                  "/governance/audit?page=-1",
                                  "/api/v1/staff/cases?page=" + HUGE])
def test_named_query_numbers_are_refused(admin: FlaskClient, path: str) -> None:
    response = admin.get(path)
    assert response.status_code == 400
    assert b"page" in response.data
