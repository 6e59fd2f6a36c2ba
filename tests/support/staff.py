"""Staff helpers for tests: create accounts and sign in the way the browser does."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

import pyotp
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import StaffUser
from app.roles import Role
from app.services.directory import load_signing_key
from app.services.staff_accounts import create_staff, find_staff
from app.state import state_of
from crypto import kdf, keys
from crypto.proof_of_work import solve_proof_of_work

_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/auth/login") -> str:
    """The CSRF token a page at ``path`` would hand its scripts."""
    match = _CSRF_META.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def password_material(password: str, keypair: keys.BoxKeyPair, staff_id: str,
                      params: kdf.KdfParams = kdf.TEST_FAST) -> dict[str, object]:
    """The JSON fields a browser sends for a new password (what staff-session.js makes)."""
    salt = kdf.generate_salt()
    derived = kdf.derive_staff_secrets(password, salt, params)
    wrapped = keys.wrap_private_key(keypair, derived.unwrap_key, staff_id)
    return {"login_secret": base64.b64encode(derived.login_secret).decode(),
            "salt": base64.b64encode(salt).decode(), "kdf_version": params.version,
            "wrapped_private_key": base64.b64encode(wrapped).decode()}


def solving_puzzles(send, rounds: int = 4):  # type: ignore[no-untyped-def]
    """``send(proof)``, and while the answer asks for a puzzle, solve it and send again with
    the solution, as the staff pages do (``postSolvingPuzzles`` in staff-session.js)."""
    proof = None
    for _round in range(rounds):
        response = send(proof)
        answer = response.get_json(silent=True) or {}
        if response.status_code != 429 or answer.get("error") != "proof_of_work_required":
            return response
        offered = answer["proof_of_work"]
        nonce = solve_proof_of_work(base64.b64decode(offered["challenge"]), offered["bits"])
        proof = {"challenge": offered["challenge"], "nonce": base64.b64encode(nonce).decode()}
    return response


@dataclass
class Account:
    id: int
    username: str
    password: str
    totp_secret: str | None

    def totp_now(self) -> str:
        assert self.totp_secret
        return pyotp.TOTP(self.totp_secret).now()


class StaffLogin:
    def __init__(self, app: Flask) -> None:
        self.app = app

    def create(self, username: str, *roles: Role, password: str | None = None,
               enrolled: bool = True) -> Account:
        password = password or f"password-of-{username}"
        with self.app.app_context():
            config = state_of(self.app).config
            staff = create_staff(
                db.session, username=username, roles=list(roles), password=password,
                config=config, signing_key=load_signing_key(config.org_signing_key_path),
            )
            if enrolled:
                staff.totp_secret = pyotp.random_base32()
                staff.totp_enrolled_at = staff.created_at
            db.session.commit()
            return Account(staff.id, username, password, staff.totp_secret)

    def get(self, username: str) -> StaffUser:
        staff = find_staff(db.session, username)
        assert staff is not None
        return staff

    def login_secret(self, client: FlaskClient, username: str, password: str) -> bytes:
        token = csrf_token(client)
        answer = client.post("/auth/prelogin", json={"username": username},
                             headers={"X-CSRFToken": token}).get_json()
        params = kdf.params_by_version(answer["kdf"]["version"])
        secrets_ = kdf.derive_staff_secrets(password, base64.b64decode(answer["salt"]), params)
        return secrets_.login_secret

    def post_login(self, client: FlaskClient, account: Account, totp: str | None = None,
                   password: str | None = None, headers: dict[str, str] | None = None,
                   solve: bool = False):  # type: ignore[no-untyped-def]
        """Sign in as the page does; with ``solve``, solving the puzzles the server asks for
        after many failures, as the page does too."""
        secret = self.login_secret(client, account.username, password or account.password)
        code = totp if totp is not None else (account.totp_now() if account.totp_secret else "")
        body = {"username": account.username,
                "login_secret": base64.b64encode(secret).decode(), "totp": code}

        def send(proof: dict[str, str] | None):  # type: ignore[no-untyped-def]
            return client.post("/auth/login", json={**body, **({"proof_of_work": proof}
                                                                if proof else {})},
                               headers={"X-CSRFToken": csrf_token(client), **(headers or {})})

        return solving_puzzles(send) if solve else send(None)

    def login(self, client: FlaskClient, account: Account, totp: str | None = None,
              headers: dict[str, str] | None = None) -> None:
        response = self.post_login(client, account, totp=totp, headers=headers)
        assert response.status_code == 200, response.get_json()

    def unwrap(self, account: Account, wrapped_b64: str) -> keys.StaffKeyPair:
        with self.app.app_context():
            staff = self.get(account.username)
            params = kdf.params_by_version(staff.kdf_version)
            derived = kdf.derive_staff_secrets(account.password, staff.kdf_salt, params)
            unwrap_key = derived.unwrap_key
        return keys.unwrap_private_key(base64.b64decode(wrapped_b64), unwrap_key, str(account.id))
