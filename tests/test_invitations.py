"""Invitations: the invitee's browser makes the key pair; the operator signs it; no
administrator ever holds it, and the link's token reaches no server log."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from app.extensions import db
from app.models import StaffInvitation, utcnow
from app.roles import Role
from crypto import keys
from crypto.directory import fingerprint, verify_entry
from tests.support.staff import Account, StaffLogin, csrf_token, password_material


def invite(client: FlaskClient, username: str, *roles: str) -> tuple[int, str]:
    response = client.post("/staff/admin/staff/invite", data={
        "csrf_token": csrf_token(client, "/staff/admin/staff"), "username": username,
        "roles": list(roles)})
    match = re.search(r'id="invitation-url" readonly[^>]*value="([^"]+)"',
                      response.get_data(as_text=True))
    return response.status_code, match.group(1) if match else ""


def activate(client: FlaskClient, url: str, password: str,
             public_key: bytes | None = None) -> tuple[int, dict, bytes]:  # type: ignore[type-arg]
    token = url.split("#", 1)[1]
    headers = {"X-CSRFToken": csrf_token(client, "/auth/activate")}
    opened = client.post("/auth/activate/open", json={"token": token}, headers=headers)
    if opened.status_code != 200:
        return opened.status_code, opened.get_json(), b""
    keypair = keys.StaffKeyPair.generate()
    public_key = keypair.public_key if public_key is None else public_key
    body = {"token": token, "public_key": base64.b64encode(public_key).decode(),
            **password_material(password, keypair, opened.get_json()["staff_id"])}
    response = client.post("/auth/activate/complete", json=body, headers=headers)
    return response.status_code, response.get_json(), public_key


def test_invite_activate_sign_and_sign_in(app: Flask, client: FlaskClient, staff: StaffLogin,
                                          runner: FlaskCliRunner) -> None:
    admin = staff.create("admin2", Role.ADMIN)
    staff.login(client, admin)
    status, url = invite(client, "NewExec", "executive", "board")
    assert status == 200 and "/auth/activate#" in url
    page = client.get("/staff/admin/staff").get_data(as_text=True)
    assert "newexec" in page and "invited" in page and url not in page  # shown once only

    newcomer = app.test_client()
    invited = Account(0, "newexec", "the newcomer's own passphrase", None)
    assert staff.post_login(newcomer, invited, totp="").status_code == 401  # not yet active
    status, answer, public_key = activate(newcomer, url, invited.password)
    assert status == 200 and answer["fingerprint"] == fingerprint(public_key)
    assert activate(newcomer, url, invited.password)[0] == 404  # used up

    # Active, but not a recipient until the operator signs the key.
    assert client.get("/api/v1/directory").get_json()["entries"] == []
    assert "awaiting the operator" in client.get("/staff/admin/staff").get_data(as_text=True)
    refused = runner.invoke(args=["keys", "sign-directory"], input="n\n")
    assert f"Sign newexec (board,executive) with key {fingerprint(public_key)}?" in refused.output
    assert client.get("/api/v1/directory").get_json()["entries"] == []
    signed = runner.invoke(args=["keys", "sign-directory"], input="y\n")
    assert "Signed 2 directory entries." in signed.output  # the admin's entry is renewed too

    response = staff.post_login(newcomer, invited, totp="")
    assert response.status_code == 200 and response.get_json()["next"] == "/auth/enrol"
    with app.app_context():
        row = staff.get("newexec")
        assert row.roles == {Role.EXECUTIVE, Role.BOARD}
        invited.id = row.id
        from app.services.directory import current_key

        entry = verify_entry(current_key(db.session).verify_key, row.directory_entry)
    assert entry.public_key == public_key and entry.username == "newexec"
    assert staff.unwrap(invited, response.get_json()["wrapped_private_key"]).public_key == \
        public_key


def test_a_low_order_key_is_refused_at_activation(app: Flask, client: FlaskClient,
                                                  staff: StaffLogin) -> None:
    admin = staff.create("admin5", Role.ADMIN)
    staff.login(client, admin)
    _status, url = invite(client, "zero", "rso")
    status, answer, _key = activate(app.test_client(), url, "some passphrase", bytes(32))
    assert status == 400 and "malformed" in answer["message"]


def test_pending_accounts_look_like_any_other_at_sign_in(app: Flask, client: FlaskClient,
                                                         staff: StaffLogin) -> None:
    admin = staff.create("admin6", Role.ADMIN)
    staff.login(client, admin)
    invite(client, "pending", "rso")
    other = app.test_client()
    token = csrf_token(other)
    pending = other.post("/auth/prelogin", json={"username": "pending"},
                         headers={"X-CSRFToken": token}).get_json()
    real = other.post("/auth/prelogin", json={"username": "admin6"},
                      headers={"X-CSRFToken": token}).get_json()
    assert pending["kdf"] == real["kdf"]
    assert base64.b64decode(pending["salt"]) != bytes(16)


def test_bad_invitations_are_refused_clearly(app: Flask, client: FlaskClient,
                                             staff: StaffLogin) -> None:
    admin = staff.create("admin3", Role.ADMIN)
    staff.create("taken", Role.RSO)
    staff.login(client, admin)
    for username, roles, message in [("taken", ["rso"], "already exists"),
                                     ("Bad Name", ["rso"], "lowercase letters"),
                                     ("noroles", [], "at least one role"),
                                     ("fine", ["emperor"], "not a valid choice")]:
        response = client.post("/staff/admin/staff/invite", data={
            "csrf_token": csrf_token(client, "/staff/admin/staff"), "username": username,
            "roles": roles})
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)


def test_expired_or_made_up_invitations_do_not_work(app: Flask, client: FlaskClient,
                                                    staff: StaffLogin) -> None:
    admin = staff.create("admin4", Role.ADMIN)
    staff.login(client, admin)
    _status, url = invite(client, "late", "rso")
    with app.app_context():
        for row in db.session.scalars(db.select(StaffInvitation)):
            row.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    status, answer, _key = activate(app.test_client(), url, "some passphrase")
    assert status == 404 and "does not work" in answer["message"]
    assert activate(app.test_client(), "x#made-up-token", "some passphrase")[0] == 404
