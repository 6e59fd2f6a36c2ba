"""The OpenAPI document describes exactly the API that exists."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

METHODS = {"get", "put", "post", "delete", "patch"}


def documented_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    """(full path, method) of every operation, each path under its own servers if it has
    them (the staff sign-in paths are at the site's root), else the document's."""
    found = set()
    for path, item in document["paths"].items():
        server = (item.get("servers") or document["servers"])[0]["url"].rstrip("/")
        found |= {(server + path, method.upper()) for method in item if method in METHODS}
    return found


def test_every_api_route_is_documented_and_nothing_else(app: Flask, client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    routes = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method)
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")
              and rule.endpoint != "api.openapi"
              for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    sign_in = {("/auth/session", "GET"), ("/auth/prelogin", "POST"), ("/auth/login", "POST")}
    assert documented_operations(document) == routes | sign_in


def test_declared_path_parameters_are_in_the_path(client: FlaskClient) -> None:
    # POST /staff/cases declared a {number} it does not have (issue 16, finding 10).
    document = client.get("/api/v1/openapi.json").get_json()
    for path, item in document["paths"].items():
        in_path = set(re.findall(r"{(\w+)}", path))
        for method, operation in item.items():
            if method not in METHODS:
                continue
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == in_path, (method, path)


def test_staff_operations_name_the_staff_token(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in METHODS or "security" not in operation:
                continue
            staff = path.startswith(("/staff", "/auth"))
            assert operation["security"] == [{"staffCsrfToken" if staff else "csrfToken": []}], \
                (method, path)
