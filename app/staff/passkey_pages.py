"""The staff member's passkeys page, and the administrator's choice of roles that must use one.
The ceremonies themselves are calls under /auth/passkeys (app/auth/passkeys.py)."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, url_for

from app.auth.guards import staff_required, step_up_required
from app.extensions import db
from app.models import SessionPrincipal
from app.roles import Permission, Role
from app.services import audit, passkeys
from app.services.passkeys import RelyingParty
from app.staff.blueprint import bp
from app.staff.forms import PasskeyRolesForm
from app.state import candor


@bp.get("/account/passkeys")
@staff_required(Permission.VIEW_OWN_ACCOUNT)
def passkeys_page(principal: SessionPrincipal) -> str:
    staff = principal.staff
    return render_template(
        "staff/passkeys.html", principal=principal,
        passkeys=passkeys.list_passkeys(db.session, staff),
        passkeys_on=RelyingParty.from_config(candor().config) is not None,
        required=passkeys.passkey_required(db.session, staff),
    )


def _roles_page(principal: SessionPrincipal, form: PasskeyRolesForm) -> str:
    return render_template("staff/admin_passkeys.html", principal=principal, form=form,
                           passkeys_on=RelyingParty.from_config(candor().config)
                           is not None)


@bp.get("/admin/passkeys")
@staff_required(Permission.MANAGE_STAFF)
def admin_passkeys(principal: SessionPrincipal) -> str:
    form = PasskeyRolesForm(data={"roles": sorted(passkeys.required_roles(db.session))})
    return _roles_page(principal, form)


@bp.post("/admin/passkeys")
@staff_required(Permission.MANAGE_STAFF)
@step_up_required
def admin_passkey_roles(principal: SessionPrincipal) -> Response | tuple[str, int]:
    form = PasskeyRolesForm()
    if not form.validate_on_submit():
        return _roles_page(principal, form), 400
    chosen = {Role(value) for value in form.roles.data or []}
    for role in Role:
        if passkeys.set_role_requirement(db.session, role, role in chosen, principal.staff):
            audit.record(db.session, "staff.passkey_requirement_changed",
                         actor=audit.actor_for(principal.staff),
                         detail={"role": role.value, "required": role in chosen})
    db.session.commit()
    flash("Saved. Holders of the chosen roles sign in with a passkey; those who have none yet "
          "are asked to register one at their next sign-in.", "success")
    return redirect(url_for(".admin_passkeys"))  # type: ignore[return-value]
