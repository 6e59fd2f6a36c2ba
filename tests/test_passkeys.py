"""Staff passkeys against the server: registering, signing in, single-use challenges shared by
every node, sign counters, user verification, assertions made for another site, step-up, the
roles that must use passkeys, and recovery after losing them. The authenticator is a software
one with a real P-256 key (tests/support/authenticator.py); Chromium's virtual authenticators
drive the same routes in tests/test_browser_passkeys.py."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from app.config import Config, ConfigError
from app.extensions import db
from app.models import AuditEntry, StaffPasskey, StaffSession, StaffUser, WebAuthnChallenge, utcnow
from app.roles import Role
from app.services import passkeys
from app.services.passkeys import EXPIRED
from app.state import state_of
from crypto import keys
from crypto.proof_of_work import solve_proof_of_work
from tests.conftest import organisation_app
from tests.support.authenticator import SoftwareAuthenticator
from tests.support.staff import Account, StaffLogin, csrf_token

RP_ID = "localhost"
ORIGIN = "http://localhost:5000"


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    with organisation_app(tmp_path, database_url, webauthn_rp_id=RP_ID,
                          webauthn_origin=ORIGIN) as application:
        yield application


def post(client: FlaskClient, url: str, body: dict[str, Any] | None = None,
         page: str = "/staff/account/passkeys") -> Any:
    return client.post(url, json=body or {}, headers={"X-CSRFToken": csrf_token(client, page)})


def register(client: FlaskClient, authenticator: SoftwareAuthenticator, name: str = "laptop",
             **extra: Any) -> Any:
    options = post(client, "/auth/passkeys/options", {"purpose": "register"}).get_json()["options"]
    credential = authenticator.create(options, ORIGIN)
    return post(client, "/auth/passkeys", {"credential": credential, "name": name, **extra})


def sign_in_with_passkey(staff: StaffLogin, client: FlaskClient, account: Account,
                         authenticator: SoftwareAuthenticator, **made_for: Any) -> Any:
    secret = staff.login_secret(client, account.username, account.password)
    token = csrf_token(client)
    options = client.post("/auth/passkeys/sign-in/options", json={},
                          headers={"X-CSRFToken": token}).get_json()["options"]
    assertion = authenticator.get(options, made_for.pop("origin", ORIGIN), **made_for)
    return client.post("/auth/login", json={
        "username": account.username, "login_secret": base64.b64encode(secret).decode(),
        "passkey": assertion}, headers={"X-CSRFToken": csrf_token(client)})


def audit_actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.fixture
def rso(staff: StaffLogin) -> Account:
    return staff.create("rso-passkey", Role.RSO)


def test_register_several_then_sign_in_with_password_and_passkey(
        app: Flask, client: FlaskClient, staff: StaffLogin, rso: Account) -> None:
    staff.login(client, rso)
    laptop, key = SoftwareAuthenticator(), SoftwareAuthenticator()
    assert register(client, laptop, "laptop").status_code == 201
    assert register(client, key, "blue key").status_code == 201
    page = client.get("/staff/account/passkeys").get_data(as_text=True)
    assert "laptop" in page and "blue key" in page

    fresh = app.test_client()
    answer = sign_in_with_passkey(staff, fresh, rso, key)
    assert answer.status_code == 200, answer.get_json()
    assert staff.unwrap(rso, answer.get_json()["wrapped_private_key"]) is not None
    assert fresh.get("/staff/").status_code == 200
    # TOTP stays available
    staff.login(app.test_client(), rso, totp=code(app, rso))
    assert audit_actions(app).count("auth.passkey_registered") == 2


def test_the_same_passkey_answer_works_once_even_on_two_nodes_at_once(
        app: Flask, make_app: Any, staff: StaffLogin, rso: Account) -> None:
    staff.login(client := app.test_client(), rso)
    authenticator = SoftwareAuthenticator()
    register(client, authenticator)
    other_node = make_app(webauthn_rp_id=RP_ID, webauthn_origin=ORIGIN)
    clients = [app.test_client(), other_node.test_client()]
    secret = staff.login_secret(clients[0], rso.username, rso.password)
    options = post(clients[0], "/auth/passkeys/sign-in/options", page="/auth/login"
                   ).get_json()["options"]
    assertion = authenticator.get(options, ORIGIN)
    tokens = [csrf_token(c) for c in clients]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def sign_in(index: int) -> None:
        barrier.wait()
        response = clients[index].post("/auth/login", json={
            "username": rso.username, "login_secret": base64.b64encode(secret).decode(),
            "passkey": assertion}, headers={"X-CSRFToken": tokens[index]})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=sign_in, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 401]
    # and later, on either node, never again
    again = clients[1].post("/auth/login", json={
        "username": rso.username, "login_secret": base64.b64encode(secret).decode(),
        "passkey": assertion}, headers={"X-CSRFToken": csrf_token(clients[1])})
    assert again.status_code == 401
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebAuthnChallenge)) == 0


def test_a_sign_counter_that_goes_back_and_an_unverified_user_are_refused(
        app: Flask, client: FlaskClient, staff: StaffLogin, rso: Account) -> None:
    staff.login(client, rso)
    authenticator = SoftwareAuthenticator()
    register(client, authenticator)
    assert sign_in_with_passkey(staff, app.test_client(), rso, authenticator,
                                sign_count=5).status_code == 200
    assert sign_in_with_passkey(staff, app.test_client(), rso, authenticator,
                                sign_count=5).status_code == 401  # a clone's counter
    assert sign_in_with_passkey(staff, app.test_client(), rso, authenticator,
                                uv=False).status_code == 401
    assert sign_in_with_passkey(staff, app.test_client(), rso, authenticator).status_code == 200


@pytest.mark.parametrize(("origin", "rp_id"), [
    ("http://candor-login.localhost:5000", "candor-login.localhost"),  # a look-alike site
    ("http://candor-login.localhost:5000", RP_ID),  # another origin claiming our RP id
    (ORIGIN, "candor-login.localhost"),  # our origin, signed for another RP id
])
def test_an_assertion_made_for_another_site_is_refused(
        app: Flask, client: FlaskClient, staff: StaffLogin, rso: Account, origin: str,
        rp_id: str) -> None:
    """A phishing page relays Candor's challenge and has the person's own passkey sign it for
    the page's origin and RP id: the signature is genuine, and still refused."""
    staff.login(client, rso)
    authenticator = SoftwareAuthenticator()
    register(client, authenticator)
    refused = sign_in_with_passkey(staff, app.test_client(), rso, authenticator,
                                   origin=origin, rp_id=rp_id)
    assert refused.status_code == 401
    assert refused.get_json()["error"] == "login_failed"
    assert sign_in_with_passkey(staff, app.test_client(), rso, authenticator).status_code == 200


def test_a_registration_made_for_another_site_is_refused(
        app: Flask, client: FlaskClient, staff: StaffLogin, rso: Account) -> None:
    staff.login(client, rso)
    options = post(client, "/auth/passkeys/options", {"purpose": "register"}).get_json()["options"]
    credential = SoftwareAuthenticator().create(options, "http://evil.localhost:5000",
                                                "evil.localhost")
    refused = post(client, "/auth/passkeys", {"credential": credential, "name": "x"})
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StaffPasskey)) == 0


def test_bad_passkey_input_is_a_clear_400(client: FlaskClient, staff: StaffLogin,
                                          rso: Account) -> None:
    staff.login(client, rso)
    for body in ({"credential": "x", "name": "a"}, {"credential": {}, "name": "a"},
                 {"credential": {"response": {"clientDataJSON": "%%%"}}, "name": "a"},
                 {"credential": {"response": {"clientDataJSON": "e30"}}, "name": "a"}):
        response = post(client, "/auth/passkeys", body)
        assert response.status_code == 400, body
        assert response.get_json()["message"]
    assert post(client, "/auth/passkeys/options", {"purpose": "nope"}).status_code == 400


def code(app: Flask, account: Account) -> str:
    """A TOTP code that works now: as if the next 30-second step had come (a step works once,
    and these tests use several within one)."""
    with app.app_context():
        db.session.execute(update(StaffUser).where(StaffUser.id == account.id)
                           .values(last_totp_step=None))
        db.session.commit()
    return account.totp_now()


def stale(app: Flask, account: Account) -> None:
    """Make every session of ``account`` older than the step-up window."""
    with app.app_context():
        db.session.execute(update(StaffSession).where(StaffSession.staff_id == account.id)
                           .values(verified_at=utcnow() - timedelta(hours=1)))
        db.session.commit()


STEP_UP_CALLS = [("/api/v1/staff/cases/C-00000/members", {"staff_id": 1, "grants": []}),
                 ("/api/v1/staff/cases/C-00000/members/1/revoke", {"key_epoch": 1}),
                 ("/api/v1/staff/cases/C-00000/identity", {"reason": "x"}),
                 ("/api/v1/staff/cases/C-00000/sb53-share", {"summary": "x", "grants": []})]


def test_the_actions_that_matter_most_are_refused_without_a_fresh_verification(
        app: Flask, client: FlaskClient, staff: StaffLogin, rso: Account) -> None:
    staff.login(client, rso)
    stale(app, rso)
    for url, body in STEP_UP_CALLS:
        response = post(client, url, body)
        assert response.status_code == 403, url
        assert response.get_json()["error"] == "step_up_required"
    # a TOTP code (no passkey registered) gives a short window, recorded in the trail
    confirmed = post(client, "/auth/step-up", {"totp": code(app, rso)})
    assert confirmed.status_code == 200, confirmed.get_json()
    for url, body in STEP_UP_CALLS:
        assert post(client, url, body).status_code == 404, url  # past the guard: no such case
    assert "auth.step_up" in audit_actions(app)


def test_with_a_passkey_the_step_up_is_the_passkey(
        app: Flask, client: FlaskClient, staff: StaffLogin, rso: Account) -> None:
    staff.login(client, rso)
    authenticator = SoftwareAuthenticator()
    register(client, authenticator)
    stale(app, rso)
    assert post(client, "/auth/step-up", {"totp": code(app, rso)}).status_code == 400
    options = post(client, "/auth/passkeys/options", {"purpose": "step_up"}).get_json()["options"]
    assert [c["id"] for c in options["allowCredentials"]]  # names this person's passkeys
    assert post(client, "/auth/step-up", {
        "credential": authenticator.get(options, ORIGIN, uv=False)}).status_code == 401
    options = post(client, "/auth/passkeys/options", {"purpose": "step_up"}).get_json()["options"]
    phished = authenticator.get(options, "http://x.localhost:5000", "x.localhost")
    assert post(client, "/auth/step-up", {"credential": phished}).status_code == 401
    options = post(client, "/auth/passkeys/options", {"purpose": "step_up"}).get_json()["options"]
    answer = authenticator.get(options, ORIGIN)
    assert post(client, "/auth/step-up", {"credential": answer}).status_code == 200
    assert post(client, "/auth/step-up", {"credential": answer}).status_code == 401  # used
    assert post(client, *STEP_UP_CALLS[2]).status_code == 404
    # a step-up challenge belongs to the session it was given to
    other = app.test_client()
    staff.login(other, rso, totp=code(app, rso))
    options = post(other, "/auth/passkeys/options", {"purpose": "step_up"}).get_json()["options"]
    assert post(client, "/auth/step-up", {
        "credential": authenticator.get(options, ORIGIN)}).status_code == 401
    trail = audit_actions(app)
    assert trail.count("auth.step_up") == 1 and "auth.step_up_failed" in trail


def test_disabling_staff_asks_for_a_step_up_first(
        app: Flask, client: FlaskClient, staff: StaffLogin) -> None:
    admin = staff.create("admin-passkey", Role.ADMIN)
    target = staff.create("target-passkey", Role.EXECUTIVE)
    staff.login(client, admin)
    stale(app, admin)
    token = csrf_token(client, "/staff/admin/staff")
    response = client.post(f"/staff/admin/staff/{target.id}/disable", data={"csrf_token": token})
    assert response.status_code == 302 and "/auth/step-up" in response.location
    with app.app_context():
        assert db.session.get(StaffUser, target.id).disabled_at is None  # type: ignore[union-attr]
    assert "Confirm it is you" in client.get(response.location).get_data(as_text=True)
    assert post(client, "/auth/step-up", {"totp": code(app, admin)}).status_code == 200
    token = csrf_token(client, "/staff/admin/staff")
    client.post(f"/staff/admin/staff/{target.id}/disable", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(StaffUser, target.id).disabled_at is not None  # type: ignore[union-attr]


def test_adding_or_removing_a_passkey_needs_a_step_up_and_removing_drops_its_key_copy(
        app: Flask, client: FlaskClient, staff: StaffLogin, rso: Account) -> None:
    staff.login(client, rso)
    stale(app, rso)
    refused = register(client, SoftwareAuthenticator())
    assert refused.status_code == 403 and refused.get_json()["error"] == "step_up_required"
    post(client, "/auth/step-up", {"totp": code(app, rso)})
    wrapped = keys.wrap_private_key(keys.StaffKeyPair.generate(), keys.passkey_unwrap_key(
        bytes(16), bytes(32)), str(rso.id))
    phone = SoftwareAuthenticator()
    added = register(client, phone, "phone",
                     prf_wrapped_private_key=base64.b64encode(wrapped).decode()).get_json()
    assert added["prf_unlock"] is True
    assert post(client, f"/auth/passkeys/{added['id']}/name", {"name": "work phone"}
                ).get_json()["name"] == "work phone"
    stale(app, rso)
    assert post(client, f"/auth/passkeys/{added['id']}/remove").status_code == 403
    with app.app_context():
        row = db.session.get(StaffPasskey, added["id"])
        assert row is not None and row.prf_wrapped_private_key == wrapped
    # someone else's passkey is nobody's here
    other = staff.create("other-passkey", Role.RSO)
    other_client = app.test_client()
    staff.login(other_client, other)
    assert post(other_client, f"/auth/passkeys/{added['id']}/remove").status_code == 404
    # with a passkey registered, the step-up is the passkey
    assert post(client, "/auth/step-up", {"totp": code(app, rso)}).status_code == 400
    options = post(client, "/auth/passkeys/options", {"purpose": "step_up"}).get_json()["options"]
    assert post(client, "/auth/step-up", {"credential": phone.get(options, ORIGIN)}
                ).status_code == 200
    assert post(client, f"/auth/passkeys/{added['id']}/remove").status_code == 200
    with app.app_context():
        assert db.session.get(StaffPasskey, added["id"]) is None
        assert db.session.scalar(select(func.count()).select_from(StaffPasskey).where(
            StaffPasskey.prf_wrapped_private_key.is_not(None))) == 0


def test_a_role_can_be_required_to_use_passkeys(
        app: Flask, client: FlaskClient, staff: StaffLogin, rso: Account) -> None:
    admin = staff.create("admin-policy", Role.ADMIN)
    admin_client = app.test_client()
    staff.login(admin_client, admin)
    token = csrf_token(admin_client, "/staff/admin/passkeys")
    saved = admin_client.post("/staff/admin/passkeys", data={"csrf_token": token,
                                                             "roles": ["rso"]})
    assert saved.status_code == 302
    assert "staff.passkey_requirement_changed" in audit_actions(app)
    assert admin_client.get("/staff/admin/passkeys").get_data(as_text=True).count("checked") == 1

    # without a passkey yet: TOTP signs in, and every other page leads to registering one
    staff.login(client, rso)
    home = client.get("/staff/")
    assert home.status_code == 302 and home.location.endswith("/staff/account/passkeys")
    assert client.get("/api/v1/staff/cases").status_code == 403
    authenticator = SoftwareAuthenticator()
    assert register(client, authenticator).status_code == 201
    assert client.get("/staff/").status_code == 200
    listing = admin_client.get("/staff/admin/staff").get_data(as_text=True)
    assert "<td>rso-passkey</td>" in listing and "<td>1</td>" in listing

    # with one, TOTP alone no longer signs in; the passkey does. Only someone who gave the
    # right code as well as the password is told why: a wrong code looks like any failure.
    refused = staff.post_login(app.test_client(), rso, totp=code(app, rso))
    assert refused.status_code == 401 and refused.get_json()["error"] == "passkey_needed"
    wrong = staff.post_login(app.test_client(), rso, totp="000000")
    assert wrong.status_code == 401 and wrong.get_json()["error"] == "login_failed"
    assert sign_in_with_passkey(staff, app.test_client(), rso, authenticator).status_code == 200


def test_recovery_after_losing_every_passkey(
        app: Flask, client: FlaskClient, staff: StaffLogin, rso: Account) -> None:
    """A person of a passkey-only role loses their passkeys: TOTP alone does not sign them in,
    the recovery code and TOTP do, removing the lost passkeys, and they are led to register a
    new one; their key is the same key."""
    from tests.support.staff import password_material
    from tests.test_auth import _give_recovery_code

    recovery_code = _give_recovery_code(app, staff, rso)
    staff.login(client, rso)
    register(client, SoftwareAuthenticator())  # then lost
    with app.app_context():
        passkeys_service_require(db.session, Role.RSO)
    assert staff.post_login(app.test_client(), rso, totp=code(app, rso)
                            ).get_json()["error"] == "passkey_needed"

    recovering = app.test_client()
    token = csrf_token(recovering)
    data = recovering.post("/auth/recover/begin", json={"username": rso.username,
                                                        "totp": code(app, rso)},
                           headers={"X-CSRFToken": token}).get_json()
    pair = keys.unwrap_private_key(
        base64.b64decode(data["recovery_wrapped_private_key"]),
        keys.recovery_unwrap_key(recovery_code, base64.b64decode(data["recovery_salt"])),
        data["staff_id"])
    challenge = keys.open_recovery_challenge(base64.b64decode(data["sealed_challenge"]), pair)
    done = recovering.post("/auth/recover/complete", json={
        "challenge": base64.b64encode(challenge).decode(), "remove_passkeys": True,
        **password_material("a new passphrase here", pair, data["staff_id"])},
        headers={"X-CSRFToken": token})
    assert done.status_code == 200, done.get_json()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StaffPasskey)) == 0
    rso.password = "a new passphrase here"
    staff.login(fresh := app.test_client(), rso, totp=code(app, rso))
    assert fresh.get("/staff/").location.endswith("/staff/account/passkeys")


def passkeys_service_require(session: Any, role: Role) -> None:
    admin = session.scalars(select(StaffUser)).first()
    passkeys.set_role_requirement(session, role, True, admin)
    session.commit()


def test_passkeys_are_off_without_configuration(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="both"):
        Config.from_env(tmp_path, {"CANDOR_ENV": "development",
                                   "CANDOR_WEBAUTHN_RP_ID": "candor.example.org"})
    with pytest.raises(ConfigError, match="subdomains"):
        Config.from_env(tmp_path, {"CANDOR_ENV": "development",
                                   "CANDOR_WEBAUTHN_RP_ID": "candor.example.org",
                                   "CANDOR_WEBAUTHN_ORIGIN": "https://phish.example.net"})
    with pytest.raises(ConfigError, match="https"):
        Config.from_env(tmp_path, {"CANDOR_ENV": "development",
                                   "CANDOR_WEBAUTHN_RP_ID": "example.org",
                                   "CANDOR_WEBAUTHN_ORIGIN": "http://candor.example.org"})
    config = Config.from_env(tmp_path, {"CANDOR_ENV": "development",
                                        "CANDOR_WEBAUTHN_RP_ID": "example.org",
                                        "CANDOR_WEBAUTHN_ORIGIN": "https://candor.example.org/"})
    assert (config.webauthn_rp_id, config.webauthn_origin) == ("example.org",
                                                               "https://candor.example.org")
    assert Config.from_env(tmp_path, {"CANDOR_ENV": "development"}).webauthn_rp_id is None


def test_unused_challenges_expire_and_the_tick_deletes_them(
        app: Flask, client: FlaskClient, rso: Account) -> None:
    for _ in range(3):
        post(client, "/auth/passkeys/sign-in/options", page="/auth/login")
    runner = app.test_cli_runner()
    assert "passkey_challenges_expired: 0" in runner.invoke(args=["tick"]).output
    later = (utcnow() + timedelta(minutes=6)).isoformat()
    assert "passkey_challenges_expired: 3" in runner.invoke(args=["tick", "--now", later]).output


def test_a_failed_sign_in_spends_its_passkey_answer(
        app: Flask, client: FlaskClient, staff: StaffLogin, rso: Account) -> None:
    """An answer sent with a wrong password is used up too: it cannot come back later with the
    right one."""
    staff.login(client, rso)
    authenticator = SoftwareAuthenticator()
    register(client, authenticator)
    other = app.test_client()
    options = post(other, "/auth/passkeys/sign-in/options", page="/auth/login"
                   ).get_json()["options"]
    assertion = authenticator.get(options, ORIGIN)

    def send(password: str) -> int:
        secret = staff.login_secret(other, rso.username, password)
        return int(other.post("/auth/login", json={
            "username": rso.username, "login_secret": base64.b64encode(secret).decode(),
            "passkey": assertion}, headers={"X-CSRFToken": csrf_token(other)}).status_code)

    assert send("not the password") == 401
    assert send(rso.password) == 401


def test_sign_in_challenges_are_rate_limited(make_app: Any) -> None:
    limited = make_app(webauthn_rp_id=RP_ID, webauthn_origin=ORIGIN,
                       passkey_challenges_per_minute=2)
    client = limited.test_client()
    statuses = [post(client, "/auth/passkeys/sign-in/options", page="/auth/login").status_code
                for _ in range(3)]
    assert statuses == [200, 200, 429]
    with limited.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebAuthnChallenge)) == 2


def test_passkey_calls_need_the_csrf_token(client: FlaskClient, staff: StaffLogin,
                                           rso: Account) -> None:
    assert client.post("/auth/passkeys/sign-in/options", json={}).status_code == 400
    staff.login(client, rso)
    for url in ("/auth/passkeys/options", "/auth/passkeys", "/auth/step-up",
                "/auth/passkeys/unlock", "/auth/passkeys/1/remove"):
        assert client.post(url, json={"purpose": "register"}).status_code == 400, url


def test_a_role_requirement_shuts_nobody_out_where_passkeys_are_off(
        app: Flask, make_app: Any, staff: StaffLogin, rso: Account) -> None:
    """The operator turns passkeys off (or mistypes the setting) while a role requires them:
    its holders sign in with their code and reach their pages."""
    staff.login(client := app.test_client(), rso)
    register(client, SoftwareAuthenticator())
    with app.app_context():
        passkeys_service_require(db.session, Role.RSO)
    assert staff.post_login(app.test_client(), rso).status_code == 401  # passkeys on: refused
    off = make_app()  # the same database, no passkey settings
    off_client = off.test_client()
    StaffLogin(off).login(off_client, rso, totp=code(app, rso))
    assert off_client.get("/staff/").status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example", "/\\evil.example",
                                    "javascript:alert(1)", "/\t/evil.example"])
def test_the_step_up_page_returns_only_to_this_site(
        client: FlaskClient, staff: StaffLogin, rso: Account, target: str) -> None:
    staff.login(client, rso)
    page = client.get("/auth/step-up", query_string={"next": target}).get_data(as_text=True)
    assert 'data-next="/staff/"' in page
    assert 'data-next="/staff/admin/staff"' in client.get(
        "/auth/step-up?next=/staff/admin/staff").get_data(as_text=True)


def test_a_key_copy_is_kept_and_handed_out_only_against_that_passkey(
        app: Flask, client: FlaskClient, staff: StaffLogin, rso: Account) -> None:
    """The second-touch path (an authenticator that gives its PRF output only to assertions):
    the copy is stored with an assertion by that passkey, and /auth/passkeys/unlock hands it
    out only for an assertion by that same passkey, with user verification."""
    staff.login(client, rso)
    first, second = SoftwareAuthenticator(), SoftwareAuthenticator()
    ids = [register(client, a, name).get_json()["id"] for a, name in ((first, "a"), (second, "b"))]
    wrapped = keys.wrap_private_key(keys.StaffKeyPair.generate(), keys.passkey_unwrap_key(
        first.credential_id, bytes(32)), str(rso.id))
    body = {"prf_wrapped_private_key": base64.b64encode(wrapped).decode()}

    def unlock_options() -> dict[str, Any]:
        return post(client, "/auth/passkeys/options", {"purpose": "unlock"}).get_json()["options"]

    wrong = post(client, f"/auth/passkeys/{ids[0]}/unlock-copy",
                 {**body, "credential": second.get(unlock_options(), ORIGIN)})
    assert wrong.status_code == 400  # the other passkey's assertion
    stored = post(client, f"/auth/passkeys/{ids[0]}/unlock-copy",
                  {**body, "credential": first.get(unlock_options(), ORIGIN)})
    assert stored.status_code == 200, stored.get_json()

    none = post(client, "/auth/passkeys/unlock", {"credential": second.get(unlock_options(),
                                                                             ORIGIN)})
    assert none.status_code == 409 and none.get_json()["error"] == "no_unlock_copy"
    assert post(client, "/auth/passkeys/unlock", {"credential": first.get(
        unlock_options(), ORIGIN, uv=False)}).status_code == 401
    answer = post(client, "/auth/passkeys/unlock", {"credential": first.get(unlock_options(),
                                                                              ORIGIN)})
    assert answer.status_code == 200
    assert base64.b64decode(answer.get_json()["wrapped_private_key"]) == wrapped
    assert base64.b64decode(answer.get_json()["credential_id"]) == first.credential_id
    # a step-up challenge is not an unlock challenge
    options = post(client, "/auth/passkeys/options", {"purpose": "step_up"}).get_json()["options"]
    assert post(client, "/auth/passkeys/unlock", {"credential": first.get(options, ORIGIN)}
                ).status_code == 401


def test_a_refused_registration_adds_nothing_and_its_answer_is_spent(
        app: Flask, client: FlaskClient, staff: StaffLogin, rso: Account) -> None:
    staff.login(client, rso)
    options = post(client, "/auth/passkeys/options", {"purpose": "register"}).get_json()["options"]
    credential = SoftwareAuthenticator().create(options, ORIGIN, uv=False)
    malformed = base64.b64encode(b"\x02" + bytes(72)).decode()
    assert post(client, "/auth/passkeys", {"credential": credential, "name": "x",
                                           "prf_wrapped_private_key": malformed}
                ).status_code == 400
    assert post(client, "/auth/passkeys", {"credential": credential, "name": "x"}
                ).status_code == 400  # no user verification
    refused = post(client, "/auth/passkeys", {"credential": credential, "name": "x"})
    assert refused.get_json()["message"] == EXPIRED
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StaffPasskey)) == 0


def test_a_code_sign_in_is_no_step_up_for_someone_with_a_passkey(
        app: Flask, client: FlaskClient, staff: StaffLogin, rso: Account) -> None:
    """A phisher who has the password and a code signs in (the role does not require
    passkeys), but that is not the fresh verification the person's passkey would give: no
    identity, no passkey of their own, until the passkey confirms it."""
    staff.login(client, rso)
    mine = SoftwareAuthenticator()
    assert register(client, mine).status_code == 201
    phisher = app.test_client()
    staff.login(phisher, rso, totp=code(app, rso))
    refused = post(phisher, "/api/v1/staff/cases/C-00000/identity", {"reason": "x"})
    assert refused.status_code == 403 and refused.get_json()["error"] == "step_up_required"
    assert register(phisher, SoftwareAuthenticator()).status_code == 403
    assert post(phisher, "/auth/step-up", {"totp": code(app, rso)}).status_code == 400
    # the owner's own sign-in with the passkey is one
    owner = app.test_client()
    assert sign_in_with_passkey(staff, owner, rso, mine).status_code == 200
    assert post(owner, "/api/v1/staff/cases/C-00000/identity", {"reason": "x"}).status_code == 404


def test_a_passkey_of_another_account_confirms_nothing(
        app: Flask, client: FlaskClient, staff: StaffLogin, rso: Account) -> None:
    other = staff.create("board-passkey", Role.BOARD)
    theirs = app.test_client()
    staff.login(theirs, other)
    their_key = SoftwareAuthenticator()
    assert register(theirs, their_key).status_code == 201
    staff.login(client, rso)
    assert register(client, SoftwareAuthenticator()).status_code == 201
    stale(app, rso)
    options = post(client, "/auth/passkeys/options", {"purpose": "step_up"}).get_json()["options"]
    answer = post(client, "/auth/step-up", {"credential": their_key.get(options, ORIGIN)})
    assert answer.status_code == 401
    assert sign_in_with_passkey(staff, app.test_client(), rso, their_key).status_code == 401


def test_wrong_codes_at_a_step_up_close_the_session(
        app: Flask, client: FlaskClient, staff: StaffLogin, rso: Account) -> None:
    """Someone holding a stolen session cookie cannot guess codes until one works."""
    staff.login(client, rso)
    stale(app, rso)
    limit = state_of(app).config.login_attempts_before_lockout
    answers = [post(client, "/auth/step-up", {"totp": "000000"}) for _ in range(limit)]
    assert [a.status_code for a in answers] == [401] * limit
    assert answers[-1].get_json()["error"] == "session_closed"
    assert client.get("/staff/").status_code in (302, 401)  # signed out
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StaffSession).where(
            StaffSession.staff_id == rso.id)) == 0
    assert "auth.step_up_session_closed" in audit_actions(app)
    # a right code in time resets the count
    staff.login(fresh := app.test_client(), rso, totp=code(app, rso))
    stale(app, rso)
    assert post(fresh, "/auth/step-up", {"totp": "000000"}).status_code == 401
    assert post(fresh, "/auth/step-up", {"totp": code(app, rso)}).status_code == 200


def test_a_flood_of_passkey_sign_ins_costs_puzzles_and_shuts_nobody_out(
        app: Flask, make_app: Any) -> None:
    flooded = make_app(webauthn_rp_id=RP_ID, webauthn_origin=ORIGIN,
                       passkey_challenges_per_minute=2, proof_of_work_bits=8)
    client = flooded.test_client()
    token = csrf_token(client)

    def options(body: dict[str, Any]) -> Any:
        return client.post("/auth/passkeys/sign-in/options", json=body,
                           headers={"X-CSRFToken": token})

    answers = [options({}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    puzzle = answers[-1].get_json()["proof_of_work"]
    assert answers[-1].get_json()["error"] == "proof_of_work_required" and puzzle["bits"] == 8
    challenge = base64.b64decode(puzzle["challenge"])
    nonce = solve_proof_of_work(challenge, puzzle["bits"])
    solved = {"proof_of_work": {"challenge": puzzle["challenge"],
                                "nonce": base64.b64encode(nonce).decode(),
                                "hash": "blake2b-256"}}
    assert options(solved).status_code == 200  # a person's browser solves it and goes on
    assert options(solved).status_code == 429  # each solution works once
