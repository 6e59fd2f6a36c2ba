"""Error pages say what went wrong and nothing about the server."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

LEAKS = ("Traceback", "werkzeug", "File \"", "sqlalchemy", "Werkzeug/")


def body_reveals_nothing(response) -> None:  # type: ignore[no-untyped-def]
    text = response.get_data(as_text=True)
    for leak in LEAKS:
        assert leak not in text


@pytest.mark.parametrize(("method", "path", "status", "title"), [
    ("GET", "/no/such/page", 404, "Not found"),
    ("DELETE", "/", 405, "Not allowed"),
    ("GET", "/staff/admin/staff", 302, None),
])
def test_status_pages(client: FlaskClient, method: str, path: str, status: int,
                      title: str | None) -> None:
    response = client.open(path, method=method)
    assert response.status_code == status
    if title:
        assert title in response.get_data(as_text=True)
        body_reveals_nothing(response)


def test_too_large_request(client: FlaskClient, app: Flask) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/auth/prelogin", data=b"x" * (limit + 1),
                           content_type="application/json")
    assert response.status_code == 413
    assert "Too large" in response.get_data(as_text=True)


def test_unexpected_error_is_a_plain_500(app: Flask) -> None:
    @app.get("/explode")
    def explode() -> str:
        raise RuntimeError("secret internal detail /etc/candor")

    response = app.test_client().get("/explode")
    assert response.status_code == 500
    body_reveals_nothing(response)
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert "Content-Security-Policy" in response.headers


def test_api_errors_are_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/no-such-endpoint")
    assert response.status_code == 404
    assert response.get_json()["error"] == "Not found"


@pytest.mark.parametrize("body", [b"not json", b"[1,2]", b'{"username": 5}',
                                  b'{"username": "Bad Name!"}', b"\xff\xfe"])
def test_bad_json_is_a_clear_400(client: FlaskClient, body: bytes) -> None:
    from tests.support.staff import csrf_token

    response = client.post("/auth/prelogin", data=body, content_type="application/json",
                           headers={"X-CSRFToken": csrf_token(client)})
    assert response.status_code == 400
    assert response.get_json()["message"]
