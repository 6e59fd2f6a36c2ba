"""The workflow's words, in one place: the values the database and the API carry (enums, as
``Route`` and ``Role`` are) and the labels people read for them. The pages' scripts take their
labels from here too (``page_words``, rendered into each page as JSON), so a status, an outcome
or an event is added with one edit in Python and its label, never in a script as well.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Literal

from markupsafe import Markup

from candor_reporter.languages import N_
from candor_reporter.protocol import READER_ROLE_LABELS


class Status(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    TRIAGED = "triaged"
    INVESTIGATING = "investigating"
    FINDINGS = "findings"
    CORRECTIVE_ACTION = "corrective_action"
    CLOSED = "closed"


class Outcome(StrEnum):
    SUBSTANTIATED = "substantiated"
    PARTLY_SUBSTANTIATED = "partly_substantiated"
    NOT_SUBSTANTIATED = "not_substantiated"
    OUT_OF_SCOPE = "out_of_scope"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class RetaliationRisk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class LinkKind(StrEnum):
    DUPLICATE = "duplicate"
    RELATED = "related"
    RETALIATION = "retaliation"


class Purpose(StrEnum):
    """What a message to the reporter is for (``CaseRecord.purpose``; plain messages have none).
    A status update tells the status of the investigation and the actions taken (SB 53, Labor
    Code §1107.1(e)(1)); feedback, the action envisaged or taken and its grounds (EU Directive
    art. 5(13), 9(1)(f)); the outcome is written at closure, with where the reporter can turn
    next."""

    UPDATE = "update"
    FEEDBACK = "feedback"
    OUTCOME = "outcome"
    SB53_SHARE = "sb53_share"  # the reporter's copy of what was shared with officers (SB 53)


# In order: tuples of the members, which compare equal to their strings.
STATUSES = tuple(Status)
OUTCOMES = tuple(Outcome)
SEVERITIES = tuple(Severity)
RETALIATION_RISKS = tuple(RetaliationRisk)
LINK_KINDS = tuple(LinkKind)

# What staff and governance read for a status.
STATUS_LABELS: dict[str, str] = {
    Status.RECEIVED: "Received", Status.ACKNOWLEDGED: "Acknowledged",
    Status.TRIAGED: "Triaged", Status.INVESTIGATING: "Investigating",
    Status.FINDINGS: "Findings recorded", Status.CORRECTIVE_ACTION: "Corrective action",
    Status.CLOSED: "Closed",
}
# What the reporter reads as the status of their case: words of their own, not staff's.
REPORTER_STATUS_LABELS: dict[str, str] = {
    Status.RECEIVED: N_("Received, waiting to be acknowledged"),
    Status.ACKNOWLEDGED: N_("Acknowledged"),
    Status.TRIAGED: N_("Assessed, to be looked into"),
    Status.INVESTIGATING: N_("Being investigated"),
    Status.FINDINGS: N_("Investigation concluded"),
    Status.CORRECTIVE_ACTION: N_("Action being taken"),
    Status.CLOSED: N_("Closed"),
}
OUTCOME_LABELS: dict[str, str] = {
    Outcome.SUBSTANTIATED: "Substantiated", Outcome.PARTLY_SUBSTANTIATED: "Partly substantiated",
    Outcome.NOT_SUBSTANTIATED: "Not substantiated", Outcome.OUT_OF_SCOPE: "Out of scope",
}
PURPOSE_LABELS: dict[str, str] = {
    Purpose.UPDATE: "Status update", Purpose.FEEDBACK: "Feedback", Purpose.OUTCOME: "Outcome",
    Purpose.SB53_SHARE: "SB 53 share",
}
REPORTER_PURPOSE_LABELS: dict[str, str] = {
    Purpose.UPDATE: N_("Status update"), Purpose.FEEDBACK: N_("Feedback"),
    Purpose.OUTCOME: N_("Outcome"),
    Purpose.SB53_SHARE: N_("Shared with officers and directors (SB 53)")}
# The staff case page's short names for the routes (the reporter's form has longer ones).
ROUTE_SHORT_LABELS = {"rso": "RSO", "executive": "Executive", "board": "Board"}
# Each entry of a case's timeline (``CaseEvent.action``), as staff read it.
EVENT_LABELS = {
    "received": "Report received", "acknowledge": "Acknowledged", "triage": "Triaged",
    "investigate": "Investigation started", "findings": "Findings recorded",
    "corrective_action": "Corrective action recorded", "close": "Closed", "reopen": "Reopened",
    "message_written": "Message to the reporter", "note_written": "Internal note written",
    "assigned": "Assignment changed", "shared": "Shared with another recipient",
    "access_revoked": "Access revoked, case key replaced", "recused": "A recipient recused",
    "identity_revealed": "Identity revealed", "linked": "Linked to another case",
    "opened_by_staff": "Opened by staff", "escalated": "Escalated to the Board",
    "update_written": "Status update to the reporter",
    "feedback_written": "Feedback to the reporter",
    "retaliation_risk_assessed": "Retaliation risk assessed",
    "critical_incident_flagged": "Flagged as a critical safety incident",
    "authority_notified": "Notice to the authority recorded",
    "waiting_for_reporter": "Waiting for the reporter", "checkin": "Follow-up check-in",
    "board_notified": "Board told",
    "handed_over": "Material handed over beyond the case", "exported": "Exported",
    "disclosure_notice": "Reporter told their identity will be passed on",
    "record_destroyed": "A record was destroyed", "data_request": "Data request recorded",
    "data_request_answered": "Data request answered",
    "taken_on_behalf": "Report taken down with the reporter", "minutes_agreed": "Minutes agreed",
    "sb53_shared": "Shared with officers and directors (SB 53)",
}
# What the case page says once a step is taken.
ACTION_DONE = {
    "acknowledge": "Acknowledged.", "triage": "Triaged.",
    "investigate": "The investigation is open.",
    "findings": "Findings recorded.", "corrective_action": "Corrective action recorded.",
    "close": "Closed.", "reopen": "Reopened.",
}
# The clocks of a case, as a sentence's object ("the … is overdue").
CLOCK_LABELS = {
    "acknowledge": "acknowledgement", "feedback": "feedback to the reporter",
    "status_update": "status update", "board_notice": "Board notice", "triage": "triage",
    "investigation_start": "start of the investigation", "checkin": "follow-up check-in",
    "critical_incident": "notice to the authority",
    "incident_imminent": "notice to the authority (24 hours)",
    "sb53_share": "SB 53 share with officers and directors",
}
FLAG_LABELS = {
    "material_risk": "Possible material safety risk", "sb53_disclosure": "SB 53 disclosure",
    "identity_given": "Identity given", "concerns_rso": "Concerns the RSO",
    "critical_incident": "Critical safety incident",
}
# What the reporter reads for each kind of record of their case.
REPORTER_RECORD_LABELS = {
    "report": N_("Report"), "identity": N_("Identity and contact details"),
    "message": N_("Message"),
}


def page_words(surface: Literal["staff", "reporter"],
               translate: Callable[[str], str] | None = None,
               text: Mapping[str, str] | None = None) -> dict[str, dict[str, str]]:
    """The labels a surface's scripts show, keyed by the values the API sends. The reporter's
    come through ``translate`` (the page language's catalogue), with ``text``: the scripts' own
    messages in that language, keyed by their English (``app.languages.script_text``)."""
    if surface == "reporter":
        def translated(labels: Mapping[str, str]) -> dict[str, str]:
            return {key: translate(label) if translate else label
                    for key, label in labels.items()}

        return {"roles": translated(READER_ROLE_LABELS),
                "records": translated(REPORTER_RECORD_LABELS),
                "purposes": translated(REPORTER_PURPOSE_LABELS),
                "text": dict(text or {})}
    return {"statuses": STATUS_LABELS, "outcomes": OUTCOME_LABELS,
            "events": EVENT_LABELS, "actions": ACTION_DONE, "clocks": CLOCK_LABELS,
            "purposes": PURPOSE_LABELS,
            "flags": FLAG_LABELS, "routes": ROUTE_SHORT_LABELS}


def page_words_meta(surface: Literal["staff", "reporter"],
                    translate: Callable[[str], str] | None = None,
                    text: Mapping[str, str] | None = None) -> Markup:
    """``page_words`` as a ``<meta name="candor-words">`` for the page's script: in an attribute
    (escaped by ``format``), as the pages carry all their data; the CSP allows no inline script."""
    return Markup('<meta name="candor-words" content="{}">').format(
        json.dumps(page_words(surface, translate, text), ensure_ascii=False))
