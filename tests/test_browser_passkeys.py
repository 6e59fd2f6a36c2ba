"""Staff passkeys in Chromium with its virtual authenticators (DevTools protocol, ``WebAuthn``
domain: CTAP2, internal transport, resident keys, user verification, and the PRF extension,
which Debian Chromium 156 supports: ``hasPrf``), against Candor's real server: register a passkey
in the page, sign in with password and passkey, step up before revealing a reporter's identity,
unlock the private key with the passkey's PRF output and decrypt a case, remove the passkey, and
recover after losing every passkey; several passkeys, one without PRF; and, for someone with no
passkey, the step-up as a TOTP code (in the page before sharing, on the step-up page before
disabling staff). An assertion made on another origin, by a second virtual
authenticator on a second loopback site, is refused."""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select, update
from werkzeug.serving import make_server

from app.extensions import db
from app.models import AuditEntry, StaffPasskey, StaffSession, StaffUser, utcnow
from app.roles import Role
from app.services import passkeys
from tests.conftest import PageLog, free_port, organisation_app
from tests.support.staff import Account, StaffLogin, csrf_token
from tests.test_browser_cases import IDENTITY, REPORT, file_report, open_from_inbox
from tests.test_browser_staff import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def app(tmp_path: Path, database_url: str, port: int) -> Iterator[Flask]:
    """The app with passkeys on: WebAuthn needs a host name (an IP address is never an RP id),
    so the pages are served as http://localhost:<port>, which browsers treat as secure."""
    with organisation_app(tmp_path, database_url, webauthn_rp_id="localhost",
                          webauthn_origin=f"http://localhost:{port}") as application:
        yield application


@pytest.fixture
def live_server(app: Flask, port: int) -> Iterator[str]:
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{port}"
    server.shutdown()
    thread.join(timeout=10)


def add_authenticator(page: Any, prf: bool = True, verified: bool = True) -> tuple[Any, str]:
    """A virtual platform authenticator in this page's browser context."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    made = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "ctap2Version": "ctap2_1", "transport": "internal",
        "hasResidentKey": True, "hasUserVerification": True, "isUserVerified": verified,
        "hasPrf": prf, "automaticPresenceSimulation": True}})
    return cdp, made["authenticatorId"]


@pytest.fixture
def rso(staff: StaffLogin) -> Account:
    return staff.create("rso-browser", Role.RSO, password="a long and memorable passphrase")


def sign_in_with_password(page: Any, base: str, account: Account, app: Flask) -> None:
    sign_in(page, base, account.username, account.password, fresh_code(app, account))
    page.wait_for_url("**/staff/**")


def fresh_code(app: Flask, account: Account) -> str:
    """A TOTP code that works now (as if its 30-second step had just begun)."""
    with app.app_context():
        db.session.execute(update(StaffUser).where(StaffUser.id == account.id)
                           .values(last_totp_step=None))
        db.session.commit()
    return account.totp_now()


def add_passkey(page: Any, base: str, name: str) -> None:
    page.goto(base + "/staff/account/passkeys")
    page.fill("#passkey_name", name)
    page.click("#passkey-add-form button[type=submit]")
    expect(page.locator("#passkey-list")).to_contain_text(name, timeout=30_000)


def key_unlocked(page: Any) -> None:
    expect(page.locator("#key-state")).to_contain_text("is unlocked in this tab only",
                                                       timeout=30_000)


def stale(app: Flask, account: Account) -> None:
    with app.app_context():
        db.session.execute(update(StaffSession).where(StaffSession.staff_id == account.id)
                           .values(verified_at=utcnow() - timedelta(hours=1)))
        db.session.commit()


def trail(app: Flask) -> list[tuple[str, str]]:
    with app.app_context():
        return [(e.action, e.detail) for e in db.session.scalars(
            select(AuditEntry).order_by(AuditEntry.id))]


def test_register_sign_in_step_up_unlock_decrypt_and_remove(
        page: Any, page_log: PageLog, live_server: str, app: Flask, rso: Account) -> None:
    number, _codename, _reporter = file_report(app, text=REPORT, identity=IDENTITY)
    cdp, authenticator = add_authenticator(page)
    sign_in_with_password(page, live_server, rso, app)
    key_unlocked(page)

    # register: the PRF output wraps a second copy of the private key in the page
    add_passkey(page, live_server, "work laptop")
    expect(page.locator("#passkey-list .passkey-prf")).to_have_text("yes")
    page.fill("#passkey-list .passkey-name", "office laptop")
    page.click("#passkey-list .passkey-rename")
    expect(page.locator("#passkey-list .passkey-name")).to_have_value("office laptop")
    with app.app_context():
        row = db.session.scalars(select(StaffPasskey)).one()
        staff_row = db.session.get(StaffUser, rso.id)
        assert row.prf_wrapped_private_key is not None and staff_row is not None
        public_key = staff_row.public_key
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert [c["isResidentCredential"] for c in credentials["credentials"]] == [True]

    # sign in with password and passkey, no code
    page.click("form[action$='/auth/logout'] button")
    page.goto(live_server + "/auth/login")
    page.fill("#username", rso.username)
    page.fill("#password", rso.password)
    page.click("#passkey-login-button")
    page.wait_for_url("**/staff/")
    key_unlocked(page)
    assert ("auth.login", '{"method":"passkey"}') in trail(app)

    # the key leaves the tab (as a new tab has none): the passkey alone unlocks it
    page.evaluate("sessionStorage.clear()")
    page.reload()
    expect(page.locator("#key-state")).to_contain_text("not unlocked")
    page.click("#passkey-unlock")
    key_unlocked(page)
    unlocked = page.evaluate("sessionStorage.getItem('candor.staff.public')")
    assert base64.b64decode(unlocked) == public_key
    open_from_inbox(page, live_server, number)
    expect(page.locator("#report-text")).to_have_text(REPORT)  # decrypted with that key

    # step-up: without a fresh verification the server refuses the reveal; the page then asks
    # the passkey (with user verification) and sends it again
    stale(app, rso)
    refused = page.evaluate(REVEAL, {"url": f"/api/v1/staff/cases/{number}/identity"})
    assert refused == {"status": 403, "error": "step_up_required"}
    assert not any(action == "case.identity_revealed" for action, _ in trail(app))
    page.click("#identity-reveal")
    page.select_option("#identity-reason", "investigation_need")
    page.click("#identity-confirm-yes")
    expect(page.locator("#identity-text")).to_have_text(IDENTITY, timeout=30_000)
    assert ("auth.step_up", '{"method":"passkey"}') in trail(app)

    # remove it: its copy of the key goes with it
    page.goto(live_server + "/staff/account/passkeys")
    page.click("#passkey-list .passkey-remove")
    expect(page.locator("#passkey-none")).to_be_visible(timeout=30_000)
    with app.app_context():
        assert db.session.scalars(select(StaffPasskey)).first() is None
    page.goto(live_server + "/staff/")
    expect(page.locator("#passkey-unlock")).to_have_count(0)
    # Chromium logs the server's 403 asking for the step-up; nothing else went wrong.
    assert [e for e in page_log.console_errors if "403 (FORBIDDEN)" not in e] == []


REVEAL = """async ({url}) => {
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const response = await fetch(url, { method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": token },
    body: JSON.stringify({ reason: "investigation_need" }) });
  return { status: response.status, error: (await response.json()).error };
}"""


def test_recover_after_losing_every_passkey(
        page: Any, live_server: str, app: Flask, staff: StaffLogin, rso: Account) -> None:
    from tests.test_auth import _give_recovery_code

    recovery_code = _give_recovery_code(app, staff, rso)
    cdp, authenticator = add_authenticator(page)
    with app.app_context():
        admin = staff.create("admin-browser", Role.ADMIN)
        passkeys.set_role_requirement(db.session, Role.RSO, True,
                                      db.session.get(StaffUser, admin.id))  # type: ignore[arg-type]
        db.session.commit()
    sign_in_with_password(page, live_server, rso, app)
    # a role that must use passkeys: the person is led to register one first
    expect(page.locator("#passkey-required")).to_be_visible()
    add_passkey(page, live_server, "only passkey")
    page.click("form[action$='/auth/logout'] button")

    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})  # lost
    sign_in(page, live_server, rso.username, rso.password, fresh_code(app, rso))
    expect(page.locator("#login-error")).to_contain_text("passkey")

    page.goto(live_server + "/auth/recover")
    page.fill("#username", rso.username)
    page.fill("#recovery_code", recovery_code)
    page.fill("#totp", fresh_code(app, rso))
    page.fill("#new_password", "a replacement passphrase")
    page.fill("#repeat_password", "a replacement passphrase")
    page.check("#remove_passkeys")
    page.click("#recover-form button[type=submit]")
    page.wait_for_selector("#recover-done:not([hidden])")
    with app.app_context():
        assert db.session.scalars(select(StaffPasskey)).first() is None

    add_authenticator(page)  # a new device
    sign_in(page, live_server, rso.username, "a replacement passphrase", fresh_code(app, rso))
    page.wait_for_url("**/staff/account/passkeys")
    add_passkey(page, live_server, "new phone")
    page.goto(live_server + "/staff/")
    key_unlocked(page)  # the password copy of the same key pair


def test_several_passkeys_one_without_prf(
        page: Any, live_server: str, app: Flask, rso: Account) -> None:
    """An old security key without PRF signs in but holds no copy of the key; a second
    passkey, on a device with PRF, does; both are listed."""
    cdp, old_key = add_authenticator(page, prf=False)
    sign_in_with_password(page, live_server, rso, app)
    add_passkey(page, live_server, "old key")
    expect(page.locator("#passkey-list .passkey-prf")).to_have_text("no")
    page.goto(live_server + "/staff/")
    expect(page.locator("#passkey-unlock")).to_have_count(0)

    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": old_key})
    add_authenticator(page)
    add_passkey(page, live_server, "new laptop")
    names = page.locator("#passkey-list .passkey-name").evaluate_all(
        "(inputs) => inputs.map((input) => input.value)")
    assert names == ["old key", "new laptop"]
    expect(page.locator("#passkey-list .passkey-prf")).to_have_text(["no", "yes"])
    page.goto(live_server + "/staff/")
    expect(page.locator("#passkey-unlock")).to_have_count(1)


@pytest.fixture
def people(staff: StaffLogin) -> dict[str, Account]:
    return {name: staff.create(name, role) for name, role in (
        ("rso1", Role.RSO), ("rso2", Role.RSO), ("exec1", Role.EXECUTIVE),
        ("board1", Role.BOARD))}


def test_sharing_past_the_window_asks_for_a_code_in_the_page(
        page: Any, live_server: str, app: Flask, people: dict[str, Account]) -> None:
    """Without a passkey, the step-up before sharing is a TOTP code the page asks for; the
    share then goes through, and the trail records the confirmation."""
    rso1 = people["rso1"]
    sign_in_with_password(page, live_server, rso1, app)
    key_unlocked(page)
    page.goto(live_server + "/staff/cases/new")
    page.select_option("#new-category", "weights-security")
    page.fill("#new-text", "Weights were copied to an unmanaged laptop.")
    page.click("#new-case-form button[type=submit]")
    page.wait_for_url("**/staff/cases/C-*")
    stale(app, rso1)
    page.select_option("#share-person", label="exec1")
    page.click("#share-form button[type=submit]")
    page.fill("#step-up-code", fresh_code(app, rso1))
    page.click("#step-up-dialog button[type=submit]")
    expect(page.locator("#case-members")).to_contain_text("exec1", timeout=30_000)
    assert ("auth.step_up", '{"method":"totp"}') in trail(app)


class _PhishingSite(BaseHTTPRequestHandler):
    """A page on another loopback origin: one empty HTML document, where the test's script
    asks its own virtual authenticator for an assertion over Candor's challenge."""

    def do_GET(self) -> None:
        body = b"<!doctype html><title>Candor sign-in</title><p>Sign in"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


def test_an_assertion_made_on_another_origin_is_refused(
        make_page: Any, page: Any, live_server: str, app: Flask, rso: Account) -> None:
    """A look-alike site on another origin relays Candor's sign-in challenge. The browser lets
    it ask only for its own RP id, so even the person's own registered key (copied here into
    the look-alike's authenticator, the worst case) signs for the wrong origin and RP id: the
    signature is genuine, and Candor refuses it."""
    cdp, authenticator = add_authenticator(page)
    sign_in_with_password(page, live_server, rso, app)
    add_passkey(page, live_server, "laptop")
    registered = cdp.send("WebAuthn.getCredentials",
                          {"authenticatorId": authenticator})["credentials"][0]

    phishing = ThreadingHTTPServer(("127.0.0.1", 0), _PhishingSite)
    threading.Thread(target=phishing.serve_forever, daemon=True).start()
    try:
        victim = make_page()
        victim_cdp, victim_authenticator = add_authenticator(victim)
        victim_cdp.send("WebAuthn.addCredential", {
            "authenticatorId": victim_authenticator, "credential": {
                "credentialId": registered["credentialId"], "isResidentCredential": True,
                "rpId": "candor-login.localhost", "privateKey": registered["privateKey"],
                "userHandle": registered["userHandle"], "signCount": registered["signCount"]}})
        site = f"http://candor-login.localhost:{phishing.server_address[1]}"
        victim.goto(site + "/")
        # Nor can the look-alike ask for Candor's RP id from its own origin: the browser refuses.
        client = app.test_client()
        options = client.post("/auth/passkeys/sign-in/options", json={},
                              headers={"X-CSRFToken": csrf_token(client)}).get_json()["options"]
        assert victim.evaluate(PHISH_OUR_RP, {"challenge": options["challenge"]}) == "SecurityError"

        options = client.post("/auth/passkeys/sign-in/options", json={},
                              headers={"X-CSRFToken": csrf_token(client)}).get_json()["options"]
        made = victim.evaluate(PHISH, {"challenge": options["challenge"],
                                       "rpId": "candor-login.localhost"})
        client_data = json.loads(base64.urlsafe_b64decode(
            made["response"]["clientDataJSON"] + "=="))
        assert client_data["origin"] == site
        assert base64.urlsafe_b64decode(made["rawId"] + "==") == base64.b64decode(
            registered["credentialId"])  # the registered passkey's own id and key
        refused = client.post("/auth/login", json={
            "username": rso.username, "login_secret": _login_secret(app, rso, client),
            "passkey": made}, headers={"X-CSRFToken": csrf_token(client)})
        assert refused.status_code == 401
        assert refused.get_json()["error"] == "login_failed"
    finally:
        phishing.shutdown()
        phishing.server_close()


def _login_secret(app: Flask, account: Account, client: Any) -> str:
    return base64.b64encode(StaffLogin(app).login_secret(client, account.username,
                                                         account.password)).decode()


_ENCODE = """
const b64url = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)))
  .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
const unb64url = (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")
  + "===".slice((text.length + 3) % 4)), (c) => c.charCodeAt(0));
"""

PHISH = "async ({challenge, rpId}) => {" + _ENCODE + """
  const c = await navigator.credentials.get({ publicKey: {
    challenge: unb64url(challenge), rpId, userVerification: "required" } });
  const r = c.response;
  return { id: c.id, rawId: b64url(c.rawId), type: c.type, clientExtensionResults: {},
           response: { clientDataJSON: b64url(r.clientDataJSON),
                       authenticatorData: b64url(r.authenticatorData),
                       signature: b64url(r.signature), userHandle: b64url(r.userHandle) } };
}"""

PHISH_OUR_RP = "async ({challenge}) => {" + _ENCODE + """
  try {
    await navigator.credentials.get({ publicKey: {
      challenge: unb64url(challenge), rpId: "localhost", userVerification: "required" } });
    return "no error";
  } catch (error) { return error.name; }
}"""


def test_disabling_staff_past_the_window_asks_for_a_code_where_there_is_no_passkey(
        page: Any, live_server: str, app: Flask, staff: StaffLogin) -> None:
    admin = staff.create("admin-stepup", Role.ADMIN)
    target = staff.create("target-stepup", Role.EXECUTIVE)
    sign_in_with_password(page, live_server, admin, app)
    stale(app, admin)
    page.goto(live_server + "/staff/admin/staff")
    page.click(f"text=Disable {target.username}")
    page.wait_for_url(re.compile(r"/auth/step-up\?next="))
    page.fill("#totp", fresh_code(app, admin))
    page.click("#step-up-form button[type=submit]")
    page.wait_for_url("**/staff/admin/staff")
    page.click(f"text=Disable {target.username}")
    expect(page.locator(".notice-success, .flash-success, [role=status]").first).to_contain_text(
        "is disabled")
    with app.app_context():
        row = db.session.get(StaffUser, target.id)
        assert row is not None and row.disabled_at is not None
    assert ("auth.step_up", '{"method":"totp"}') in trail(app)
