"""Staff sign-in: login secret, TOTP, lockout, enrolment, sessions, password change, disabling."""

from __future__ import annotations

import base64
import re
import time
from datetime import timedelta

import pyotp
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import StaffSession, utcnow
from app.roles import Role
from app.services.staff_accounts import LOGIN_FAILED
from app.services.throttle import FIRST_PUZZLE_BITS
from app.state import state_of
from crypto import kdf, keys
from tests.support.staff import StaffLogin, csrf_token, password_material


def test_login_returns_a_private_key_only_the_password_unwraps(
        client: FlaskClient, staff: StaffLogin, app: Flask) -> None:
    account = staff.create("rso1", Role.RSO)
    response = staff.post_login(client, account)
    assert response.status_code == 200
    data = response.get_json()
    assert data["next"] == "/staff/"
    keypair = staff.unwrap(account, data["wrapped_private_key"])
    with app.app_context():
        assert keypair.public_key == staff.get("rso1").public_key
    assert client.get("/staff/").status_code == 200


def test_server_stores_no_password_or_unwrap_key(app: Flask, staff: StaffLogin) -> None:
    account = staff.create("rso2", Role.RSO, password="correct horse battery staple")
    with app.app_context():
        row = staff.get("rso2")
        secrets_ = kdf.derive_staff_secrets(account.password, row.kdf_salt,
                                            kdf.params_by_version(row.kdf_version))
        stored = b"".join(v if isinstance(v, bytes) else str(v).encode()
                          for v in vars(row).values())
        assert account.password.encode() not in stored
        assert secrets_.login_secret not in stored
        assert bytes(secrets_.unwrap_key) not in stored
        assert row.login_hash.startswith("$argon2id$")


def test_wrong_password_wrong_code_and_unknown_user_look_the_same(
        client: FlaskClient, staff: StaffLogin) -> None:
    account = staff.create("exec1", Role.EXECUTIVE)
    wrong_password = staff.post_login(client, account, password="not the password")
    wrong_code = staff.post_login(client, account, totp="000000")
    ghost = staff.post_login(client, type(account)(999, "ghost", "whatever-pass", None))
    for response in (wrong_password, wrong_code, ghost):
        assert response.status_code == 401
        assert response.get_json()["message"] == LOGIN_FAILED


def test_prelogin_does_not_reveal_accounts(client: FlaskClient, staff: StaffLogin) -> None:
    staff.create("real", Role.RSO)
    token = csrf_token(client)

    def ask(name: str) -> dict:  # type: ignore[type-arg]
        return client.post("/auth/prelogin", json={"username": name},
                           headers={"X-CSRFToken": token}).get_json()

    real, ghost = ask("real"), ask("ghost")
    assert set(real) == set(ghost) and real["kdf"] == ghost["kdf"]
    assert ask("ghost") == ghost  # stable, so asking twice does not tell either
    assert len(base64.b64decode(ghost["salt"])) == kdf.SALT_SIZE


def test_many_failures_ask_for_a_puzzle_not_a_lock(
        client: FlaskClient, staff: StaffLogin, app: Flask) -> None:
    account = staff.create("board1", Role.BOARD)
    limit = state_of(app).config.login_attempts_before_lockout
    for _ in range(limit):
        assert staff.post_login(client, account, password="wrong password!").status_code == 401
    asked = staff.post_login(client, account)  # the right password, but no puzzle solved
    assert asked.status_code == 429
    answer = asked.get_json()
    assert answer["error"] == "proof_of_work_required" and "puzzle" in answer["message"]
    assert answer["proof_of_work"]["bits"] == FIRST_PUZZLE_BITS
    # Nothing is locked: the right password with a solved puzzle signs in.
    assert staff.post_login(client, account, solve=True).status_code == 200


def test_unknown_names_are_asked_exactly_like_real_ones(client: FlaskClient, staff: StaffLogin,
                                                        app: Flask) -> None:
    real = staff.create("exists", Role.BOARD)
    ghost = type(real)(999, "doesnotexist", "whatever-pass", None)
    limit = state_of(app).config.login_attempts_before_lockout

    def attempts(account) -> list[tuple[int, str, int]]:  # type: ignore[no-untyped-def]
        answers = [staff.post_login(client, account, password="wrong password!", totp="123456",
                                    solve=True) for _ in range(limit + 3)]
        answers.append(staff.post_login(client, account, password="wrong password!"))
        return [(a.status_code, a.get_json()["error"],
                 a.get_json().get("proof_of_work", {}).get("bits", 0)) for a in answers]

    answers = attempts(ghost)
    assert attempts(real) == answers
    # Past the free attempts, one bit harder per failure.
    assert answers[-1] == (429, "proof_of_work_required", FIRST_PUZZLE_BITS + 3)


def test_non_ascii_digits_are_a_wrong_code_not_an_error(client: FlaskClient,
                                                        staff: StaffLogin) -> None:
    account = staff.create("arabic", Role.RSO)
    _give = staff.post_login(client, account, totp="\u0661" * 6)
    assert _give.status_code == 401
    token = csrf_token(client)
    answer = client.post("/auth/recover/begin", json={"username": "arabic", "totp": "\u0661" * 6},
                         headers={"X-CSRFToken": token})
    assert answer.status_code == 401


def test_session_cookie_holds_no_client_fingerprint(client: FlaskClient,
                                                    staff: StaffLogin) -> None:
    account = staff.create("cookie", Role.RSO)
    staff.login(client, account, headers={"User-Agent": "Fingerprintable/1.0"})
    cookie = client.get_cookie("candor_staff")
    assert cookie is not None
    app = client.application
    data = app.session_interface.staff.get_signing_serializer(app).loads(cookie.value)
    assert data.get("_id", "") == ""  # Flask-Login would put hash(address | user agent) here
    assert set(data) <= {"_user_id", "_fresh", "_id", "csrf_token"}


def test_reporter_and_staff_cookies_are_not_interchangeable(app: Flask, client: FlaskClient,
                                                            staff: StaffLogin) -> None:
    account = staff.create("swapper", Role.RSO)
    staff.login(client, account)
    staff_cookie = client.get_cookie("candor_staff")
    other = app.test_client()
    other.set_cookie("candor_reporter", staff_cookie.value)
    other.set_cookie("candor_staff", "")
    other.get("/")
    assert other.get("/staff/").status_code == 302


def test_totp_code_cannot_be_replayed(app: Flask, staff: StaffLogin) -> None:
    account = staff.create("rso3", Role.RSO)
    code = account.totp_now()
    assert staff.post_login(app.test_client(), account, totp=code).status_code == 200
    again = staff.post_login(app.test_client(), account, totp=code)
    assert again.status_code == 401
    # The one message for every failure tells the person what to do about a code just used.
    assert "wait for your app to show the next" in again.get_json()["message"]


def test_session_is_regenerated_at_login(client: FlaskClient, staff: StaffLogin) -> None:
    account = staff.create("rso4", Role.RSO)
    before = csrf_token(client)
    staff.login(client, account)
    assert csrf_token(client, "/staff/") != before


def test_first_login_requires_totp_enrolment(app: Flask, client: FlaskClient,
                                             staff: StaffLogin) -> None:
    account = staff.create("newbie", Role.RSO, enrolled=False)
    response = staff.post_login(client, account, totp="")
    assert response.get_json()["next"] == "/auth/enrol"
    keypair = staff.unwrap(account, response.get_json()["wrapped_private_key"])
    assert client.get("/staff/").location.endswith("/auth/enrol")
    page = client.get("/auth/enrol").get_data(as_text=True)
    # The QR code scales to its box as a whole: a viewBox, no fixed size that the box would cut.
    svg = re.search(r"<svg[^>]*>", page)
    assert svg and "viewBox=" in svg.group(0) and "width=" not in svg.group(0)
    with app.app_context():
        secret = staff.get("newbie").totp_secret
    assert secret and secret in page

    code = keys.generate_recovery_code()
    salt = kdf.generate_salt()
    wrapped = keys.wrap_private_key(keypair, keys.recovery_unwrap_key(code, salt), str(account.id))
    token = csrf_token(client, "/auth/enrol")
    body = {"totp": "123", "recovery_salt": base64.b64encode(salt).decode(),
            "recovery_wrapped_private_key": base64.b64encode(wrapped).decode()}
    refused = client.post("/auth/enrol", json=body, headers={"X-CSRFToken": token})
    assert refused.status_code == 400 and "Wait for your app" in refused.get_json()["message"]
    body["totp"] = pyotp.TOTP(secret).now()
    answer = client.post("/auth/enrol", json=body, headers={"X-CSRFToken": token})
    assert answer.status_code == 200, answer.get_json()
    assert client.get("/staff/").status_code == 200
    with app.app_context():
        row = staff.get("newbie")
        restored = keys.unwrap_private_key(row.recovery_wrapped_private_key,
                                           keys.recovery_unwrap_key(code, row.recovery_salt),
                                           str(account.id))
    assert restored.public_key == keypair.public_key


def test_idle_session_ends(app: Flask, client: FlaskClient, staff: StaffLogin) -> None:
    account = staff.create("idler", Role.RSO)
    staff.login(client, account)
    idle = state_of(app).config.staff_idle_minutes
    with app.app_context():
        for row in db.session.scalars(db.select(StaffSession)):
            row.last_seen_at = utcnow() - timedelta(minutes=idle + 1)
        db.session.commit()
    assert client.get("/staff/").status_code == 302
    with app.app_context():
        assert db.session.scalars(db.select(StaffSession)).first() is None


def test_logout_ends_the_server_session(app: Flask, client: FlaskClient,
                                        staff: StaffLogin) -> None:
    account = staff.create("leaver", Role.RSO)
    staff.login(client, account)
    cookie = client.get_cookie("candor_staff")
    assert cookie is not None
    response = client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/staff/")})
    assert response.status_code == 302
    other = app.test_client()
    other.set_cookie("candor_staff", cookie.value)  # a stolen copy of the old cookie
    assert other.get("/staff/").status_code == 302


def test_password_change_rewraps_in_client(app: Flask, client: FlaskClient,
                                           staff: StaffLogin) -> None:
    account = staff.create("changer", Role.RSO)
    response = staff.post_login(client, account)
    keypair = staff.unwrap(account, response.get_json()["wrapped_private_key"])
    current = staff.login_secret(client, "changer", account.password)
    body = {"current_login_secret": base64.b64encode(current).decode(),
            **password_material("a brand new passphrase", keypair, str(account.id))}
    token = csrf_token(client, "/staff/")
    wrong = dict(body, current_login_secret=base64.b64encode(b"\x01" * 32).decode())
    assert client.post("/staff/account/password", json=wrong,
                       headers={"X-CSRFToken": token}).status_code == 400
    elsewhere = app.test_client()
    staff.login(elsewhere, account, totp=pyotp.TOTP(account.totp_secret).at(
        utcnow() + timedelta(seconds=30)))
    assert client.post("/staff/account/password", json=body,
                       headers={"X-CSRFToken": token}).status_code == 200
    assert client.get("/staff/").status_code == 200  # this session goes on
    assert elsewhere.get("/staff/").status_code == 302  # the other one is signed out
    account.password = "a brand new passphrase"
    with app.app_context():
        row = staff.get("changer")
        new_key = kdf.derive_staff_secrets(account.password, row.kdf_salt,
                                           kdf.params_by_version(row.kdf_version)).unwrap_key
        assert keys.unwrap_private_key(row.wrapped_private_key, new_key,
                                       str(row.id)).public_key == keypair.public_key


def test_guessing_the_current_password_counts_as_failed_sign_ins(
        app: Flask, client: FlaskClient, staff: StaffLogin) -> None:
    account = staff.create("stolen", Role.RSO)
    staff.login(client, account)
    token = csrf_token(client, "/staff/")
    keypair = keys.StaffKeyPair.generate()
    limit = state_of(app).config.login_attempts_before_lockout
    statuses = [client.post("/staff/account/password", headers={"X-CSRFToken": token}, json={
        "current_login_secret": base64.b64encode(bytes([n]) * 32).decode(),
        **password_material("new passphrase here", keypair, str(account.id))}).status_code
        for n in range(limit + 1)]
    assert statuses == [400] * limit + [429]  # each further guess needs a puzzle
    assert staff.post_login(app.test_client(), account).status_code == 429
    # The owner can still sign in (with the next step's code: this one was used above).
    next_code = pyotp.TOTP(account.totp_secret).at(time.time() + 30)
    assert staff.post_login(app.test_client(), account, totp=next_code,
                            solve=True).status_code == 200


def test_disabling_ends_sessions_and_leaves_the_directory(
        app: Flask, client: FlaskClient, staff: StaffLogin) -> None:
    admin = staff.create("admin1", Role.ADMIN)
    victim = staff.create("exec2", Role.EXECUTIVE)
    victim_client = app.test_client()
    staff.login(victim_client, victim)
    assert len(client.get("/api/v1/directory").get_json()["entries"]) == 1
    staff.login(client, admin)
    response = client.post(f"/staff/admin/staff/{victim.id}/disable",
                           data={"csrf_token": csrf_token(client, "/staff/")})
    assert response.status_code == 302
    assert victim_client.get("/staff/").status_code == 302
    assert client.get("/api/v1/directory").get_json()["entries"] == []
    assert staff.post_login(app.test_client(), victim).status_code == 401


def _give_recovery_code(app: Flask, staff: StaffLogin, account) -> str:  # type: ignore[no-untyped-def]
    code = keys.generate_recovery_code()
    with app.app_context():
        row = staff.get(account.username)
        pair = keys.unwrap_private_key(row.wrapped_private_key, kdf.derive_staff_secrets(
            account.password, row.kdf_salt, kdf.params_by_version(row.kdf_version)).unwrap_key,
            str(row.id))
        row.recovery_salt = kdf.generate_salt()
        row.recovery_wrapped_private_key = keys.wrap_private_key(
            pair, keys.recovery_unwrap_key(code, row.recovery_salt), str(row.id))
        db.session.commit()
    return code


def test_recovery_code_resets_the_password(app: Flask, client: FlaskClient,
                                           staff: StaffLogin) -> None:
    account = staff.create("forgetful", Role.RSO)
    code = _give_recovery_code(app, staff, account)
    with app.app_context():
        from app.services.staff_sessions import STAGE_FULL, open_session

        open_session(db.session, staff.get("forgetful"), STAGE_FULL)  # someone signed in elsewhere
        db.session.commit()

    token = csrf_token(client)
    begun = client.post("/auth/recover/begin", json={"username": "forgetful",
                                                     "totp": account.totp_now()},
                        headers={"X-CSRFToken": token})
    assert begun.status_code == 200, begun.get_json()
    data = begun.get_json()
    staff_id = data["staff_id"]
    pair = keys.unwrap_private_key(
        base64.b64decode(data["recovery_wrapped_private_key"]),
        keys.recovery_unwrap_key(code, base64.b64decode(data["recovery_salt"])), staff_id)
    challenge = keys.open_recovery_challenge(base64.b64decode(data["sealed_challenge"]), pair)
    body = {"challenge": base64.b64encode(challenge).decode(),
            **password_material("my brand new passphrase", pair, staff_id,
                                kdf.params_by_version(data["kdf_version"]))}
    wrong = dict(body, challenge=base64.b64encode(b"\0" * 32).decode())
    assert client.post("/auth/recover/complete", json=wrong,
                       headers={"X-CSRFToken": token}).status_code == 400
    # a refused answer uses up the challenge: the same session cannot try again
    assert client.post("/auth/recover/complete", json=body,
                       headers={"X-CSRFToken": token}).status_code == 400

    data = client.post("/auth/recover/begin", json={
        "username": "forgetful", "totp": pyotp.TOTP(account.totp_secret).at(
            utcnow() + timedelta(seconds=30))}, headers={"X-CSRFToken": token}).get_json()
    challenge = keys.open_recovery_challenge(base64.b64decode(data["sealed_challenge"]), pair)
    body["challenge"] = base64.b64encode(challenge).decode()
    done = client.post("/auth/recover/complete", json=body, headers={"X-CSRFToken": token})
    assert done.status_code == 200, done.get_json()
    with app.app_context():
        assert db.session.scalars(db.select(StaffSession)).first() is None  # all signed out
        row = staff.get("forgetful")
        new_key = kdf.derive_staff_secrets("my brand new passphrase", row.kdf_salt,
                                           kdf.params_by_version(row.kdf_version)).unwrap_key
        assert keys.unwrap_private_key(row.wrapped_private_key, new_key,
                                       str(row.id)).public_key == pair.public_key


def test_recovery_needs_a_totp_code_and_counts_failures(app: Flask, client: FlaskClient,
                                                        staff: StaffLogin) -> None:
    account = staff.create("guessed", Role.RSO)
    _give_recovery_code(app, staff, account)
    token = csrf_token(client)
    limit = state_of(app).config.login_attempts_before_lockout
    statuses = [client.post("/auth/recover/begin", json={"username": "guessed", "totp": "000000"},
                            headers={"X-CSRFToken": token}).status_code for _ in range(limit + 1)]
    assert statuses == [401] * limit + [429]  # each further guess needs a puzzle
    assert client.post("/auth/recover/complete", json={},
                       headers={"X-CSRFToken": token}).status_code == 400
    # guessing recovery codes cannot lock the person out of signing in
    staff.login(app.test_client(), account)
    ghost = [client.post("/auth/recover/begin", json={"username": "nobody", "totp": "000000"},
                         headers={"X-CSRFToken": token}).status_code for _ in range(limit + 1)]
    assert ghost == statuses


def test_a_copied_recovery_cookie_cannot_be_replayed(app: Flask, client: FlaskClient,
                                                     staff: StaffLogin) -> None:
    account = staff.create("replayed", Role.RSO)
    code = _give_recovery_code(app, staff, account)
    token = csrf_token(client)
    data = client.post("/auth/recover/begin", json={"username": "replayed",
                                                    "totp": account.totp_now()},
                       headers={"X-CSRFToken": token}).get_json()
    copied = client.get_cookie("candor_staff").value
    pair = keys.unwrap_private_key(
        base64.b64decode(data["recovery_wrapped_private_key"]),
        keys.recovery_unwrap_key(code, base64.b64decode(data["recovery_salt"])), data["staff_id"])
    challenge = keys.open_recovery_challenge(base64.b64decode(data["sealed_challenge"]), pair)
    body = {"challenge": base64.b64encode(challenge).decode(),
            **password_material("first new passphrase", pair, data["staff_id"])}
    assert client.post("/auth/recover/complete", json=body,
                       headers={"X-CSRFToken": token}).status_code == 200
    replay = app.test_client()
    replay.set_cookie("candor_staff", copied)
    body = {"challenge": base64.b64encode(challenge).decode(),
            **password_material("attacker's passphrase", pair, data["staff_id"])}
    assert replay.post("/auth/recover/complete", json=body,
                       headers={"X-CSRFToken": token}).status_code == 400


def test_a_second_enrolment_session_is_sent_back_to_sign_in(
        app: Flask, staff: StaffLogin) -> None:
    account = staff.create("twice", Role.RSO, enrolled=False)
    first, second = app.test_client(), app.test_client()
    staff.login(first, account, totp="")
    staff.login(second, account, totp="")
    first.get("/auth/enrol")
    keypair = staff.unwrap(account, staff.post_login(app.test_client(), account,
                                                     totp="").get_json()["wrapped_private_key"])
    with app.app_context():
        secret = staff.get("twice").totp_secret
    salt = kdf.generate_salt()
    body = {"totp": pyotp.TOTP(secret).now(), "recovery_salt": base64.b64encode(salt).decode(),
            "recovery_wrapped_private_key": base64.b64encode(keys.wrap_private_key(
                keypair, keys.recovery_unwrap_key(keys.generate_recovery_code(), salt),
                str(account.id))).decode()}
    done = first.post("/auth/enrol", json=body,
                      headers={"X-CSRFToken": csrf_token(first, "/auth/enrol")})
    assert done.status_code == 200
    assert first.get("/staff/").status_code == 200
    response = second.get("/auth/enrol")
    assert response.status_code == 302 and response.location.endswith("/auth/login")
