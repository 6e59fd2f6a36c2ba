"""SB 53 quarterly shares (app/services/officer_shares.py): who a case's share must be sealed
to, writing it, and the shares sealed to an officer or director. Ciphertext and metadata only."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from app.api.blueprint import bp
from app.api.cases import MAX_GRANTS, _act, _case_or_404, _person, _record_fields
from app.auth.guards import staff_required, step_up_required
from app.extensions import db
from app.json_input import b64, bytes_field, int_field, list_field, object_item, text_field
from app.models import Case, SessionPrincipal
from app.roles import Permission
from app.services import officer_shares
from app.services.cases import EncryptedRecord

MAX_SUMMARY_BYTES = 256 * 1024


@bp.get("/staff/cases/<number>/sb53-share")
@staff_required(Permission.HANDLE_CASES)
def sb53_share_recipients(principal: SessionPrincipal, number: str) -> Response:
    """The officers and directors this case's share goes to, and the shares written so far."""
    case = _case_or_404(principal, number)
    return jsonify(
        sb53_disclosure=case.sb53_disclosure,
        recipients=[_person(s) for s in officer_shares.recipients(db.session, case)],
        shares=[{"share_ref": s.share_ref, "quarter": s.quarter,
                 "created_on": s.created_on.isoformat(),
                 "message_record_ref": s.message_record_ref,
                 "sealed_to": [g.staff_id for g in s.grants]}
                for s in officer_shares.shares_of_case(db.session, case)])


def _share(data: dict[str, Any]) -> officer_shares.ShareIn:
    message = object_item(data.get("message"), "message")
    record: EncryptedRecord = _record_fields(message)
    return officer_shares.ShareIn(
        share_ref=text_field(data, "share_ref", 64),
        summary=bytes_field(data, "summary", max_size=MAX_SUMMARY_BYTES),
        grants=[officer_shares.ShareGrantIn(int_field(item, "staff_id"),
                                            bytes_field(item, "grant", max_size=512))
                for item in (object_item(i, "grants")
                             for i in list_field(data, "grants", MAX_GRANTS))],
        message=record)


@bp.post("/staff/cases/<number>/sb53-share")
@staff_required(Permission.HANDLE_CASES)
@step_up_required  # it sends what the case says to people outside it
def sb53_share_write(principal: SessionPrincipal, number: str) -> tuple[Response, int]:
    def write(case: Case, data: dict[str, Any]) -> None:
        officer_shares.write_share(db.session, case, principal.staff, _share(data))
    return _act(principal, number, write, 201)


@bp.get("/staff/officer-shares")
@staff_required(Permission.READ_OFFICER_SHARES)
def officer_share_list(principal: SessionPrincipal) -> Response:
    """The shares sealed to this officer or director: each opens with their private key."""
    return jsonify(shares=[
        {"share_ref": s.share_ref, "case_number": s.case_number, "quarter": s.quarter,
         "created_on": s.created_on.isoformat(), "summary": b64(s.summary),
         "grant": b64(s.grant)}
        for s in officer_shares.shares_for(db.session, principal.staff)])
