"""The reporter's JSON API: readers of a route, filing a report, coming back with a codename.

These endpoints take ciphertext and metadata only. The browser (``reporter.js``) and the
command-line client (``candor report``) speak them; ``/api/v1/openapi.json`` describes them.
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any

from flask import Response, abort, jsonify
from flask_babel import gettext
from flask_wtf.csrf import generate_csrf

from app import reporter_session as case_session
from app.api.blueprint import bp
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
from app.models import Case
from app.outside_channels import load_outside_channels
from app.services import proof_of_work, reports
from app.services.directory import pinned_fingerprint
from app.services.reporter_view import NOT_FOUND, RETALIATION_SESSION_ENDED, reporter_view
from app.services.routing import ROUTE_LABELS, Route, RoutingError, readers_for
from app.state import candor
from candor_reporter.languages import N_
from crypto.envelope import RECORD_MAX_SIZE, RecordKind
from crypto.keys import BoxKeyPair
from crypto.proof_of_work import PROOF_OF_WORK_HASHES

MAX_STAFF_IDS = 200
PROOF_OF_WORK_FAILED = N_("The anti-abuse check failed or expired; send again.")


def _route(data: dict[str, Any]) -> Route:
    value = text_field(data, "route", max_length=16)
    try:
        return Route(value)
    except ValueError:
        abort(400, description="Choose one of the routes: rso, executive or board.")


def _staff_ids(data: dict[str, Any], name: str) -> list[int]:
    ids = list_field(data, name, MAX_STAFF_IDS)
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**31 for i in ids):
        abort(400, description=f"The field {name!r} must be a list of staff ids.")
    return ids


@bp.get("/session")
def reporter_session() -> Response:
    """A CSRF token for clients that are not pages (the command-line client)."""
    return jsonify(csrf_token=generate_csrf())


@bp.get("/report-options")
def report_options() -> Response:
    config = candor().config
    taxonomy = candor().taxonomy()
    params = reports.reporter_kdf_params(config)
    light = reports.reporter_kdf_light_params(config)
    return jsonify(
        routes=[{"id": route.value, "label": gettext(label)}
                for route, label in ROUTE_LABELS.items()],
        taxonomy={"version": taxonomy.version,
                  "categories": [{"id": c.id, "label": gettext(c.label)}
                                 for c in taxonomy.categories]},
        reporter_kdf={"version": params.version, "opslimit": params.opslimit,
                      "memlimit": params.memlimit},
        reporter_kdf_light={"version": light.version, "opslimit": light.opslimit,
                            "memlimit": light.memlimit},
        organisation_fingerprint=pinned_fingerprint(config),
        outside_channels=[c.as_json() for c in load_outside_channels(config.instance_path)],
    )


@bp.get("/proof-of-work")
def proof_of_work_challenge() -> Response:
    """A fresh challenge to solve before filing a report (``app/services/proof_of_work.py``)."""
    config = candor().config
    issued = proof_of_work.issue(config.secret_key, config.proof_of_work_bits, time.time())
    return jsonify(challenge=b64(issued.challenge), bits=issued.bits, expires=issued.expires,
                   hashes=list(PROOF_OF_WORK_HASHES))


@bp.post("/readers")
def report_readers() -> Response:
    data = json_body()
    try:
        readers = readers_for(db.session, _route(data), bool_field(data, "concerns_rso"),
                              _staff_ids(data, "concerned_staff_ids"))
    except RoutingError as error:
        abort(409, description=gettext(str(error)))

    def people(staff: Any) -> list[dict[str, Any]]:
        return [{"staff_id": s.id, "username": s.username,
                 "roles": sorted(r.value for r in s.roles)} for s in staff]

    return jsonify(now=people(readers.now), on_escalation=people(readers.on_escalation))


def _submission(data: dict[str, Any]) -> reports.Submission:
    grants = []
    for item in list_field(data, "grants", MAX_STAFF_IDS + 1):
        item = object_item(item, "grants")
        staff_id = item.get("staff_id")
        if staff_id is not None and (not isinstance(staff_id, int) or isinstance(staff_id, bool)
                                     or not 0 < staff_id < 2**31):
            abort(400, description="A grant's staff_id must be a staff id or null.")
        grants.append(reports.GrantIn(kind=text_field(item, "kind", 16), staff_id=staff_id,
                                      grant=bytes_field(item, "grant", max_size=512)))
    records = []
    for item in list_field(data, "records", reports.MAX_RECORDS_PER_SUBMISSION):
        item = object_item(item, "records")
        kind = text_field(item, "kind", 16)
        if kind not in ("report", "identity"):
            abort(400, description="A submitted record is a report or an identity.")
        records.append(reports.RecordIn(
            record_ref=text_field(item, "record_ref", 64), kind=RecordKind[kind.upper()],
            ciphertext=bytes_field(item, "ciphertext", max_size=RECORD_MAX_SIZE)))
    return reports.Submission(
        case_ref=text_field(data, "case_ref", 64),
        route=_route(data),
        category=text_field(data, "category", 48),
        lookup_id=bytes_field(data, "lookup_id", size=reports.LOOKUP_ID_SIZE),
        reporter_salt=bytes_field(data, "reporter_salt"),
        reporter_kdf_version=int_field(data, "reporter_kdf_version"),
        reporter_public_key=bytes_field(data, "reporter_public_key",
                                        size=BoxKeyPair.PUBLIC_SIZE),
        grants=grants,
        records=records,
        concerns_rso=bool_field(data, "concerns_rso"),
        concerned_staff_ids=_staff_ids(data, "concerned_staff_ids"),
        material_risk=bool_field(data, "material_risk"),
        sb53_disclosure=bool_field(data, "sb53_disclosure"),
        critical_incident=bool_field(data, "critical_incident"),
        imminent_risk=bool_field(data, "imminent_risk"),
    )


def _canonical_b64(value: Any) -> bytes:
    """A short canonical base64 field of the proof; anything else makes the proof malformed."""
    try:
        decoded = (base64.b64decode(value, validate=True)
                   if isinstance(value, str) and len(value) <= 64 else None)
    except (binascii.Error, ValueError):
        decoded = None
    if decoded is None or b64(decoded) != value:
        raise proof_of_work.ProofOfWorkRejected("malformed")
    return decoded


def _claim_proof_of_work(data: dict[str, Any]) -> None:
    """Check the submission's proof of work and mark its challenge spent for good (nothing
    when proof of work is switched off). Raises ProofOfWorkRejected."""
    config = candor().config
    if config.proof_of_work_bits == 0:
        return
    proof = data.get("proof_of_work")
    if not isinstance(proof, dict):
        raise proof_of_work.ProofOfWorkRejected("missing")
    algorithm = proof_of_work.puzzle_hash(proof.get("hash"))
    challenge = _canonical_b64(proof.get("challenge"))
    proof_of_work.verify(config.secret_key, config.proof_of_work_bits, challenge,
                         _canonical_b64(proof.get("nonce")), time.time(),
                         candor().spent_challenges(db.session), algorithm=algorithm)


@bp.post("/reports")
def submit_report() -> tuple[Response, int]:
    config = candor().config
    data = json_body()
    # Checked first, so a flood costs its sender the work before it costs this server any.
    # A solution buys one answer, whatever the answer: given back after a refusal, it would
    # let one solution ask question after question (issue 16, finding 9).
    try:
        _claim_proof_of_work(data)
    except proof_of_work.UnknownPuzzleHash as error:
        return jsonify(error="proof_of_work_rejected", message=str(error)), 400
    except proof_of_work.ProofOfWorkRejected:
        return jsonify(error="proof_of_work_rejected", message=gettext(PROOF_OF_WORK_FAILED)), 400
    try:
        first = _retaliation_for(data)
        filed = reports.file_report(
            db.session, _submission(data), config, candor().taxonomy(),
            reports.inherited_by_retaliation(db.session, first) if first is not None else None)
        if first is not None:
            reports.link_retaliation(first, db.session.get_one(Case, filed.id))
        # Only well-formed reports count, so junk cannot use up the limit for real reporters;
        # the count is committed with the report, or refused and the report rolled back.
        candor().take_rate_limit(db.session, "submission")
    except reports.CodenameTaken as error:
        db.session.rollback()
        # Says that a lookup identifier opens a case, as /reporter/open would: counted alike.
        candor().take_rate_limit(db.session, "codename")
        return jsonify(error="submission_rejected", message=gettext(str(error))), 400
    except reports.SubmissionRejected as error:
        db.session.rollback()
        return jsonify(error="submission_rejected", message=gettext(str(error))), 400
    token = _open_reporter_session(filed.id)
    return jsonify(case_ref=filed.case_ref, number=filed.number, csrf_token=token), 201


def _retaliation_for(data: dict[str, Any]) -> Case | None:
    """The case a retaliation report follows: the one this reporter session has open. Raises
    SubmissionRejected if the report asks for a link and no case is open."""
    if not bool_field(data, "retaliation_for_open_case"):
        return None
    case_id = case_session.current_case_id()
    first = db.session.get(Case, case_id) if case_id is not None else None
    if first is None:
        raise reports.SubmissionRejected(RETALIATION_SESSION_ENDED)
    return first


def _open_reporter_session(case_id: int) -> str:
    """A fresh session for this case; returns its new CSRF token, which the client must use
    from now on (nothing from the session before carries over)."""
    case_session.open_for(case_id)
    return str(generate_csrf())


def current_reporter_case() -> Case:
    """The case this reporter session opened, if the session has not gone idle."""
    case_id = case_session.current_case_id()
    case = db.session.get(Case, case_id) if case_id is not None else None
    if case is None:
        case_session.close()
        abort(401, description=gettext("Your session ended. Enter your codename again."))
    return case


def view_of(case: Case) -> dict[str, Any]:
    """The reporter's view of ``case`` (``app/services/reporter_view.py``)."""
    return reporter_view(db.session, case, candor().taxonomy(), gettext)


@bp.post("/reporter/open")
def reporter_open() -> Response | tuple[Response, int]:
    candor().take_rate_limit(db.session, "codename")
    data = json_body()
    lookup_id = bytes_field(data, "lookup_id", size=reports.LOOKUP_ID_SIZE)
    case = reports.find_case(db.session, lookup_id, candor().config)
    if case is None:
        case_session.close()  # whatever case this browser had open is closed
        return jsonify(error="Not found", message=gettext(NOT_FOUND),
                       csrf_token=generate_csrf()), 404
    token = _open_reporter_session(case.id)
    return jsonify({**view_of(case), "csrf_token": token})


@bp.get("/reporter/case")
def reporter_case() -> Response:
    return jsonify(view_of(current_reporter_case()))


@bp.post("/reporter/messages")
def reporter_message() -> tuple[Response, int]:
    case = current_reporter_case()
    data = json_body()
    try:
        reports.add_reporter_message(db.session, case, text_field(data, "record_ref", 64),
                                     bytes_field(data, "ciphertext", max_size=RECORD_MAX_SIZE),
                                     int_field(data, "key_epoch"))
    except reports.SubmissionRejected as error:
        db.session.rollback()
        return jsonify(error="message_rejected", message=gettext(str(error))), 400
    db.session.commit()
    return jsonify(view_of(case)), 201


@bp.post("/reporter/leave")
def reporter_leave() -> Response:
    case_session.end()
    db.session.commit()
    return jsonify(message=gettext("Your session has ended."))
