"""The one decorator that guards every staff view and hands it the signed-in principal."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, redirect, request, url_for
from flask_login import current_user

from app.models import SessionPrincipal
from app.roles import Permission
from app.services.staff_sessions import STAGE_FULL

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
            return view(*args, principal=principal, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
