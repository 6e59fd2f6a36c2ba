"""Reports taken by phone or in person (app/services/intake.py): the handler marks the case,
the reporter agrees the minutes with their codename."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from app.api.blueprint import bp
from app.api.cases import _act
from app.api.reports import current_reporter_case, view_of
from app.auth.guards import staff_required
from app.extensions import db
from app.json_input import text_field
from app.models import Case, SessionPrincipal
from app.roles import Permission
from app.services import intake


@bp.post("/staff/cases/<number>/intake")
@staff_required(Permission.HANDLE_CASES)
def case_intake(principal: SessionPrincipal, number: str) -> tuple[Response, int]:
    def mark(case: Case, data: dict[str, Any]) -> None:
        intake.record_intake(db.session, case, principal.staff, text_field(data, "channel", 16))
    return _act(principal, number, mark, 201)


@bp.post("/reporter/minutes/agree")
def reporter_agree_minutes() -> tuple[Response, int]:
    case = current_reporter_case()
    try:
        intake.agree_minutes(db.session, case)
    except intake.MinutesRejected as error:
        db.session.rollback()
        return jsonify(error="minutes_rejected", message=str(error)), 400
    db.session.commit()
    return jsonify(view_of(case)), 200
