"""The reporter surface: no account, no identifying state."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.extensions import db
from app.services import directory

bp = Blueprint("reporter", __name__)


@bp.get("/")
def index() -> str:
    return render_template(
        "reporter/index.html", org_fingerprint=directory.current_fingerprint(db.session)
    )
