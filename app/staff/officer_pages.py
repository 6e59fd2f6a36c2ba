"""The officers' and directors' page: the SB 53 shares sealed to them (Labor Code
§1107.1(e)(2)). A shell: its script (static/js/staff-officer-shares.js) fetches the shares and
opens each with the private key unlocked in this tab; no plaintext passes through here."""

from __future__ import annotations

from flask import render_template

from app.auth.guards import staff_required
from app.models import SessionPrincipal
from app.roles import Permission
from app.staff.blueprint import bp


@bp.get("/officer-shares")
@staff_required(Permission.READ_OFFICER_SHARES)
def officer_shares(principal: SessionPrincipal) -> str:
    return render_template("staff/officer_shares.html", principal=principal)
