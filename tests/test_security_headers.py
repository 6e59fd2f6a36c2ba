"""Every route in the URL map, for anonymous and signed-in callers, carries the baseline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from app.roles import Role
from app.security_headers import BASELINE_HEADERS
from tests.support.staff import StaffLogin

DUMMY_ARGUMENTS = {"integer": 1, "path": "css/candor.css"}


def concrete_urls(app: Flask) -> Iterator[tuple[Rule, str, str]]:
    """Each rule with its arguments filled in, once per method it accepts."""
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            values = {}
            for name, converter in rule._converters.items():
                kind = type(converter).__name__.removesuffix("Converter").lower()
                values[name] = DUMMY_ARGUMENTS.get(kind, "x")
            if rule.endpoint == "static":
                values = {"filename": "css/candor.css"}
            url = app.url_for(rule.endpoint, **values)
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield rule, method, url


def assert_baseline(response, rule: Rule, method: str) -> None:  # type: ignore[no-untyped-def]
    where = f"{method} {rule.rule} -> {response.status_code}"
    for name, value in BASELINE_HEADERS.items():
        assert response.headers.get(name) == value, f"{name} missing on {where}"
    if rule.endpoint != "static":
        assert response.headers.get("Cache-Control") == "no-store", where
    assert response.status_code < 500, where
    response.close()


def test_every_route_anonymous(app: Flask, client: FlaskClient) -> None:
    seen = 0
    for rule, method, url in concrete_urls(app):
        assert_baseline(client.open(url, method=method), rule, method)
        seen += 1
    assert seen >= 10


def test_every_route_signed_in_with_every_role(app: Flask, client: FlaskClient,
                                               staff: StaffLogin) -> None:
    account = staff.create("everything", *Role)
    staff.login(client, account)
    for rule, method, url in concrete_urls(app):
        if rule.endpoint == "auth.logout":
            continue  # would end the session the other routes are checked with
        assert_baseline(client.open(url, method=method), rule, method)


def test_error_pages_and_static_files_carry_headers(client: FlaskClient) -> None:
    for path, method in (("/no-such-page", "GET"), ("/", "DELETE"),
                         ("/static/css/candor.css", "GET")):
        response = client.open(path, method=method)
        for name, value in BASELINE_HEADERS.items():
            assert response.headers[name] == value
        response.close()
    static = client.get("/static/css/candor.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")
    static.close()


def test_csp_forbids_inline_code_and_other_origins(client: FlaskClient) -> None:
    csp = client.get("/").headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    for directive in ("script-src", "style-src", "img-src", "connect-src"):
        sources = directives[directive].split()
        assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources
        assert all(s.startswith("'") for s in sources), f"{directive} allows another origin"


@pytest.mark.parametrize(("path", "cookie"), [("/", "candor_reporter"),
                                              ("/auth/login", "candor_staff")])
def test_surfaces_use_separate_strict_cookies(client: FlaskClient, path: str, cookie: str) -> None:
    response = client.get(path)
    set_cookie = response.headers.get("Set-Cookie", "")
    assert set_cookie.startswith(cookie + "="), set_cookie
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie


def test_secure_cookies_and_hsts_under_https(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(https=True)
    response = app.test_client().get("/auth/login", base_url="https://candor.test")
    assert "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"] == "max-age=63072000"


def test_hsts_covers_subdomains_when_the_operator_asks(make_app) -> None:  # type: ignore[no-untyped-def]
    from app.config import Config

    config = Config.from_env(Path("instance-unused"), {
        "CANDOR_ENV": "testing", "CANDOR_SECRET_KEY": "x" * 40,
        "CANDOR_HSTS_INCLUDE_SUBDOMAINS": "1", "CANDOR_DATABASE_URL": "sqlite://"})
    assert config.hsts_include_subdomains
    app = make_app(https=True, hsts_include_subdomains=True)
    response = app.test_client().get("/auth/login", base_url="https://candor.test")
    assert (response.headers["Strict-Transport-Security"]
            == "max-age=63072000; includeSubDomains")
