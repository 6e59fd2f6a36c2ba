"""No state-changing request succeeds without a CSRF token, on any route."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from app.roles import Role
from tests.support.staff import StaffLogin
from tests.test_security_headers import concrete_urls


def test_post_without_token_is_refused_everywhere(app: Flask, client: FlaskClient,
                                                  staff: StaffLogin) -> None:
    account = staff.create("poster", *Role)
    staff.login(client, account)
    checked = 0
    for _rule, method, url in concrete_urls(app):
        if method in {"GET"}:
            continue
        for body in ({"json": {"username": "poster"}}, {"data": {"username": "poster"}}):
            response = client.open(url, method=method, **body)
            assert response.status_code == 400, f"{method} {url}: {response.status_code}"
            assert "Form expired" in response.get_data(as_text=True)
            checked += 1
    assert checked >= 8
    # and the session is still good: nothing was changed by the refused requests
    assert client.get("/staff/").status_code == 200


def test_token_from_another_session_is_refused(app: Flask) -> None:
    from tests.support.staff import csrf_token

    first, second = app.test_client(), app.test_client()
    token = csrf_token(first)
    csrf_token(second)
    response = second.post("/auth/prelogin", json={"username": "x"}, headers={"X-CSRFToken": token})
    assert response.status_code == 400
