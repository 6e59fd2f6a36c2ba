"""Staff sign-in. The pages are thin; the browser does the key derivation and unwrapping."""

from __future__ import annotations

import re
from typing import Any

import segno
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup

from app import get_config
from app.auth import sessions
from app.extensions import db
from app.json_input import b64, bytes_field, json_body, text_field
from app.models import SessionPrincipal
from app.services import staff_accounts
from app.services.staff_accounts import USERNAME_PATTERN, AccountError, AccountLocked

bp = Blueprint("auth", __name__, url_prefix="/auth")
_USERNAME = re.compile(USERNAME_PATTERN)


def _username(data: dict[str, Any]) -> str:
    username = text_field(data, "username", max_length=64).strip().lower()
    if not _USERNAME.fullmatch(username):
        abort(400, description="A username is 2 to 64 letters, digits, dots, dashes or "
              "underscores.")
    return username


@bp.get("/login")
def login() -> str:
    return render_template("auth/login.html")


@bp.post("/prelogin")
def prelogin() -> Response:
    data = json_body()
    config = get_config(current_app)
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
    totp_code = text_field(data, "totp", max_length=16, allow_empty=True).strip()
    config = get_config(current_app)
    try:
        staff = staff_accounts.authenticate(db.session, username, login_secret, totp_code, config)
    except AccountLocked as error:
        return jsonify(error="locked", message=str(error)), 429
    except AccountError as error:
        return jsonify(error="login_failed", message=str(error)), 401
    stage = sessions.STAGE_FULL if staff.totp_enrolled_at else sessions.STAGE_ENROLMENT
    # A fresh cookie session (and CSRF token) at every login: nothing from before carries over.
    session.clear()
    principal = sessions.open_session(staff, stage)
    db.session.commit()
    login_user(principal)
    next_url = url_for("staff.home") if stage == sessions.STAGE_FULL else url_for("auth.enrol")
    return jsonify(
        wrapped_private_key=b64(staff.wrapped_private_key),
        staff_id=str(staff.id),
        next=next_url,
    )


def _enrolling_principal() -> SessionPrincipal:
    principal = current_user._get_current_object()
    if not isinstance(principal, SessionPrincipal):
        abort(401)
    if principal.session.stage != sessions.STAGE_ENROLMENT:
        abort(409, description="Two-factor authentication is already set up.")
    return principal


@bp.get("/enrol")
def enrol() -> str | Response:
    principal = current_user._get_current_object()
    if not isinstance(principal, SessionPrincipal):
        return redirect(url_for("auth.login"))  # type: ignore[return-value]
    if principal.session.stage != sessions.STAGE_ENROLMENT:
        return redirect(url_for("staff.home"))  # type: ignore[return-value]
    secret, uri = staff_accounts.totp_provisioning(principal.staff)
    db.session.commit()
    # Rendered here as SVG markup: the secret never goes to an outside QR service.
    qr_svg = Markup(segno.make(uri, error="m").svg_inline(scale=5))  # noqa: S704 - segno's own SVG
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
        staff_accounts.complete_enrolment(principal.staff, code, recovery_salt, recovery_wrapped)
    except AccountError as error:
        db.session.commit()  # keeps the consumed TOTP step, so the code cannot be replayed
        return jsonify(error="enrolment_failed", message=str(error)), 400
    principal.session.stage = sessions.STAGE_FULL
    db.session.commit()
    return jsonify(next=url_for("staff.home"))


@bp.post("/logout")
def logout() -> Response:
    principal = current_user._get_current_object()
    if isinstance(principal, SessionPrincipal):
        sessions.close_session(principal)
        db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.logged_out"))  # type: ignore[return-value]


@bp.get("/logged-out")
def logged_out() -> str:
    return render_template("auth/logged_out.html")
