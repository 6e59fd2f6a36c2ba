"""The reporter surface: no account, no identifying state."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from app import get_config
from app.extensions import db
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


@bp.get("/report/new")
def new_report() -> str:
    """The report form. Its script encrypts in the browser, and only to directory entries signed
    by the organisation key whose fingerprint this page carries."""
    return render_template(
        "reporter/new.html",
        org_fingerprint=directory.pinned_fingerprint(get_config(current_app)),
        routes=ROUTE_LABELS,
    )


@bp.get("/report/case")
def case() -> str:
    """Coming back with the codename; the script derives everything from it in the browser."""
    return render_template("reporter/case.html")
