"""The governance surface: aggregate figures only, never case content.

Every figure comes from a release in the ledger (``app.services.packs``, built on
``app.services.releases``), checked against everything its audience already holds; nothing
here reads a case, a record or a grant.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import UTC, datetime

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

from app.auth.guards import staff_required
from app.extensions import db
from app.governance.charts import bar_chart
from app.models import AuditCheckpoint, AuditEntry, SessionPrincipal
from app.quarters import Quarter
from app.request_numbers import query_int
from app.roles import Permission
from app.services import audit, escalation, packs, releases, statistics
from app.services.readiness import route_readiness
from app.services.statistics import Pack, Scope
from app.state import candor

bp = Blueprint("governance", __name__, url_prefix="/governance")
AUDIT_PAGE_SIZE = 50


@bp.context_processor
def _template_helpers() -> dict[str, object]:
    return {"zip": zip}  # the pack tables walk labels and cells side by side


def _today() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _quarter(default: Quarter, source: Mapping[str, str] | None = None) -> Quarter:
    text = (request.args if source is None else source).get("quarter")
    if not text:
        return default
    try:
        quarter = Quarter.parse(text)
    except ValueError as error:
        abort(400, description=str(error))
    if not 2000 <= quarter.year <= _today().year + 1:
        abort(400, description="That quarter is out of range.")
    return quarter


def _scope(value: str) -> Scope:
    if value not in statistics.SCOPES:
        abort(404)
    return value


def _limits() -> releases.Limits:
    config = candor().config
    return releases.Limits(config.statistics_min_cell, config.public_min_cell)


def build(scope: Scope, last: Quarter) -> Pack:
    return packs.pack(db.session, scope, last, _today().date(),
                      candor().taxonomy(), _limits())


def _charts(pack: Pack) -> dict[str, object]:
    category = pack.tables[0]
    return {"quarters": bar_chart("Reports received per quarter", category.column_labels,
                                  category.table.column_totals)}


@bp.get("/")
@staff_required(Permission.VIEW_STATISTICS)
def home(principal: SessionPrincipal) -> str:
    pack = build("board", _quarter(Quarter.of(_today().date())))
    return render_template("governance/home.html", principal=principal,
                           routes=route_readiness(db.session), pack=pack, charts=_charts(pack))


@bp.get("/packs/<scope>")
@staff_required(Permission.VIEW_STATISTICS)
def pack_page(principal: SessionPrincipal, scope: str) -> str:
    pack = build(_scope(scope), _quarter(Quarter.last_ended(_today().date())))
    return render_template("governance/pack.html", principal=principal, pack=pack,
                           charts=_charts(pack))


@bp.post("/packs/delivered")
@staff_required(Permission.VIEW_STATISTICS)
def pack_delivered(principal: SessionPrincipal) -> Response:
    """Record that the quarter's packs went to the Board and to officers and directors: this
    meets the quarterly-pack deadline (app/services/escalation.py) and is audited."""
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    quarter = _quarter(Quarter.last_ended(_today().date()), source=request.form)
    today = _today().date()
    if today < quarter.next_first_day:
        abort(400, description=f"{quarter.label} has not ended yet.")
    recorded = escalation.record_quarterly_pack(
        db.session, quarter, principal.staff, today)
    db.session.commit()
    # Delivered: the quarter's figures are released now, to every audience, and frozen.
    releases.release_quarter(db.session, quarter, today,
                             candor().taxonomy(), _limits())
    flash(f"Delivery of the {quarter.label} packs recorded." if recorded else
          f"Delivery of the {quarter.label} packs was already recorded.", "success")
    return redirect(url_for(".pack_page", scope="board", quarter=quarter.label))  # type: ignore[return-value]


@bp.get("/packs/<scope>/<fmt>")
@staff_required(Permission.VIEW_STATISTICS)
def pack_export(principal: SessionPrincipal, scope: str, fmt: str) -> Response:
    pack = build(_scope(scope), _quarter(Quarter.last_ended(_today().date())))
    name = f"candor-{pack.scope}-{pack.quarter.label}"
    if fmt == "json":
        body, mimetype = json.dumps(pack.as_json(), indent=2), "application/json"
    elif fmt == "csv":
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(pack.csv_rows())
        body, mimetype = buffer.getvalue(), "text/csv"
    else:
        abort(404)
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


@bp.get("/audit")
@staff_required(Permission.VIEW_AUDIT_TRAIL)
def audit_trail(principal: SessionPrincipal) -> str:
    config = candor().config
    try:
        verify_key = audit.pinned_verify_key(config)
        key_problem = None
    except audit.AuditKeyError as error:
        verify_key, key_problem = None, str(error)
    # Walked in full at every visit: a cached verdict would hide an edit made since.
    verification = audit.verify(db.session, verify_key)
    page = db.paginate(db.select(AuditEntry).order_by(AuditEntry.id.desc()),
                       page=query_int("page", 1, minimum=1), per_page=AUDIT_PAGE_SIZE,
                       max_per_page=AUDIT_PAGE_SIZE, error_out=False)
    checkpoints = db.session.scalars(db.select(AuditCheckpoint)
                                     .order_by(AuditCheckpoint.id.desc()).limit(5)).all()
    return render_template("governance/audit.html", principal=principal, page=page,
                           verification=verification, checkpoints=checkpoints,
                           key_problem=key_problem, verify_key=verify_key)
