"""The governance surface: aggregate figures only, never case content."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.auth.guards import staff_required
from app.extensions import db
from app.models import SessionPrincipal
from app.roles import Permission
from app.services.readiness import route_readiness

bp = Blueprint("governance", __name__, url_prefix="/governance")


@bp.get("/")
@staff_required(Permission.VIEW_STATISTICS)
def home(principal: SessionPrincipal) -> str:
    return render_template("governance/home.html", principal=principal,
                           routes=route_readiness(db.session))
