"""The disclosure register through the staff API (app/services/disclosures.py): a handover of
material beyond the case's readers, and an export made in a reader's browser."""

from __future__ import annotations

from typing import Any

from flask import Response

from app.api.blueprint import bp
from app.api.cases import _act, _encrypted
from app.auth.guards import staff_required
from app.extensions import db
from app.json_input import bool_field, text_field
from app.models import Case, SessionPrincipal
from app.roles import Permission
from app.services import disclosures


@bp.post("/staff/cases/<number>/handovers")
@staff_required(Permission.HANDLE_CASES)
def case_handover(principal: SessionPrincipal, number: str) -> tuple[Response, int]:
    def hand_over(case: Case, data: dict[str, Any]) -> None:
        disclosures.record_handover(db.session, case, principal.staff, disclosures.Handover(
            recipient=text_field(data, "recipient", 32), reason=text_field(data, "reason", 32),
            includes_identity=bool_field(data, "includes_identity"),
            notice=_encrypted(data, "notice") if data.get("notice") is not None else None,
            withheld=_encrypted(data, "withheld") if data.get("withheld") is not None else None))
    return _act(principal, number, hand_over, 201)


@bp.post("/staff/cases/<number>/exports")
@staff_required(Permission.HANDLE_CASES)
def case_export(principal: SessionPrincipal, number: str) -> tuple[Response, int]:
    return _act(principal, number, lambda case, _: disclosures.record_export(
        db.session, case, principal.staff), 201)
