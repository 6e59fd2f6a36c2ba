"""Permission matrix: every staff route, for every role and for anonymous callers."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.roles import ROLE_PERMISSIONS, Permission, Role
from tests.support.staff import StaffLogin, csrf_token
from tests.test_security_headers import concrete_urls

# The permission each guarded route needs; a route missing here fails the completeness test.
ROUTE_PERMISSIONS: dict[str, Permission] = {
    "staff.home": Permission.VIEW_OWN_ACCOUNT,
    "staff.officer_shares": Permission.READ_OFFICER_SHARES,
    "api.sb53_share_recipients": Permission.HANDLE_CASES,
    "api.sb53_share_write": Permission.HANDLE_CASES,
    "api.officer_share_list": Permission.READ_OFFICER_SHARES,
    "staff.password": Permission.VIEW_OWN_ACCOUNT,
    "staff.password_submit": Permission.VIEW_OWN_ACCOUNT,
    "staff.admin_staff": Permission.MANAGE_STAFF,
    "staff.admin_disable": Permission.MANAGE_STAFF,
    "staff.admin_invite": Permission.MANAGE_STAFF,
    "staff.passkeys_page": Permission.VIEW_OWN_ACCOUNT,
    "staff.admin_passkeys": Permission.MANAGE_STAFF,
    "staff.admin_passkey_roles": Permission.MANAGE_STAFF,
    **{f"auth.{name}": Permission.VIEW_OWN_ACCOUNT for name in (
        "ceremony_options", "register", "store_unlock_copy", "rename", "remove", "step_up",
        "step_up_submit", "unlock")},
    "governance.home": Permission.VIEW_STATISTICS,
    "deadlines.dashboard": Permission.VIEW_DEADLINES,
    "deadlines.quarterly_pack": Permission.VIEW_DEADLINES,
    "deadlines.case_deadlines": Permission.HANDLE_CASES,
    "deadlines.case_action": Permission.HANDLE_CASES,
    "deadlines.preferences": Permission.VIEW_OWN_ACCOUNT,
    "deadlines.admin_notifications": Permission.MANAGE_STAFF,
    "deadlines.admin_retry": Permission.MANAGE_STAFF,
    "deadlines.admin_email": Permission.MANAGE_STAFF,
    "governance.pack_page": Permission.VIEW_STATISTICS,
    "governance.pack_export": Permission.VIEW_STATISTICS,
    "governance.pack_delivered": Permission.VIEW_STATISTICS,
    "governance.audit_trail": Permission.VIEW_AUDIT_TRAIL,
    "api.legal_hold": Permission.HANDLE_CASES,
    **{f"api.{name}": Permission.HANDLE_CASES for name in (
        "case_list", "case_open", "case_detail", "case_record", "case_transition", "case_assign",
        "case_share", "case_revoke", "case_recuse", "case_identity", "case_link",
        "staff_attachment", "staff_attachment_start", "staff_attachment_status",
        "staff_attachment_chunk", "staff_attachment_complete", "case_handover", "case_export",
        "case_intake", "case_record_destroy", "case_attachment_destroy", "case_data_request",
        "case_data_request_answer")},
    "staff.cases_inbox": Permission.HANDLE_CASES,
    "staff.case_new": Permission.HANDLE_CASES,
    "staff.case_page": Permission.HANDLE_CASES,
}
PUBLIC_ENDPOINTS = {
    "static", "api.key_directory", "auth.login", "auth.staff_session", "auth.prelogin",
    "auth.login_submit", "auth.logout", "auth.logged_out", "auth.enrol", "auth.enrol_submit",
    "auth.activate", "auth.activate_open", "auth.activate_complete", "auth.recover",
    "auth.recover_begin", "auth.recover_complete", "auth.sign_in_options",
    # the reporter's API: no account; the reporter endpoints check the reporter session
    "api.reporter_session", "api.report_options", "api.proof_of_work_challenge",
    "api.report_readers", "api.submit_report",
    "api.reporter_open", "api.reporter_case", "api.reporter_message", "api.reporter_leave",
    "api.reporter_agree_minutes",
    "api.reporter_attachment", "api.reporter_attachment_start", "api.reporter_attachment_status",
    "api.reporter_attachment_chunk", "api.reporter_attachment_complete",
    "api.openapi",
}


# The reporter's surface has no accounts: every page there is public by design.
PUBLIC_BLUEPRINTS = {"reporter", "reporter_plain"}


def test_every_route_is_classified(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()
                 if rule.endpoint.split(".")[0] not in PUBLIC_BLUEPRINTS}
    assert endpoints == set(ROUTE_PERMISSIONS) | PUBLIC_ENDPOINTS


def guarded_requests(app: Flask) -> list[tuple[str, str, str]]:
    return [(rule.endpoint, method, url) for rule, method, url in concrete_urls(app)
            if rule.endpoint in ROUTE_PERMISSIONS]


@pytest.mark.parametrize("role", list(Role))
def test_matrix_for_role(app: Flask, client: FlaskClient, staff: StaffLogin, role: Role) -> None:
    target = staff.create("target", Role.EXECUTIVE)
    account = staff.create(f"holder-{role.value}", role)
    staff.login(client, account)
    allowed = ROLE_PERMISSIONS[role]
    for endpoint, method, url in guarded_requests(app):
        url = url.replace("/1/", f"/{target.id}/")
        token = csrf_token(client, "/staff/")
        response = client.open(url, method=method, data={"csrf_token": token},
                               headers={"X-CSRFToken": token})
        needed = ROUTE_PERMISSIONS[endpoint]
        if needed in allowed:
            assert response.status_code not in (401, 403), f"{role} {method} {url}"
        else:
            assert response.status_code == 403, f"{role} {method} {url}: {response.status_code}"


def test_anonymous_is_sent_to_sign_in(app: Flask, client: FlaskClient) -> None:
    for _endpoint, method, url in guarded_requests(app):
        response = client.open(url, method=method, data={"csrf_token": csrf_token(client)})
        if url.startswith("/api/"):  # a script gets an answer it can act on, not a page
            assert response.status_code == 401, url
        else:
            assert response.status_code == 302 and "/auth/login" in response.location, url


def test_enrolment_session_reaches_no_staff_page(app: Flask, client: FlaskClient,
                                                 staff: StaffLogin) -> None:
    account = staff.create("newcomer", Role.RSO, enrolled=False)
    staff.login(client, account)
    for _endpoint, method, url in guarded_requests(app):
        if method == "GET" and url.startswith("/api/"):
            assert client.get(url).status_code == 401, url
        elif method == "GET":
            response = client.get(url)
            assert response.status_code == 302 and response.location.endswith("/auth/enrol")
