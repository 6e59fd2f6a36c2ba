"""Nobody can lock the RSO out (issue 16, finding 6): wrong attempts with a name make each
further attempt with it cost a puzzle, never a lock, so the owner with the right password and
a fresh TOTP code signs in while an attacker floods wrong attempts."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from app.extensions import db
from app.models import AuditEntry, LoginThrottle, utcnow
from app.roles import Role
from app.services import throttle
from app.services.directory import pinned_fingerprint
from app.state import state_of
from crypto.proof_of_work import solve_proof_of_work
from tests.support.staff import StaffLogin, csrf_token

MAX_BITS = 10  # the cap, kept low so the test's attackers solve puzzles quickly


@pytest.fixture
def puzzle_app(make_app: Callable[..., Flask], app: Flask) -> Flask:
    config = state_of(app).config
    return make_app(login_puzzle_max_bits=MAX_BITS, org_key_file=config.org_signing_key_path,
                    org_fingerprint=pinned_fingerprint(config))


def test_the_owner_signs_in_while_an_attacker_floods_wrong_attempts(puzzle_app: Flask) -> None:
    # The flood and the owner's sign-in interleave step by step: the owner is handed a puzzle,
    # the attacker fails again and again while the owner solves it, then the owner sends.
    # (In threads, concurrent sign-ins also exercise the audit trail's appends, which are
    # tested on their own.)
    app = puzzle_app
    staff = StaffLogin(app)
    owner = staff.create("rso1", Role.RSO)
    config = state_of(app).config
    key = throttle.throttle_key(config, throttle.SIGN_IN, owner.username)
    attacker = app.test_client()
    answers: list[int] = []

    def flood(times: int) -> None:
        for _ in range(times):
            answers.append(staff.post_login(attacker, owner, password="a guessed password",
                                            totp="000000", solve=True).status_code)

    def bits() -> int:
        with app.app_context():
            return throttle.required_bits(db.session, key, config)

    flood(config.login_attempts_before_lockout + MAX_BITS - throttle.FIRST_PUZZLE_BITS + 3)
    assert bits() == MAX_BITS  # harder for every guesser, up to the ceiling, and no further

    owner_client = app.test_client()
    secret = staff.login_secret(owner_client, owner.username, owner.password)
    body = {"username": owner.username, "login_secret": base64.b64encode(secret).decode(),
            "totp": owner.totp_now()}

    def send(extra: dict[str, object]) -> Any:
        return owner_client.post("/auth/login", json={**body, **extra},
                                 headers={"X-CSRFToken": csrf_token(owner_client)})

    asked = send({})
    assert asked.status_code == 429
    offered = asked.get_json()["proof_of_work"]
    nonce = solve_proof_of_work(base64.b64decode(offered["challenge"]), offered["bits"])
    flood(5)  # while the owner's page solves its puzzle
    signed_in = send({"proof_of_work": {"challenge": offered["challenge"],
                                        "nonce": base64.b64encode(nonce).decode()}})
    assert signed_in.status_code == 200, signed_in.get_json()
    flood(3)
    assert set(answers) == {401}  # every guess was judged, and wrong; none locked anyone


def test_an_attempt_without_its_puzzle_is_not_counted(puzzle_app: Flask) -> None:
    # Refused before the password is looked at: free to send, so it must cost the server no
    # password hash, count nothing and leave nothing in the audit trail.
    app = puzzle_app
    staff = StaffLogin(app)
    owner = staff.create("rso1", Role.RSO)
    config = state_of(app).config
    client = app.test_client()
    for _ in range(config.login_attempts_before_lockout):
        assert staff.post_login(client, owner, password="wrong").status_code == 401

    def state() -> tuple[int, int]:
        with app.app_context():
            return (db.session.scalar(db.select(db.func.max(LoginThrottle.failures))) or 0,
                    len(db.session.scalars(db.select(AuditEntry.id)).all()))

    before = state()
    for _ in range(5):
        assert staff.post_login(client, owner, password="wrong").status_code == 429
    assert state() == before


def test_a_puzzle_for_one_name_does_not_open_another(puzzle_app: Flask) -> None:
    app = puzzle_app
    staff = StaffLogin(app)
    first, second = staff.create("rso1", Role.RSO), staff.create("rso2", Role.RSO)
    config = state_of(app).config
    client = app.test_client()
    offered = {}
    for account in (first, second):
        for _ in range(config.login_attempts_before_lockout):
            staff.post_login(client, account, password="wrong")
        offered[account.username] = staff.post_login(client, account).get_json()["proof_of_work"]


    challenge = offered["rso1"]["challenge"]
    nonce = solve_proof_of_work(base64.b64decode(challenge), offered["rso1"]["bits"])
    secret = staff.login_secret(client, "rso2", second.password)

    answer = client.post("/auth/login", headers={"X-CSRFToken": csrf_token(client)}, json={
        "username": "rso2", "login_secret": base64.b64encode(secret).decode(),
        "totp": second.totp_now(),
        "proof_of_work": {"challenge": challenge, "nonce": base64.b64encode(nonce).decode()}})
    assert answer.status_code == 429 and answer.get_json()["error"] == "proof_of_work_required"


def test_a_sign_in_puzzle_may_be_solved_with_sha_256_and_an_unknown_hash_is_told(
        puzzle_app: Flask) -> None:
    app = puzzle_app
    staff = StaffLogin(app)
    owner = staff.create("rso1", Role.RSO)
    client = app.test_client()
    for _ in range(state_of(app).config.login_attempts_before_lockout):
        staff.post_login(client, owner, password="wrong")
    offered = staff.post_login(client, owner).get_json()["proof_of_work"]
    assert offered["hashes"] == ["blake2b-256", "sha-256"]
    challenge = base64.b64decode(offered["challenge"])

    def attempt(hash_name: str) -> Any:
        nonce = solve_proof_of_work(challenge, offered["bits"], "sha-256")
        secret = staff.login_secret(client, "rso1", owner.password)
        return client.post("/auth/login", headers={"X-CSRFToken": csrf_token(client)}, json={
            "username": "rso1", "login_secret": base64.b64encode(secret).decode(),
            "totp": owner.totp_now(), "proof_of_work": {
                "challenge": offered["challenge"], "hash": hash_name,
                "nonce": base64.b64encode(nonce).decode()}})

    unknown = attempt("sha3-256")
    assert unknown.status_code == 400
    assert "a hash this server does not take (sha3-256)" in unknown.get_json()["message"]
    assert attempt("sha-256").status_code == 200


def _wrong_attempt(staff: StaffLogin, client: Any, username: str) -> Any:
    secret = staff.login_secret(client, username, "a guessed password")
    return client.post("/auth/login", headers={"X-CSRFToken": csrf_token(client)}, json={
        "username": username, "login_secret": base64.b64encode(secret).decode(),
        "totp": "000000"})


def test_a_flood_across_many_names_asks_every_name_for_a_puzzle(
        make_app: Callable[..., Flask], app: Flask) -> None:
    """Each name tried once stays under its own free attempts, yet each attempt costs the
    server a password hash and an audit entry: past many failures with all names together,
    every attempt with any name needs a puzzle, and the owner, solving one, still signs in."""
    pinned = state_of(app).config
    flood_app = make_app(login_puzzle_max_bits=MAX_BITS, login_attempts_before_lockout=1,
                         org_key_file=pinned.org_signing_key_path,
                         org_fingerprint=pinned_fingerprint(pinned))
    staff = StaffLogin(flood_app)
    owner = staff.create("rso1", Role.RSO)
    config = state_of(flood_app).config
    attacker = flood_app.test_client()
    everyone_free = config.login_attempts_before_lockout * throttle.EVERYONE_FREE_FACTOR
    for n in range(everyone_free):
        assert _wrong_attempt(staff, attacker, f"guess{n}").status_code == 401
    assert _wrong_attempt(staff, attacker, "never-tried").status_code == 429

    refused = staff.post_login(flood_app.test_client(), owner)
    assert refused.status_code == 429
    assert refused.get_json()["proof_of_work"]["bits"] == throttle.FIRST_PUZZLE_BITS
    assert staff.post_login(flood_app.test_client(), owner, solve=True).status_code == 200


def test_counts_past_their_window_are_forgotten(puzzle_app: Flask) -> None:
    app = puzzle_app
    staff = StaffLogin(app)
    assert _wrong_attempt(staff, app.test_client(), "someone").status_code == 401
    config = state_of(app).config
    with app.app_context():
        assert len(db.session.scalars(db.select(LoginThrottle.key)).all()) == 2  # name, everyone
        assert throttle.purge_forgotten(db.session, utcnow(), config) == 0
        later = utcnow() + timedelta(minutes=config.login_lockout_minutes + 1)
        assert throttle.purge_forgotten(db.session, later, config) == 2
        db.session.commit()
        assert db.session.scalars(db.select(LoginThrottle.key)).all() == []
