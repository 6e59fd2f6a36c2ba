"""The staff case pages: the inbox, a case, and opening a case with no reporter.

These are shells. Their script (static/js/staff-cases.js) fetches ciphertext from the staff
case API, opens the case key with the private key unlocked in this tab, and decrypts and
encrypts in the browser: no plaintext of a case passes through these views.
"""

from __future__ import annotations

from typing import Any

from flask import abort, render_template

from app import vocabulary
from app.auth.guards import staff_required
from app.extensions import db
from app.models import SessionPrincipal
from app.roles import Permission
from app.services import cases, directory, disclosures, intake, reporter_data
from app.services.routing import ROUTE_LABELS
from app.staff.blueprint import bp
from app.state import candor


def _shell(template: str, principal: SessionPrincipal, **context: Any) -> str:
    """A case page with what its script needs: who is signed in, the taxonomy and routes for
    the forms, and the organisation key fingerprint against which directory keys are checked
    before a case key is sealed to them (pinned outside the database, as for reporters)."""
    return render_template(
        template, principal=principal,
        org_fingerprint=directory.pinned_fingerprint(candor().config) or "",
        taxonomy=candor().taxonomy(),
        routes=ROUTE_LABELS, statuses=vocabulary.STATUSES, severities=vocabulary.SEVERITIES,
        retaliation_risks=vocabulary.RETALIATION_RISKS, outcomes=vocabulary.OUTCOMES,
        link_kinds=vocabulary.LINK_KINDS, flags=cases.FLAGS, words=vocabulary.page_words("staff"),
        reveal_reasons=disclosures.REVEAL_REASONS, handover_reasons=disclosures.HANDOVER_REASONS,
        handover_recipients=disclosures.HANDOVER_RECIPIENTS,
        destruction_reasons=reporter_data.DESTRUCTION_REASONS,
        request_kinds=reporter_data.REQUEST_KINDS, intake_channels=intake.CHANNELS, **context)


@bp.get("/cases")
@staff_required(Permission.HANDLE_CASES)
def cases_inbox(principal: SessionPrincipal) -> str:
    return _shell("staff/cases/inbox.html", principal)


@bp.get("/cases/new")
@staff_required(Permission.HANDLE_CASES)
def case_new(principal: SessionPrincipal) -> str:
    return _shell("staff/cases/new.html", principal)


@bp.get("/cases/<number>")
@staff_required(Permission.HANDLE_CASES)
def case_page(principal: SessionPrincipal, number: str) -> str:
    # A case this person may not see is answered exactly like one that does not exist.
    try:
        case = cases.visible_case(db.session, principal.staff, number)
    except cases.CaseNotFound:
        abort(404)
    return _shell("staff/cases/case.html", principal, number=case.number,
                  closure_next_steps=cases.closure_next_steps(
                      candor().config.instance_path))
