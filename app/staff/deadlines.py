"""Staff pages for deadlines: the dashboard, one case's clocks with the actions that pause or
meet them, notification choices, and the administrators' view of deliveries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from app import vocabulary
from app.auth.guards import staff_required, step_up_required
from app.extensions import DbSession, db
from app.models import (
    Case,
    EscalationStep,
    NotificationPreference,
    OutboxMessage,
    SessionPrincipal,
    StaffUser,
    today,
    utcnow,
)
from app.roles import Permission
from app.services import cases, deadline_dashboard, deadlines, escalation, notifications
from app.services.deadline_policy import UnknownPolicyVersion
from app.services.deadlines import DeadlineActionRejected
from app.state import candor

bp = Blueprint("deadlines", __name__, url_prefix="/staff")


EMAIL = notifications.EMAIL_PATTERN


class EmailForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped
    email = StringField("Email for deadline notices", validators=[
        Optional(), Length(max=254),
        Regexp(f"^{EMAIL}$", message="Enter an address like name@example.org, or nothing.")])


class DigestForm(FlaskForm):  # type: ignore[misc]
    daily_digest = BooleanField("One daily digest instead of each reminder")


@bp.get("/deadlines")
@staff_required(Permission.VIEW_DEADLINES)
def dashboard(principal: SessionPrincipal) -> str:
    on = today()
    shown = deadline_dashboard.dashboard(db.session, principal.staff, on)
    return render_template("staff/deadlines.html", principal=principal, on=on, board=shown,
                           form=FlaskForm())


@bp.post("/deadlines/quarterly-pack")
@staff_required(Permission.VIEW_DEADLINES)
def quarterly_pack(principal: SessionPrincipal) -> Response:
    if not FlaskForm().validate_on_submit():
        abort(400)
    on = today()
    pack_quarter, _due = escalation.quarterly_pack_deadline(
        on, deadlines.current_policies(db.session).current)
    if escalation.record_quarterly_pack(db.session, pack_quarter, principal.staff, on):
        flash(f"The quarterly pack for {pack_quarter} is recorded as delivered.",
              "success")
    db.session.commit()
    return redirect(url_for(".dashboard"))  # type: ignore[return-value]


def _visible(principal: SessionPrincipal, number: str) -> Case:
    try:
        return cases.visible_case(db.session, principal.staff, number)
    except cases.CaseNotFound:
        abort(404)


def _case_page(principal: SessionPrincipal, case: Case, error: str | None = None,
               status: int = 200) -> tuple[str, int]:
    on = today()
    steps = db.session.scalars(select(EscalationStep).where(EscalationStep.case_id == case.id)
                               .order_by(EscalationStep.id)).all()
    try:
        policy = deadlines.policy_for(case, deadlines.current_policies(db.session))
        found = deadlines.case_deadlines(db.session, case, on)
    except UnknownPolicyVersion:
        policy, found = None, []
        error = error or (f"This case was opened under deadline policy version "
                          f"{case.deadline_policy_version}, which is not stored here: its "
                          "clocks are left as they were until the version is added again.")
    return render_template(
        "staff/deadlines_case.html", principal=principal, case=case, on=on,
        deadlines=found, steps=steps, policy=policy, form=FlaskForm(), error=error,
        incident_form=IncidentForm(formdata=None), notice_form=AuthorityNoticeForm(formdata=None),
        risk_form=RetaliationRiskForm(formdata=None, retaliation_risk=case.retaliation_risk),
        assessments=[e for e in case.events if e.kind == "retaliation_risk_assessed"]), status


@bp.get("/deadlines/cases/<number>")
@staff_required(Permission.HANDLE_CASES)
def case_deadlines(principal: SessionPrincipal, number: str) -> tuple[str, int]:
    return _case_page(principal, _visible(principal, number))


class IncidentForm(FlaskForm):  # type: ignore[misc]
    imminent_risk = BooleanField("Imminent risk of death or serious injury")


class AuthorityNoticeForm(FlaskForm):  # type: ignore[misc]
    notified_on = DateField("Day the notice was made", validators=[
        InputRequired(message="Give the day the notice was made, as YYYY-MM-DD.")])
    reference = StringField("The authority's reference", validators=[
        InputRequired(message="Give the authority's reference for the notice."),
        Length(max=deadlines.AUTHORITY_REFERENCE_MAX)])


class RetaliationRiskForm(FlaskForm):  # type: ignore[misc]
    retaliation_risk = SelectField("Risk of retaliation against the reporter",
                                   choices=list(vocabulary.RETALIATION_RISKS))


Action = Callable[[DbSession, Case, StaffUser, Any], object]
_ACTIONS: dict[str, tuple[type[FlaskForm], Action, str]] = {
    "wait-for-reporter": (FlaskForm, lambda db_, c, s, f: deadlines.wait_for_reporter(db_, c, s),
                          "The case is waiting for the reporter. The feedback date stays."),
    "board-notice": (FlaskForm, lambda db_, c, s, f: deadlines.record_board_notice(db_, c, s),
                     "Board notice is recorded."),
    "checkin": (FlaskForm, lambda db_, c, s, f: deadlines.record_checkin(db_, c, s),
                "The follow-up check-in is recorded."),
    "critical-incident": (IncidentForm, lambda db_, c, s, f: deadlines.flag_critical_incident(
        db_, c, s, bool(f.imminent_risk.data)),
        "The case is flagged as a critical safety incident; its clock runs from today."),
    "authority-notice": (AuthorityNoticeForm, lambda db_, c, s, f:
                         deadlines.record_authority_notice(db_, c, s, f.notified_on.data,
                                                           f.reference.data or ""),
                         "The notice to the authority is recorded."),
    "retaliation-risk": (RetaliationRiskForm, lambda db_, c, s, f:
                         cases.assess_retaliation_risk(db_, c, s, f.retaliation_risk.data),
                         "The retaliation-risk assessment is recorded."),
}


@bp.post("/deadlines/cases/<number>/<action>")
@staff_required(Permission.HANDLE_CASES)
def case_action(principal: SessionPrincipal, number: str, action: str
                ) -> Response | tuple[str, int]:
    case = _visible(principal, number)
    if action not in _ACTIONS:
        abort(404)
    form_class, run, done = _ACTIONS[action]
    form = form_class()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        message = " ".join(e for errors in form.errors.values() for e in errors)
        return _case_page(principal, case, message or "Check the form.", 400)
    try:
        run(db.session, case, principal.staff, form)
    except (DeadlineActionRejected, cases.CaseActionRejected) as error:
        db.session.rollback()
        return _case_page(principal, case, str(error), 409)
    db.session.commit()
    flash(done, "success")
    return redirect(url_for(".case_deadlines", number=number))  # type: ignore[return-value]


@bp.route("/account/notifications", methods=["GET", "POST"])
@staff_required(Permission.VIEW_OWN_ACCOUNT)
def preferences(principal: SessionPrincipal) -> str | Response:
    preference = db.session.get(NotificationPreference, principal.staff.id)
    form = DigestForm(data={"daily_digest": bool(preference and preference.daily_digest)})
    if request.method == "POST":
        form = DigestForm()
        if not form.validate_on_submit():
            abort(400)
        notifications.set_digest(db.session, principal.staff, bool(form.daily_digest.data))
        db.session.commit()
        flash("Your notification choice is saved.", "success")
        return redirect(url_for(".preferences"))  # type: ignore[return-value]
    return render_template("staff/deadlines_preferences.html", principal=principal, form=form)


# --- administrators ---------------------------------------------------------------------------
def _admin_page(principal: SessionPrincipal, status: int = 200,
                email_errors: dict[int, str] | None = None) -> tuple[str, int]:
    problems = db.session.scalars(select(OutboxMessage).where(
        or_(OutboxMessage.status == "failed",
            (OutboxMessage.status.in_(("pending", "sending")))
            & (OutboxMessage.attempts > 0))
    ).order_by(OutboxMessage.id.desc()).limit(200)).all()
    people = db.session.scalars(select(StaffUser).order_by(StaffUser.username)).all()
    names = {p.id: p.username for p in people}
    return render_template(
        "staff/deadlines_admin.html", principal=principal, problems=problems, names=names,
        people=people, summary=notifications.outbox_summary(db.session), form=FlaskForm(),
        email_errors=email_errors or {}, smtp_configured=bool(candor().config.smtp_host),
    ), status




@bp.get("/admin/notifications")
@staff_required(Permission.MANAGE_STAFF)
def admin_notifications(principal: SessionPrincipal) -> tuple[str, int]:
    return _admin_page(principal)


@bp.post("/admin/notifications/<int:message_id>/retry")
@staff_required(Permission.MANAGE_STAFF)
def admin_retry(principal: SessionPrincipal, message_id: int) -> Response:
    if not FlaskForm().validate_on_submit():
        abort(400)
    row = db.session.get(OutboxMessage, message_id)
    if row is None:
        abort(404)
    if row.status == "failed":
        notifications.retry_now(db.session, row, utcnow())
        db.session.commit()
        flash("The notice will be sent again at the next tick.", "success")
    return redirect(url_for(".admin_notifications"))  # type: ignore[return-value]


@bp.post("/admin/staff/<int:staff_id>/email")
@staff_required(Permission.MANAGE_STAFF)
@step_up_required  # it decides where someone's deadline notices go
def admin_email(principal: SessionPrincipal, staff_id: int) -> Response | tuple[str, int]:
    person = db.session.get(StaffUser, staff_id)
    if person is None:
        abort(404)
    form = EmailForm()
    if not form.validate_on_submit():
        message = " ".join(form.email.errors) or "The form expired; try again."
        return _admin_page(principal, 400, {staff_id: message})
    address = (form.email.data or "").strip()
    person.email = address or None
    db.session.commit()
    flash(f"Notices for {person.username} go to {address}." if address
          else f"{person.username} gets no email notices.", "success")
    return redirect(url_for(".admin_notifications"))  # type: ignore[return-value]

