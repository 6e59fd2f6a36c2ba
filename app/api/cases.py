"""The staff case API: inbox, case view and every action on a case (app/services/cases.py).

Everything here moves ciphertext and metadata. The staff member's browser opens their grant,
decrypts, and encrypts what they write; these views only parse, call the service, and answer.
A case this person may not see answers 404, exactly like a case that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, abort, current_app, jsonify, request
from sqlalchemy import select

from app.api.blueprint import bp
from app.auth.guards import staff_required, step_up_required
from app.extensions import db
from app.json_input import (
    b64,
    bool_field,
    bytes_field,
    int_field,
    json_body,
    list_field,
    object_item,
    text_field,
)
from app.models import Case, CaseGrant, CaseRecord, SessionPrincipal, StaffUser, today
from app.request_numbers import query_int
from app.roles import Permission, describe_person
from app.services import attachments, cases, deadlines, disclosures, intake, reporter_data
from app.services.reports import GrantIn
from app.services.routing import Route
from app.state import candor
from app.taxonomy import Taxonomy
from crypto.envelope import RECORD_MAX_SIZE

PREVIEW_MAX_BYTES = 16 * 1024
MAX_GRANTS = 401


def _case_or_404(principal: SessionPrincipal, number: str) -> Case:
    try:
        return cases.visible_case(db.session, principal.staff, number)
    except cases.CaseNotFound:
        abort(404)


def _person(staff: StaffUser | None) -> dict[str, Any] | None:
    if staff is None:
        return None
    return {"id": staff.id, "username": staff.username,
            "roles": sorted(r.value for r in staff.roles),
            # as the reporter's pages name people: "rso1, Responsible Scaling Officer"
            "described": describe_person(staff.username, staff.roles)}


def _grant_json(grant: CaseGrant) -> dict[str, Any]:
    return {"key_epoch": grant.key_epoch, "kind": grant.kind, "grant": b64(grant.grant)}


def _flags(case: Case) -> dict[str, bool]:
    return {flag: bool(getattr(case, flag)) for flag in cases.FLAGS}


def _preview(report: CaseRecord | None) -> dict[str, Any] | None:
    if report is None or len(report.ciphertext) > PREVIEW_MAX_BYTES:
        return None
    return {"record_ref": report.record_ref, "kind": "report", "key_epoch": report.key_epoch,
            "ciphertext": b64(report.ciphertext)}


def _summaries(found: list[Case], staff: StaffUser) -> list[dict[str, Any]]:
    """Inbox rows, with what each needs (this person's grants, the report for a preview, the
    assignee) fetched in one query per kind for the whole page."""
    ids = [c.id for c in found]
    grants: dict[int, list[CaseGrant]] = {}
    # Selected by case only: a page has few grants, while this person may hold thousands.
    for grant in db.session.scalars(select(CaseGrant).where(CaseGrant.case_id.in_(ids))
                                    .order_by(CaseGrant.key_epoch)):
        if grant.staff_id == staff.id and grant.usable:
            grants.setdefault(grant.case_id, []).append(grant)
    reports = {r.case_id: r for r in db.session.scalars(select(CaseRecord).where(
        CaseRecord.case_id.in_(ids), CaseRecord.kind == "report"))}
    assignees = {s.id: s for s in db.session.scalars(select(StaffUser).where(
        StaffUser.id.in_({c.assignee_id for c in found if c.assignee_id})))}
    taxonomy = candor().taxonomy()
    return [_summary(case, taxonomy, grants.get(case.id, []), reports.get(case.id),
                     assignees.get(case.assignee_id or 0)) for case in found]


def _summary(case: Case, taxonomy: Taxonomy, grants: list[CaseGrant],
             report: CaseRecord | None, assignee: StaffUser | None) -> dict[str, Any]:
    category = taxonomy.get(case.category)
    return {
        "number": case.number, "case_ref": case.case_ref, "status": case.status,
        "route": case.route, "category": case.category,
        "category_label": category.label if category else case.category,
        "origin": case.origin, "received_on": case.received_on.isoformat(),
        "next_due_on": case.next_due_on.isoformat() if case.next_due_on else None,
        "next_due_clock": case.next_due_clock,
        "overdue": case.next_due_on is not None and case.next_due_on < today(),
        "assignee": _person(assignee), "flags": _flags(case), "key_epoch": case.key_epoch,
        "grants": [_grant_json(g) for g in grants], "preview": _preview(report),
    }


def _choice(name: str, allowed: tuple[str, ...] | list[str]) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        abort(400, description=f"Unknown {name} {value!r}.")
    return value


def _inbox_filter() -> cases.InboxFilter:
    assignee = request.args.get("assignee") or None
    # isdecimal, not isdigit: int() refuses digits such as "\u00b9" that isdigit accepts.
    if assignee not in (None, "me", "none") and not (assignee.isdecimal()
                                                     and len(assignee) < 10):
        abort(400, description="The assignee filter is 'me', 'none' or a staff id.")
    taxonomy = candor().taxonomy()
    return cases.InboxFilter(
        status=_choice("status", cases.STATUS_FILTERS) or "open",
        category=_choice("category", [c.id for c in taxonomy.categories]),
        route=_choice("route", [r.value for r in Route]),
        assignee=assignee,
        overdue=_choice("overdue", ("0", "1")) == "1",
        flag=_choice("flag", cases.FLAGS),
        sort=_choice("sort", tuple(cases.SORTS)) or "due",
        page=query_int("page", 1, minimum=1, maximum=999_999),
    )


@bp.get("/staff/cases")
@staff_required(Permission.HANDLE_CASES)
def case_list(principal: SessionPrincipal) -> Response:
    found = cases.inbox(db.session, principal.staff, _inbox_filter(), today(),
                        cache=current_app.extensions.setdefault("candor.inbox_counts",
                                                                cases.CountsCache()))
    return jsonify(cases=_summaries(found.cases, principal.staff), page=found.page,
                   pages=found.pages, per_page=found.per_page, total=found.total,
                   counts=found.counts)


def case_view(case: Case, staff: StaffUser) -> dict[str, Any]:
    revealed = cases.identity_revealed_to(case, staff)
    people = {s.id: s for s in cases.members(db.session, case)}

    def name(staff_id: int | None) -> str | None:
        if staff_id is None:
            return None
        person = people.get(staff_id) or db.session.get(StaffUser, staff_id)
        return person.username if person else None

    records = [
        {"record_ref": r.record_ref, "kind": r.kind, "author": r.author,
         "author_username": name(r.author_staff_id) if r.author == "staff" else None,
         "visible_to_reporter": r.visible_to_reporter, "purpose": r.purpose,
         "created_on": r.created_on.isoformat(),
         "key_epoch": r.key_epoch, "ciphertext": b64(r.ciphertext)}
        for r in case.records
        # An attachment's key and name come with the attachment (below).
        if r.kind not in ("file_key", "file_name") and (r.kind != "identity" or revealed)
    ]
    report = next((r for r in case.records if r.kind == "report"), None)
    linked = [{"number": other.number, "link_kind": kind}
              for other, kind in cases.linked_cases(db.session, case, staff)]
    return {
        **_summary(case, candor().taxonomy(),
                   cases.my_grants(case, staff), report,
                   db.session.get(StaffUser, case.assignee_id) if case.assignee_id else None),
        "acknowledged_on": _date(case.acknowledged_on), "triaged_on": _date(case.triaged_on),
        "findings_on": _date(case.findings_on), "closed_on": _date(case.closed_on),
        "severity": case.severity, "retaliation_risk": case.retaliation_risk,
        "outcome": case.outcome, "material_risk_found": case.material_risk_found,
        "approver": name(case.approver_id), "reopened_count": case.reopened_count,
        # Under the case's own policy version (None where this process does not know it).
        **deadlines.reporter_dates(case, db.session),
        "critical_incident": case.critical_incident, "imminent_risk": case.imminent_risk,
        "reporter_public_key": b64(case.reporter_public_key) if case.reporter_public_key else None,
        "escrow_staff_ids": sorted({g.staff_id for g in case.grants if g.kind == "escrow"
                                    and g.key_epoch == case.key_epoch
                                    and g.released_on is None and g.staff_id is not None}),
        "records": records,
        "identity_available": case.identity_given, "identity_revealed": revealed,
        # A link to a case this person may not see is not shown, nor is the event of making it.
        "events": [{"kind": e.kind, "on": e.occurred_on.isoformat(), "detail": e.detail,
                    "visible_to_reporter": e.visible_to_reporter,
                    "actor": name(e.actor_staff_id)} for e in case.events
                   if e.kind != "linked" or linked],
        "members": [_person(s) for s in people.values()],
        "candidates": [_person(s) for s in cases.candidates(db.session, case)],
        "linked": linked,
        "allowed_actions": cases.allowed_actions(case),
        "attachments": attachments.describe(case, visible_to_reporter_only=False),
        "disclosures": [_disclosure(d, name) for d in disclosures.register(db.session, case)],
        "destructions": [{"kind": d.kind, "author": d.author, "reason": d.reason,
                          "on": d.destroyed_on.isoformat(), "by": name(d.staff_id)}
                         for d in reporter_data.destructions(db.session, case)],
        "intake": _intake(case, name),
        "data_requests": [{"id": r.id, "kind": r.kind, "received_on": r.received_on.isoformat(),
                           "due_on": r.due_on.isoformat(), "answered_on": _date(r.answered_on),
                           "request_record_ref": r.request_record_ref,
                           "answer_record_ref": r.answer_record_ref}
                          for r in reporter_data.requests(db.session, case)],
    }


def _intake(case: Case, name: Callable[[int | None], str | None]) -> dict[str, Any] | None:
    taken = intake.intake_of(db.session, case)
    if taken is None:
        return None
    return {"channel": taken.channel, "taken_on": taken.taken_on.isoformat(),
            "taken_by": name(taken.taken_by_id),
            "minutes_agreed_on": _date(taken.minutes_agreed_on)}


def _disclosure(entry: Any, name: Callable[[int | None], str | None]) -> dict[str, Any]:
    return {"kind": entry.kind, "on": entry.occurred_on.isoformat(), "by": name(entry.staff_id),
            "reason": entry.reason, "recipient": entry.recipient,
            "includes_identity": entry.includes_identity,
            "notice_record_ref": entry.notice_record_ref,
            "withheld_note_ref": entry.withheld_note_ref}


def _date(value: Any) -> str | None:
    return value.isoformat() if value else None


@bp.get("/staff/cases/<number>")
@staff_required(Permission.HANDLE_CASES)
def case_detail(principal: SessionPrincipal, number: str) -> Response:
    return jsonify(case_view(_case_or_404(principal, number), principal.staff))


def _record_fields(item: dict[str, Any]) -> cases.EncryptedRecord:
    return cases.EncryptedRecord(
        record_ref=text_field(item, "record_ref", 64), key_epoch=int_field(item, "key_epoch"),
        ciphertext=bytes_field(item, "ciphertext", max_size=RECORD_MAX_SIZE))


def _encrypted(data: dict[str, Any], name: str = "record") -> cases.EncryptedRecord:
    return _record_fields(object_item(data.get(name), name))


def _act(principal: SessionPrincipal, number: str,
         action: Callable[[Case, dict[str, Any]], Any], status: int = 200
         ) -> tuple[Response, int]:
    """Run one action on a visible case in one transaction and answer with the case view."""
    case = _case_or_404(principal, number)
    data = json_body()
    try:
        action(case, data)
    except cases.CaseActionRejected as error:
        db.session.rollback()
        return jsonify(error="action_rejected", message=str(error)), 400
    db.session.commit()
    try:  # the person may have just lost access (recusal)
        visible = cases.visible_case(db.session, principal.staff, number)
    except cases.CaseNotFound:
        return jsonify(message="Done. You no longer have access to this case."), status
    return jsonify(case_view(visible, principal.staff)), status


@bp.post("/staff/cases/<number>/records")
@staff_required(Permission.HANDLE_CASES)
def case_record(principal: SessionPrincipal, number: str) -> tuple[Response, int]:
    def write(case: Case, data: dict[str, Any]) -> None:
        purpose = data.get("purpose")
        cases.add_record(db.session, case, principal.staff, text_field(data, "kind", 16),
                         _record_fields(data),
                         None if purpose is None else text_field(data, "purpose", 16))
    return _act(principal, number, write, 201)


@bp.post("/staff/cases/<number>/transitions")
@staff_required(Permission.HANDLE_CASES)
def case_transition(principal: SessionPrincipal, number: str) -> tuple[Response, int]:
    staff = principal.staff

    def move(case: Case, data: dict[str, Any]) -> None:
        action = text_field(data, "action", 32)
        session = db.session
        if action == "acknowledge":
            cases.acknowledge(session, case, staff,
                              _encrypted(data, "message") if data.get("message") else None)
        elif action == "triage":
            cases.triage(session, case, staff, category=text_field(data, "category", 48),
                         severity=text_field(data, "severity", 16),
                         retaliation_risk=text_field(data, "retaliation_risk", 16),
                         taxonomy=candor().taxonomy())
        elif action == "investigate":
            cases.investigate(session, case, staff)
        elif action == "findings":
            if not isinstance(data.get("material_risk_found"), bool):
                abort(400, description="Say whether a material safety risk was found.")
            cases.record_findings(session, case, staff, outcome=text_field(data, "outcome", 32),
                                  material_risk_found=bool_field(data, "material_risk_found"),
                                  summary=_encrypted(data))
        elif action == "corrective_action":
            cases.record_corrective_action(session, case, staff, _encrypted(data))
        elif action == "close":
            cases.close(session, case, staff, int_field(data, "approver_id"),
                        _encrypted(data, "message") if data.get("message") else None)
        elif action == "reopen":
            cases.reopen(session, case, staff)
        else:
            abort(400, description=f"Unknown action {action!r}.")
    return _act(principal, number, move)


@bp.post("/staff/cases/<number>/assignee")
@staff_required(Permission.HANDLE_CASES)
def case_assign(principal: SessionPrincipal, number: str) -> tuple[Response, int]:
    def assign(case: Case, data: dict[str, Any]) -> None:
        staff_id = data.get("staff_id")
        if staff_id is not None:
            staff_id = int_field(data, "staff_id")
        cases.assign(db.session, case, principal.staff, staff_id)
    return _act(principal, number, assign)


def _epoch_grants(data: dict[str, Any]) -> list[tuple[int, bytes]]:
    return [(int_field(item, "key_epoch"), bytes_field(item, "grant", max_size=512))
            for item in (object_item(i, "grants") for i in list_field(data, "grants", MAX_GRANTS))]


@bp.post("/staff/cases/<number>/members")
@staff_required(Permission.HANDLE_CASES)
@step_up_required
def case_share(principal: SessionPrincipal, number: str) -> tuple[Response, int]:
    def share(case: Case, data: dict[str, Any]) -> None:
        cases.share(db.session, case, principal.staff, int_field(data, "staff_id"),
                    _epoch_grants(data))
    return _act(principal, number, share)


def _new_grants(data: dict[str, Any]) -> list[GrantIn]:
    grants = []
    for item in (object_item(i, "grants") for i in list_field(data, "grants", MAX_GRANTS)):
        staff_id = item.get("staff_id")
        if staff_id is not None:
            staff_id = int_field(item, "staff_id")
        grants.append(GrantIn(kind=text_field(item, "kind", 16), staff_id=staff_id,
                              grant=bytes_field(item, "grant", max_size=512)))
    return grants


@bp.post("/staff/cases/<number>/members/<int:staff_id>/revoke")
@staff_required(Permission.HANDLE_CASES)
@step_up_required
def case_revoke(principal: SessionPrincipal, number: str, staff_id: int) -> tuple[Response, int]:
    def revoke(case: Case, data: dict[str, Any]) -> None:
        cases.revoke(db.session, case, principal.staff, staff_id, int_field(data, "key_epoch"),
                     _new_grants(data))
    return _act(principal, number, revoke)


@bp.post("/staff/cases/<number>/recuse")
@staff_required(Permission.HANDLE_CASES)
def case_recuse(principal: SessionPrincipal, number: str) -> tuple[Response, int]:
    return _act(principal, number, lambda case, _: cases.recuse(db.session, case, principal.staff))


@bp.post("/staff/cases/<number>/identity")
@staff_required(Permission.HANDLE_CASES)
@step_up_required
def case_identity(principal: SessionPrincipal, number: str) -> tuple[Response, int]:
    case = _case_or_404(principal, number)
    reason = text_field(json_body(), "reason", 32)
    try:
        record = disclosures.reveal_identity(db.session, case, principal.staff, reason)
    except cases.CaseActionRejected as error:
        db.session.rollback()
        return jsonify(error="action_rejected", message=str(error)), 400
    db.session.commit()
    return jsonify(record={"record_ref": record.record_ref, "kind": record.kind,
                           "key_epoch": record.key_epoch,
                           "ciphertext": b64(record.ciphertext)}), 200


@bp.post("/staff/cases/<number>/links")
@staff_required(Permission.HANDLE_CASES)
def case_link(principal: SessionPrincipal, number: str) -> tuple[Response, int]:
    def link(case: Case, data: dict[str, Any]) -> None:
        other = _case_or_404(principal, text_field(data, "number", 16))
        cases.link(db.session, case, principal.staff, other, text_field(data, "link_kind", 16))
    return _act(principal, number, link)


@bp.post("/staff/cases")
@staff_required(Permission.HANDLE_CASES)
def case_open(principal: SessionPrincipal) -> tuple[Response, int]:
    data = json_body()
    try:
        route = Route(text_field(data, "route", 16))
    except ValueError:
        abort(400, description="Choose one of the routes: rso, executive or board.")
    records = list_field(data, "records", 1)
    if len(records) != 1:
        abort(400, description="A case opened by staff holds exactly one report record.")
    item = object_item(records[0], "records")
    if item.get("kind") != "report":
        abort(400, description="A case opened by staff holds exactly one report record.")
    new = cases.StaffCase(
        case_ref=text_field(data, "case_ref", 64), route=route,
        category=text_field(data, "category", 48),
        material_risk=bool_field(data, "material_risk"), grants=_new_grants(data),
        report=cases.EncryptedRecord(text_field(item, "record_ref", 64), 1,
                                     bytes_field(item, "ciphertext", max_size=RECORD_MAX_SIZE)))
    try:
        case = cases.open_case(db.session, principal.staff, new,
                               candor().taxonomy())
    except cases.CaseActionRejected as error:
        db.session.rollback()
        return jsonify(error="action_rejected", message=str(error)), 400
    db.session.commit()
    return jsonify(number=case.number, case_ref=case.case_ref), 201

