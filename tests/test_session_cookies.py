"""Session cookies are sealed (app/surfaces.py): a cookie the server did not make with the
surface's key, or made too long ago, is no session at all, and never an error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from itsdangerous import BadSignature

from app import surfaces
from app.roles import Role
from app.state import state_of
from app.surfaces import REPORTER_COOKIE, SealedCookie
from tests.support.reporting import ReporterClient
from tests.support.staff import StaffLogin


@pytest.fixture
def recipients(staff: StaffLogin) -> dict[str, int]:
    return {"rso1": staff.create("rso1", Role.RSO).id}


def test_a_sealed_cookie_keeps_the_session_as_flask_gave_it() -> None:
    sealed = SealedCookie(bytes(range(32)))
    data = {"csrf_token": "t", "reporter": {"case": 7, "seen": 1}, "raw": b"\x00\xff",
            "pair": (1, "two"), "when": datetime(2026, 11, 24, 4, 0, tzinfo=UTC)}
    value = sealed.dumps(data)
    assert set(value) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert sealed.loads(value, max_age=60) == data
    assert sealed.dumps(data) != value  # a fresh nonce every time


def test_a_cookie_older_than_the_session_lifetime_is_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    sealed = SealedCookie(bytes(32))
    made = surfaces.time.time()
    monkeypatch.setattr(surfaces.time, "time", lambda: made - 3601)
    old = sealed.dumps({"a": 1})
    monkeypatch.setattr(surfaces.time, "time", lambda: made)
    with pytest.raises(BadSignature):
        sealed.loads(old, max_age=3600)
    assert sealed.loads(old, max_age=3602) == {"a": 1}


def _opened_case(client: FlaskClient) -> str:
    answer, _codename = ReporterClient(client).submit()
    assert answer.status_code == 201
    assert client.get("/api/v1/reporter/case").status_code == 200
    cookie = client.get_cookie(REPORTER_COOKIE)
    assert cookie is not None
    return cookie.value


def test_a_changed_cookie_is_no_session(client: FlaskClient,
                                        recipients: dict[str, int]) -> None:
    value = _opened_case(client)
    middle = len(value) // 2
    changed = value[:middle] + ("A" if value[middle] != "A" else "B") + value[middle + 1:]
    client.set_cookie(REPORTER_COOKIE, changed)
    assert client.get("/api/v1/reporter/case").status_code == 401
    client.set_cookie(REPORTER_COOKIE, value)
    assert client.get("/api/v1/reporter/case").status_code == 200


def test_a_cookie_that_expired_is_no_session(app: Flask, client: FlaskClient,
                                             recipients: dict[str, int],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # A lifetime shorter than the reporter's idle limit, so only the cookie's age can refuse it.
    app.permanent_session_lifetime = timedelta(minutes=5)
    _opened_case(client)
    later = surfaces.time.time() + 6 * 60
    monkeypatch.setattr(surfaces.time, "time", lambda: later)
    assert client.get("/api/v1/reporter/case").status_code == 401


def test_each_surface_opens_only_its_own_cookies(app: Flask, client: FlaskClient,
                                                 recipients: dict[str, int]) -> None:
    value = _opened_case(client)
    interface = app.session_interface
    assert interface.reporter.get_signing_serializer(app).loads(value)["reporter"]
    with pytest.raises(BadSignature):
        interface.staff.get_signing_serializer(app).loads(value)
    staff_value = interface.staff.get_signing_serializer(app).dumps({"_user_id": "1"})
    with pytest.raises(BadSignature):
        interface.reporter.get_signing_serializer(app).loads(staff_value)


def test_a_cookies_length_does_not_tell_the_case() -> None:
    sealed = SealedCookie(bytes(32))
    lengths = {len(sealed.dumps({"csrf_token": "f" * 40,
                                 "reporter": {"case": case_id, "seen": 1_800_000_000}}))
               for case_id in (1, 42, 123, 9_999, 123_456, 2**31 - 1)}
    assert len(lengths) == 1


def test_an_idle_session_forgets_its_case(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    from flask import session

    from app import reporter_session as case_session

    with app.test_request_context("/report/case"):
        case_session.open_for(7)
        assert case_session.current_case_id() == 7
        idle = state_of(app).config.reporter_idle_minutes * 60
        later = case_session.time.time() + idle + 1
        monkeypatch.setattr(case_session.time, "time", lambda: later)
        assert case_session.current_case_id() is None
        assert "reporter" not in session and session.modified


@pytest.mark.parametrize("value", [
    "", "A", "====", "!!!!", "not base64 at all", "é" * 8, "A" * 4000, "AAAAAAAAAAAAAAAA",
    "eyJyZXBvcnRlciI6eyJjYXNlIjoxfX0",  # {"reporter":{"case":1}}, unsealed
])
def test_a_cookie_the_server_did_not_make_is_no_session(client: FlaskClient,
                                                        recipients: dict[str, int],
                                                        value: str) -> None:
    client.set_cookie(REPORTER_COOKIE, value)
    assert client.get("/api/v1/reporter/case").status_code == 401
    answer = client.get("/api/v1/session")
    assert answer.status_code == 200 and answer.get_json()["csrf_token"]


def test_a_signed_cookie_from_before_sealing_is_no_session(app: Flask, client: FlaskClient,
                                                          recipients: dict[str, int]) -> None:
    """An installation upgraded from signed cookies: the old cookie opens nothing (the reporter
    enters the codename again) and breaks nothing."""
    value = _opened_case(client)
    data = app.session_interface.reporter.get_signing_serializer(app).loads(value)
    signed = SecureCookieSessionInterface()
    signed.salt = "candor-" + REPORTER_COOKIE
    serializer = signed.get_signing_serializer(app)
    assert serializer is not None
    client.set_cookie(REPORTER_COOKIE, serializer.dumps(data))
    assert client.get("/api/v1/reporter/case").status_code == 401
