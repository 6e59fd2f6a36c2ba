"""The reporter's data through the staff API (app/services/reporter_data.py): destroying one
record or attachment, and recording and answering requests to access or correct data."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, abort

from app.api.blueprint import bp
from app.api.cases import _act, _encrypted
from app.auth.guards import staff_required
from app.extensions import db
from app.json_input import text_field
from app.models import Case, SessionPrincipal, today
from app.roles import Permission
from app.services import attachments, reporter_data
from app.state import candor


@bp.post("/staff/cases/<number>/records/<record_ref>/destroy")
@staff_required(Permission.HANDLE_CASES)
def case_record_destroy(principal: SessionPrincipal, number: str,
                        record_ref: str) -> tuple[Response, int]:
    return _act(principal, number, lambda case, data: reporter_data.destroy_record(
        db.session, case, principal.staff, record_ref, text_field(data, "reason", 32)))


@bp.post("/staff/cases/<number>/attachments/<attachment_ref>/destroy")
@staff_required(Permission.HANDLE_CASES)
def case_attachment_destroy(principal: SessionPrincipal, number: str,
                            attachment_ref: str) -> tuple[Response, int]:
    store = attachments.store_for(candor().config, db.session)
    return _act(principal, number, lambda case, data: reporter_data.destroy_attachment(
        db.session, store, case, principal.staff, attachment_ref,
        text_field(data, "reason", 32)))


def _day(data: dict[str, Any], name: str) -> date:
    if data.get(name) is None:
        return today()
    try:
        return date.fromisoformat(text_field(data, name, 10))
    except ValueError:
        abort(400, description=f"The field {name!r} is a date (YYYY-MM-DD).")


@bp.post("/staff/cases/<number>/data-requests")
@staff_required(Permission.HANDLE_CASES)
def case_data_request(principal: SessionPrincipal, number: str) -> tuple[Response, int]:
    def record(case: Case, data: dict[str, Any]) -> None:
        ref = data.get("request_record_ref")
        reporter_data.record_request(
            db.session, case, principal.staff, text_field(data, "kind", 16),
            _day(data, "received_on"),
            text_field(data, "request_record_ref", 64) if ref is not None else None)
    return _act(principal, number, record, 201)


@bp.post("/staff/cases/<number>/data-requests/<int:request_id>/answer")
@staff_required(Permission.HANDLE_CASES)
def case_data_request_answer(principal: SessionPrincipal, number: str,
                             request_id: int) -> tuple[Response, int]:
    return _act(principal, number, lambda case, data: reporter_data.answer_request(
        db.session, case, principal.staff, request_id, _encrypted(data)))
