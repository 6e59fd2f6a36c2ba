"""The reporter surface: no account, no identifying state."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from app import get_config
from app.extensions import db
from app.models import Case
from app.reporter import privacy as privacy_notice
from app.reporter import session as case_session
from app.services import directory
from app.services.routing import ROUTE_LABELS

bp = Blueprint("reporter", __name__)


@bp.get("/")
def index() -> str:
    pinned = directory.pinned_fingerprint(get_config(current_app))
    return render_template(
        "reporter/index.html", org_fingerprint=pinned,
        key_mismatch=pinned is not None and directory.current_fingerprint(db.session) != pinned,
    )


def retaliation_case() -> tuple[bool, Case | None]:
    """Whether this page reports retaliation (``?retaliation=1``), and the case it follows: the
    one this reporter session has open (None if the session ended)."""
    if request.args.get("retaliation") != "1":
        return False, None
    case_id = case_session.current_case_id()
    return True, db.session.get(Case, case_id) if case_id is not None else None


@bp.get("/report/new")
def new_report() -> str:
    """The report form. Its script encrypts in the browser, and only to directory entries signed
    by the organisation key whose fingerprint this page carries."""
    retaliation, first = retaliation_case()
    return render_template(
        "reporter/new.html",
        org_fingerprint=directory.pinned_fingerprint(get_config(current_app)),
        routes=ROUTE_LABELS, retaliation=retaliation, first_case=first,
    )


@bp.get("/report/case")
def case() -> str:
    """Coming back with the codename; the script derives everything from it in the browser."""
    return render_template("reporter/case.html")


@bp.get("/privacy")
def privacy() -> str:
    """The privacy notice (GDPR Arts. 13-14): the lab's text, or Candor's default."""
    config = get_config(current_app)
    blocks, own = privacy_notice.load(config.instance_path, dict(config.retention_days),
                                      config.backup_keep_days)
    return render_template("reporter/privacy.html", blocks=blocks, own=own)
