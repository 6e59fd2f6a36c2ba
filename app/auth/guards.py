"""The one decorator that guards every staff view and hands it the signed-in principal."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_login import current_user

from app.extensions import db
from app.models import SessionPrincipal
from app.roles import Permission
from app.services import passkeys
from app.services.staff_sessions import STAGE_FULL
from app.state import candor

View = TypeVar("View", bound=Callable[..., Any])


def staff_required(permission: Permission) -> Callable[[View], View]:
    """Require a fully signed-in staff member holding ``permission``; pass them as ``principal``.

    Anonymous visitors are sent to the login page (API callers get 401); a session still in
    TOTP enrolment is sent to finish it; a missing permission is a 403.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            principal = current_user._get_current_object()
            if not isinstance(principal, SessionPrincipal):
                if request.path.startswith("/api/"):
                    abort(401)
                return redirect(url_for("auth.login"))
            if principal.session.stage != STAGE_FULL:
                if request.path.startswith("/api/"):
                    abort(401)
                return redirect(url_for("auth.enrol"))
            if not principal.staff.can(permission):
                abort(403)
            if request.endpoint not in PASSKEY_SETUP_ENDPOINTS and _must_register_passkey(
                    principal):
                if request.path.startswith("/api/"):
                    abort(403, description="Your role signs in with a passkey: register one "
                                           "on your Passkeys page first.")
                flash("Your role signs in with a passkey. Register one now: until you do, the "
                      "other staff pages stay closed.", "error")
                return redirect(url_for("staff.passkeys_page"))
            return view(*args, principal=principal, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


# What a person whose role requires a passkey, and who has none, may still reach: the page and
# calls that register one (and the step-up that adding one asks for).
PASSKEY_SETUP_ENDPOINTS = frozenset({
    "staff.passkeys_page", "auth.ceremony_options", "auth.register", "auth.store_unlock_copy",
    "auth.step_up", "auth.step_up_submit", "auth.rename",
})


def _must_register_passkey(principal: SessionPrincipal) -> bool:
    """A role's requirement applies only where passkeys are set up: without them nobody could
    meet it, and nobody must be shut out for it."""
    return (passkeys.RelyingParty.from_config(candor().config) is not None
            and passkeys.passkey_required(db.session, principal.staff)
            and not passkeys.has_passkey(db.session, principal.staff))


def step_up_required(view: View) -> View:
    """For the actions that matter most (revealing a reporter's identity, sharing or revoking a
    case, disabling or inviting staff, redirecting someone's notices): refuse unless this
    session made a fresh user verification within ``step_up_seconds`` (a passkey with user
    verification, or TOTP where no passkey counts; signing in counts when made that way).
    Place it under ``staff_required``. Calls get 403 ``{"error": "step_up_required"}``; a form
    is sent to the step-up page and back."""

    @wraps(view)
    def wrapped(*args: Any, principal: SessionPrincipal, **kwargs: Any) -> Any:
        window = candor().config.step_up_seconds
        if not passkeys.freshly_verified(principal.session, window):
            if request.path.startswith("/api/") or request.is_json:
                return jsonify(error="step_up_required", step_up=url_for("auth.step_up"),
                               message="Confirm it is you first: use your passkey (or, if you "
                                       "have none, a code from your authenticator app), then "
                                       "try again."), 403
            flash("Confirm it is you, then do it again.", "error")
            return redirect(url_for("auth.step_up", next=STEP_UP_RETURN.get(
                request.endpoint or "", "/staff/")))
        return view(*args, principal=principal, **kwargs)

    return wrapped  # type: ignore[return-value]


# Where a form refused for want of a step-up sends the person back to (no Referer is sent).
STEP_UP_RETURN = {"staff.admin_disable": "/staff/admin/staff",
                  "staff.admin_invite": "/staff/admin/staff",
                  "deadlines.admin_email": "/staff/admin/notifications",
                  "staff.admin_passkey_roles": "/staff/admin/passkeys"}
