"""What a reporter sees of their case, the same on the JavaScript and no-JavaScript paths, and the
messages both paths give for the same refusals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.extensions import DbSession
from app.models import Case
from app.services import attachments, deadlines, intake
from app.taxonomy import Taxonomy
from app.vocabulary import REPORTER_STATUS_LABELS
from candor_reporter.languages import N_
from candor_reporter.protocol import b64

NOT_FOUND = N_("No report matches this codename. Check each word and try again.")
RETALIATION_SESSION_ENDED = N_(
    "Your session on your first report ended, so this report cannot be linked to it. Open "
    "your first report again with its codename, then choose \"I am facing retaliation\".")


def reporter_view(session: DbSession, case: Case, taxonomy: Taxonomy,
                  translate: Callable[[str], str] = str) -> dict[str, Any]:
    """Everything the reporter may see of their case: status, dates, and the ciphertext of the
    records and attachments meant for them with their own copy of the case key for every key
    epoch. Never staff notes. Records are identified by their refs and dated by day; row ids,
    which would tell the order of everything in the database, are never shown. The status and
    the timeline's sentences come through ``translate``, the reporter's language."""
    params = case.reporter_kdf_version
    category = taxonomy.get(case.category)
    return {
        "case_ref": case.case_ref,
        "number": case.number,
        "status": case.status,
        "status_label": translate(REPORTER_STATUS_LABELS.get(case.status, case.status)),
        "acknowledged_on": case.acknowledged_on.isoformat() if case.acknowledged_on else None,
        "route": case.route,
        "category": translate(category.label) if category else case.category,
        "received_on": case.received_on.isoformat(),
        # Under the case's own deadline policy: when the next status update and the feedback
        # are due (waiting for the reporter's answer never moves the feedback date).
        **deadlines.reporter_dates(case, session),
        "reporter_salt": b64(case.reporter_salt or b""),
        "reporter_kdf_version": params,
        "key_epoch": case.key_epoch,
        "reporter_grants": [{"key_epoch": g.key_epoch, "grant": b64(g.grant)}
                            for g in case.grants if g.kind == "reporter"],
        "records": [
            {"record_ref": r.record_ref, "kind": r.kind, "author": r.author,
             "purpose": r.purpose, "created_on": r.created_on.isoformat(),
             "key_epoch": r.key_epoch,
             "ciphertext": b64(r.ciphertext)}
            for r in case.records
            if r.visible_to_reporter and r.kind not in attachments.RECORD_KINDS
        ],
        "attachments": attachments.describe(case, visible_to_reporter_only=True),
        "timeline": [
            {"kind": e.kind, "on": e.occurred_on.isoformat(),
             "detail": translate(e.detail) if e.detail else e.detail}
            for e in case.events if e.visible_to_reporter
        ],
        "minutes": _minutes(session, case),
    }


def _minutes(session: DbSession, case: Case) -> dict[str, Any] | None:
    """For a report a recipient took down with the reporter: when, and whether agreed."""
    taken = intake.intake_of(session, case)
    if taken is None:
        return None
    return {"channel": taken.channel, "taken_on": taken.taken_on.isoformat(),
            "agreed_on": taken.minutes_agreed_on.isoformat() if taken.minutes_agreed_on
            else None}
