"""Governance sees whether each reporting route is staffed, as counts only."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from app.roles import Role
from tests.support.staff import StaffLogin, csrf_token


def test_route_readiness_counts_only_enabled_signed_recipients(
        app: Flask, client: FlaskClient, staff: StaffLogin) -> None:
    staff.create("rso-a", Role.RSO)
    staff.create("exec-a", Role.EXECUTIVE)
    admin = staff.create("admin-a", Role.ADMIN)
    viewer = staff.create("gov-a", Role.GOVERNANCE)
    staff.login(client, viewer)
    page = client.get("/governance/").get_data(as_text=True)
    rows = page.split("<tbody>")[1]
    assert rows.count("ready") == 2 and "no recipient" in rows  # no Board member yet
    assert "rso-a" not in page and "exec-a" not in page  # counts, never names

    admin_client = app.test_client()
    staff.login(admin_client, admin)
    with app.app_context():
        staff_id = staff.get("exec-a").id
    admin_client.post(f"/staff/admin/staff/{staff_id}/disable",
                      data={"csrf_token": csrf_token(admin_client, "/staff/")})
    rows = client.get("/governance/").get_data(as_text=True).split("<tbody>")[1]
    assert rows.count("no recipient") == 2
