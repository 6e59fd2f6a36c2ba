"""Legal hold on a case: while it is set, retention never destroys the case's content
(app/services/retention.py). For the staff who handle the case, and only them: a case this
person may not see answers 404, exactly like one that does not exist."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, jsonify

from app.api.blueprint import bp
from app.auth.guards import staff_required
from app.extensions import db
from app.json_input import bool_field, json_body
from app.models import SessionPrincipal
from app.roles import Permission
from app.services import cases, retention


@bp.post("/staff/cases/<number>/legal-hold")
@staff_required(Permission.HANDLE_CASES)
def legal_hold(principal: SessionPrincipal, number: str) -> Response:
    try:
        case = cases.visible_case(db.session, principal.staff, number)
    except cases.CaseNotFound:
        abort(404)
    data = json_body()
    if "held" not in data:
        abort(400, description="The field 'held' is required and must be true or false.")
    held = bool_field(data, "held")
    reason = data.get("reason")
    if reason is not None and reason not in retention.HOLD_REASONS:
        abort(400, description="The field 'reason' must be one of "
                               f"{', '.join(retention.HOLD_REASONS)}.")
    changed = retention.set_legal_hold(db.session, case, held, principal.staff, reason)
    db.session.commit()
    return jsonify(number=case.number, legal_hold=case.legal_hold, changed=changed)


_NUMBER = {"name": "number", "in": "path", "required": True,
           "schema": {"type": "string", "pattern": "^C-[0-9A-Z]{5}$"}}
_ERROR = {"type": "object", "properties": {"error": {"type": "string"},
                                           "message": {"type": "string"}}}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


LEGAL_HOLD_PATHS: dict[str, Any] = {
    "/staff/cases/{number}/legal-hold": {"post": {
        "summary": "Put the case under legal hold (retention keeps its content) or lift it",
        "security": [{"staffCsrfToken": []}], "parameters": [_NUMBER],
        "requestBody": _json({"type": "object", "required": ["held"], "properties": {
            "held": {"type": "boolean"},
            "reason": {"enum": list(retention.HOLD_REASONS)}}}),
        "responses": {
            "200": {"description": "The hold as it now stands", **_json({
                "type": "object", "properties": {"number": {"type": "string"},
                                                 "legal_hold": {"type": "boolean"},
                                                 "changed": {"type": "boolean"}}})},
            "400": {"description": "Bad input; nothing changed", **_json(_ERROR)},
            "401": {"description": "Not signed in", **_json(_ERROR)},
            "403": {"description": "Not a case handler", **_json(_ERROR)},
            "404": {"description": "No such case for this person", **_json(_ERROR)}}}},
}
