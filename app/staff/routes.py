"""The staff surface: home, own account, and staff administration."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    url_for,
)
from flask_wtf import FlaskForm

from app.auth import puzzles
from app.auth.guards import staff_required, step_up_required
from app.extensions import db
from app.json_input import bytes_field, json_body, password_material
from app.models import SessionPrincipal, StaffUser, today
from app.roles import Permission, Role
from app.services import audit, cases, invitations, passkeys, staff_accounts, staff_sessions
from app.services.staff_accounts import AccountError, PuzzleNeeded
from app.staff.blueprint import bp
from app.staff.forms import InviteStaffForm
from app.state import candor
from crypto.directory import fingerprint


@bp.get("/")
@staff_required(Permission.VIEW_OWN_ACCOUNT)
def home(principal: SessionPrincipal) -> str:
    staff = principal.staff
    handles_cases = staff.can(Permission.HANDLE_CASES)
    return render_template(
        "staff/home.html",
        principal=principal,
        key_fingerprint=fingerprint(staff.public_key),
        permissions=staff.permissions,
        # A recipient whose key the operator has not signed yet is in no reporter's directory.
        awaiting_signature=(handles_cases or staff.can(Permission.READ_OFFICER_SHARES))
        and staff.directory_entry is None,
        work=cases.waiting_work(db.session, staff, today()) if handles_cases else None,
        can_unlock_with_passkey=passkeys.can_unlock(db.session, staff),
    )


@bp.get("/account/password")
@staff_required(Permission.VIEW_OWN_ACCOUNT)
def password(principal: SessionPrincipal) -> str:
    params = staff_accounts.staff_kdf_params(candor().config)
    return render_template("staff/password.html", principal=principal, kdf_version=params.version)


@bp.post("/account/password")
@staff_required(Permission.VIEW_OWN_ACCOUNT)
def password_submit(principal: SessionPrincipal) -> tuple[Response, int] | Response:
    data = json_body()
    try:
        staff_accounts.change_password(
            db.session,
            principal.staff,
            current_login_secret=bytes_field(data, "current_login_secret"),
            new=password_material(data),
            config=candor().config,
            solution=puzzles.solution(data), spent=candor().spent_challenges(db.session),
        )
    except PuzzleNeeded as needed:
        return puzzles.puzzle_answer(needed)
    except AccountError as error:
        return jsonify(error="password_change_failed", message=str(error)), 400
    # Whoever else is signed in with the old password is signed out.
    staff_sessions.close_all_sessions(db.session, principal.staff, keep=principal.session)
    audit.record(db.session, "auth.password_changed", actor=audit.actor_for(principal.staff))
    db.session.commit()
    return jsonify(message="Your password is changed. Other sessions have been signed out.")


def _admin_page(principal: SessionPrincipal, invite_form: InviteStaffForm,
                invitation_url: str | None = None, status: int = 200) -> tuple[str, int]:
    people = db.session.scalars(db.select(StaffUser).order_by(StaffUser.username)).all()
    return render_template(
        "staff/admin_staff.html", principal=principal, people=people, form=FlaskForm(),
        invite_form=invite_form, invitation_url=invitation_url, fingerprint=fingerprint,
        passkey_counts=passkeys.passkey_counts(db.session),
    ), status


@bp.get("/admin/staff")
@staff_required(Permission.MANAGE_STAFF)
def admin_staff(principal: SessionPrincipal) -> tuple[str, int]:
    return _admin_page(principal, InviteStaffForm())


@bp.post("/admin/staff/invite")
@staff_required(Permission.MANAGE_STAFF)
@step_up_required  # a new account can be given any role
def admin_invite(principal: SessionPrincipal) -> tuple[str, int]:
    form = InviteStaffForm()
    if not form.validate_on_submit():
        return _admin_page(principal, form, status=400)
    try:
        token = invitations.invite_staff(
            db.session, username=form.username.data or "",
            roles=[Role(value) for value in form.roles.data or []], invited_by=principal.staff,
            config=candor().config,
        )
    except AccountError as error:
        form.username.errors = [str(error)]
        return _admin_page(principal, form, status=400)
    invited = staff_accounts.find_staff(db.session, form.username.data or "")
    audit.record(db.session, "staff.invited", actor=audit.actor_for(principal.staff),
                 detail={"staff_id": invited.id if invited else None,
                         "roles": sorted(form.roles.data or [])})
    db.session.commit()
    # The token goes in the fragment, which browsers never send: it reaches no server log.
    url = url_for("auth.activate", _external=True) + "#" + token
    return _admin_page(principal, InviteStaffForm(formdata=None), invitation_url=url)


@bp.post("/admin/staff/<int:staff_id>/disable")
@staff_required(Permission.MANAGE_STAFF)
@step_up_required
def admin_disable(principal: SessionPrincipal, staff_id: int) -> Response:
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    staff = db.session.get(StaffUser, staff_id)
    if staff is None:
        abort(404)
    if staff.id == principal.staff.id:
        flash("You cannot disable your own account.", "error")
    elif staff.disabled_at is None:
        staff_accounts.disable_staff(db.session, staff)
        audit.record(db.session, "staff.disabled", actor=audit.actor_for(principal.staff),
                     detail={"staff_id": staff.id})
        db.session.commit()
        flash(f"{staff.username} is disabled and removed from the key directory.", "success")
    return redirect(url_for(".admin_staff"))  # type: ignore[return-value]

