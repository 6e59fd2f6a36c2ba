"""Staff sign-in. The pages are thin; the browser does the key derivation and unwrapping."""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

import segno
from flask import (
    Response,
    abort,
    jsonify,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from app.auth import passkeys as passkey_routes
from app.auth import puzzles
from app.auth.blueprint import bp
from app.extensions import db
from app.json_input import (
    b64,
    bool_field,
    bytes_field,
    json_body,
    password_material,
    text_field,
)
from app.models import SessionPrincipal, StaffInvitation, StaffUser
from app.services import audit, invitations, passkeys, staff_accounts, staff_sessions
from app.services.staff_accounts import (
    USERNAME_PATTERN,
    AccountError,
    PasskeyNeeded,
    PuzzleNeeded,
)
from app.state import candor
from crypto.directory import fingerprint

_USERNAME = re.compile(USERNAME_PATTERN)


def _username(data: dict[str, Any]) -> str:
    username = text_field(data, "username", max_length=64).strip().lower()
    if not _USERNAME.fullmatch(username):
        abort(400, description="A username is 2 to 64 letters, digits, dots, dashes or "
              "underscores.")
    return username


@bp.get("/login")
def login() -> str:
    return render_template("auth/login.html", passkeys_on=passkeys.RelyingParty.from_config(
        candor().config) is not None)


@bp.get("/session")
def staff_session() -> Response:
    """A CSRF token of the staff session, for staff clients that are not pages. A reporter
    session's token (``GET /api/v1/session``) is no good here: each surface has its own
    cookie, and its own token. Signing in starts a new session: fetch a new token after it."""
    return jsonify(csrf_token=generate_csrf())


@bp.post("/prelogin")
def prelogin() -> Response:
    data = json_body()
    config = candor().config
    answer = staff_accounts.prelogin_parameters(db.session, _username(data), config)
    return jsonify(
        salt=b64(answer.salt),
        kdf={"version": answer.params.version, "opslimit": answer.params.opslimit,
             "memlimit": answer.params.memlimit},
    )


@bp.post("/login")
def login_submit() -> tuple[Response, int] | Response:
    data = json_body()
    username = _username(data)
    login_secret = bytes_field(data, "login_secret", size=staff_accounts.LOGIN_SECRET_SIZE)
    config = candor().config
    factor = _second_factor(data)
    try:
        staff = staff_accounts.authenticate(
            db.session, username, login_secret, factor, config, puzzles.solution(data),
            candor().spent_challenges(db.session))
    except PuzzleNeeded as needed:
        # Nothing was checked, so nothing is audited: an attempt that costs nothing must not
        # be able to fill the trail.
        return puzzles.puzzle_answer(needed)
    except AccountError as error:
        # The trail names the account only when it exists: a mistyped name is nobody's.
        known = staff_accounts.find_staff(db.session, username)
        if factor.passkey is not None:  # checked or not, the passkey's answer is spent
            passkeys.spend_challenge(db.session, passkey_routes.credential_field(
                data, "passkey"), passkeys.SIGN_IN)
        audit.record(db.session, "auth.login_failed", actor=audit.actor_for(known))
        db.session.commit()  # with it, the passkey challenge stays used
        code = "passkey_needed" if isinstance(error, PasskeyNeeded) else "login_failed"
        return jsonify(error=code, message=str(error)), 401
    method = "passkey" if factor.passkey is not None else "totp"
    audit.record(db.session, "auth.login", actor=audit.actor_for(staff),
                 detail={"method": method} if staff.totp_enrolled_at else None)
    stage = staff_sessions.STAGE_FULL if staff.totp_enrolled_at else staff_sessions.STAGE_ENROLMENT
    # A fresh cookie session (and CSRF token) at every login: nothing from before carries over.
    session.clear()
    principal = staff_sessions.open_session(db.session, staff, stage)
    # Signing in is a fresh verification, when it was made the way a step-up would be: with a
    # passkey, or with a code by someone for whom no passkey counts.
    if stage == staff_sessions.STAGE_FULL and (
            method == "passkey" or not passkey_routes.passkey_counts(staff)):
        passkeys.mark_verified(principal.session)
    db.session.commit()
    login_user(principal)
    full = stage == staff_sessions.STAGE_FULL
    next_url = url_for("staff.home") if full else url_for("auth.enrol")
    return jsonify(
        wrapped_private_key=b64(staff.wrapped_private_key),
        staff_id=str(staff.id),
        next=next_url,
    )


def _second_factor(data: dict[str, Any]) -> staff_accounts.SecondFactor:
    """The TOTP code, or a passkey's assertion (``passkey``), a sign-in brings."""
    if data.get("passkey") is not None:
        rp = passkey_routes.relying_party()
        return staff_accounts.SecondFactor(
            "", passkey=passkey_routes.sign_in_check(rp, passkey_routes.credential_field(
                data, "passkey")))
    return staff_accounts.SecondFactor(
        text_field(data, "totp", max_length=16, allow_empty=True).strip(),
        totp_allowed=passkey_routes.totp_allowed)


def _enrolling_principal() -> SessionPrincipal:
    principal = current_user._get_current_object()
    if not isinstance(principal, SessionPrincipal):
        abort(401)
    if principal.session.stage != staff_sessions.STAGE_ENROLMENT:
        abort(409, description="Two-factor authentication is already set up.")
    return principal


@bp.get("/enrol")
def enrol() -> str | Response:
    principal = current_user._get_current_object()
    if not isinstance(principal, SessionPrincipal):
        return redirect(url_for("auth.login"))  # type: ignore[return-value]
    if principal.session.stage != staff_sessions.STAGE_ENROLMENT:
        return redirect(url_for("staff.home"))  # type: ignore[return-value]
    if principal.staff.totp_enrolled_at is not None:
        # Another session finished enrolment first: this one must sign in again with a code.
        staff_sessions.close_session(db.session, principal)
        db.session.commit()
        logout_user()
        return redirect(url_for("auth.login"))  # type: ignore[return-value]
    secret, uri = staff_accounts.totp_provisioning(principal.staff)
    db.session.commit()
    # Rendered here as SVG markup: the secret never goes to an outside QR service.
    qr_svg = Markup(segno.make(uri, error="m").svg_inline(scale=5, omitsize=True))  # noqa: S704 - segno's own SVG  # nosec B704
    return render_template("auth/enrol.html", totp_secret=secret, qr_svg=qr_svg,
                           staff_id=principal.staff.id)


@bp.post("/enrol")
def enrol_submit() -> tuple[Response, int] | Response:
    principal = _enrolling_principal()
    data = json_body()
    code = text_field(data, "totp", max_length=16).strip()
    recovery_salt = bytes_field(data, "recovery_salt")
    recovery_wrapped = bytes_field(data, "recovery_wrapped_private_key")
    try:
        staff_accounts.complete_enrolment(db.session, principal.staff, code, recovery_salt,
                                          recovery_wrapped)
    except AccountError as error:
        db.session.commit()  # keeps the consumed TOTP step, so the code cannot be replayed
        return jsonify(error="enrolment_failed", message=str(error)), 400
    principal.session.stage = staff_sessions.STAGE_FULL
    passkeys.mark_verified(principal.session)
    staff_sessions.close_all_sessions(db.session, principal.staff, keep=principal.session)
    db.session.commit()
    return jsonify(next=url_for("staff.home"))


# The invitation token travels in the link's fragment (/auth/activate#TOKEN), which browsers
# never send, and then in POST bodies: it appears in no request line and so in no access log.
INVITATION_MISSING = ("This invitation link does not work: it may have been used or have "
                      "expired. Ask an administrator for a new one.")


@bp.get("/activate")
def activate() -> str:
    return render_template("auth/activate.html")


def _invitation(data: dict[str, Any]) -> StaffInvitation:
    token = text_field(data, "token", max_length=128).strip()
    invitation = invitations.open_invitation(db.session, token)
    if invitation is None:
        abort(404, description=INVITATION_MISSING)
    return invitation


@bp.post("/activate/open")
def activate_open() -> Response:
    invitation = _invitation(json_body())
    params = staff_accounts.staff_kdf_params(candor().config)
    return jsonify(username=invitation.staff.username, staff_id=str(invitation.staff.id),
                   kdf_version=params.version)


@bp.post("/activate/complete")
def activate_complete() -> tuple[Response, int] | Response:
    data = json_body()
    invitation = _invitation(data)
    try:
        staff = invitations.activate(
            invitation, password=password_material(data),
            public_key=bytes_field(data, "public_key"), config=candor().config,
        )
    except AccountError as error:
        return jsonify(error="activation_failed", message=str(error)), 400
    audit.record(db.session, "staff.activated", actor=audit.actor_for(staff))
    db.session.commit()
    return jsonify(
        message=("Your account is ready. Before reports can be encrypted to you, the operator "
                 "signs your key; tell them this fingerprint so they can check it:"),
        fingerprint=fingerprint(staff.public_key),
        next=url_for("auth.login"),
    )


RECOVERY_SESSION_KEY = "recovery"
RECOVERY_WINDOW_SECONDS = 300


@bp.get("/recover")
def recover() -> str:
    return render_template("auth/recover.html")


@bp.post("/recover/begin")
def recover_begin() -> tuple[Response, int] | Response:
    data = json_body()
    username = _username(data)
    totp_code = text_field(data, "totp", max_length=16).strip()
    config = candor().config
    try:
        started = staff_accounts.begin_recovery(db.session, username, totp_code, config,
                                                puzzles.solution(data),
                                                candor().spent_challenges(db.session))
    except PuzzleNeeded as needed:
        return puzzles.puzzle_answer(needed)
    except AccountError as error:
        return jsonify(error="recovery_failed", message=str(error)), 401
    db.session.commit()
    staff = started.staff
    # The cookie holds only a digest of the challenge, never the challenge: even someone who
    # could open the sealed cookie could not answer it without the private key.
    session[RECOVERY_SESSION_KEY] = {
        "staff_id": staff.id,
        "digest": started.challenge_digest.hex(),
        # A copy of this cookie cannot be replayed: completing recovery changes the salt.
        "salt": hashlib.sha256(staff.kdf_salt).hexdigest(),
        "expires": time.time() + RECOVERY_WINDOW_SECONDS,
    }
    assert staff.recovery_salt is not None and staff.recovery_wrapped_private_key is not None
    return jsonify(
        staff_id=str(staff.id),
        recovery_salt=b64(staff.recovery_salt),
        recovery_wrapped_private_key=b64(staff.recovery_wrapped_private_key),
        sealed_challenge=b64(started.sealed_challenge),
        kdf_version=staff_accounts.staff_kdf_params(config).version,
    )


@bp.post("/recover/complete")
def recover_complete() -> tuple[Response, int] | Response:
    pending = session.pop(RECOVERY_SESSION_KEY, None)
    if not isinstance(pending, dict) or pending.get("expires", 0) < time.time():
        return jsonify(error="recovery_expired",
                       message="This recovery has expired. Start again."), 400
    staff = db.session.get(StaffUser, pending["staff_id"])
    if (staff is None or staff.disabled_at is not None
            or hashlib.sha256(staff.kdf_salt).hexdigest() != pending.get("salt")):
        abort(400, description="This recovery has expired. Start again.")
    data = json_body()
    try:
        staff_accounts.complete_recovery(
            db.session,
            staff,
            challenge=bytes_field(data, "challenge"),
            expected_digest=bytes.fromhex(pending["digest"]),
            new=password_material(data),
            config=candor().config,
        )
    except AccountError as error:
        return jsonify(error="recovery_failed", message=str(error)), 400
    # Whoever knew the old password is signed out.
    staff_sessions.close_all_sessions(db.session, staff)
    removed = passkeys.remove_all(db.session, staff) if bool_field(data, "remove_passkeys") else 0
    audit.record(db.session, "auth.password_recovered", actor=audit.actor_for(staff),
                 detail={"passkeys_removed": removed} if removed else None)
    db.session.commit()
    return jsonify(message="Your password is reset. Sign in with it now.",
                   next=url_for("auth.login"))


@bp.post("/logout")
def logout() -> Response:
    principal = current_user._get_current_object()
    if isinstance(principal, SessionPrincipal):
        staff_sessions.close_session(db.session, principal)
        audit.record(db.session, "auth.logout", actor=audit.actor_for(principal.staff))
        db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.logged_out"))  # type: ignore[return-value]


@bp.get("/logged-out")
def logged_out() -> str:
    return render_template("auth/logged_out.html")
