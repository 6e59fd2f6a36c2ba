"""Invitations: the invitee's browser makes the key pair; no administrator holds it."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import StaffInvitation, utcnow
from app.roles import Role
from crypto import keys
from crypto.directory import verify_entry
from tests.support.staff import Account, StaffLogin, csrf_token, password_material


def invite(client: FlaskClient, username: str, *roles: str) -> tuple[int, str]:
    response = client.post("/staff/admin/staff/invite", data={
        "csrf_token": csrf_token(client, "/staff/admin/staff"), "username": username,
        "roles": list(roles)})
    match = re.search(r'id="invitation-url">([^<]+)<', response.get_data(as_text=True))
    return response.status_code, match.group(1) if match else ""


def activate(client: FlaskClient, app: Flask, url: str, password: str) -> tuple[int, bytes]:
    path = url.split("localhost", 1)[1]
    page = client.get(path).get_data(as_text=True)
    staff_id = re.search(r'data-staff-id="(\d+)"', page).group(1)  # type: ignore[union-attr]
    keypair = keys.StaffKeyPair.generate()
    body = {"public_key": base64.b64encode(keypair.public_key).decode(),
            **password_material(password, keypair, staff_id)}
    response = client.post(path, json=body, headers={"X-CSRFToken": csrf_token(client, path)})
    return response.status_code, keypair.public_key


def test_invite_activate_and_sign_in(app: Flask, client: FlaskClient, staff: StaffLogin) -> None:
    admin = staff.create("admin2", Role.ADMIN)
    staff.login(client, admin)
    status, url = invite(client, "NewExec", "executive", "board")
    assert status == 200 and "/auth/activate/" in url
    page = client.get("/staff/admin/staff").get_data(as_text=True)
    assert "newexec" in page and "invited" in page and url not in page  # shown once only

    newcomer = app.test_client()
    invited = Account(0, "newexec", "the newcomer's own passphrase", None)
    assert staff.post_login(newcomer, invited, totp="").status_code == 401  # not yet active
    status, public_key = activate(newcomer, app, url, invited.password)
    assert status == 200
    assert newcomer.get(url.split("localhost", 1)[1]).status_code == 404  # used up

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


def test_expired_invitation_does_not_work(app: Flask, client: FlaskClient,
                                          staff: StaffLogin) -> None:
    admin = staff.create("admin4", Role.ADMIN)
    staff.login(client, admin)
    _status, url = invite(client, "late", "rso")
    with app.app_context():
        for row in db.session.scalars(db.select(StaffInvitation)):
            row.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    path = url.split("localhost", 1)[1]
    assert app.test_client().get(path).status_code == 404
    assert activate.__name__  # the POST is refused the same way:
    other = app.test_client()
    token = csrf_token(other)
    assert other.post(path, json={}, headers={"X-CSRFToken": token}).status_code == 404
