"""The staff part of the OpenAPI document: case management (app/api/cases.py)."""

from __future__ import annotations

from typing import Any

from app.services.disclosures import HANDOVER_REASONS, HANDOVER_RECIPIENTS, REVEAL_REASONS
from app.services.intake import CHANNELS
from app.services.reporter_data import DESTRUCTION_REASONS, REQUEST_KINDS

B64 = {"type": "string", "contentEncoding": "base64"}
ERROR = {"type": "object", "properties": {"error": {"type": "string"},
                                          "message": {"type": "string"}}}
CSRF: list[dict[str, list[str]]] = [{"csrfToken": []}]
NUMBER = {"name": "number", "in": "path", "required": True,
          "schema": {"type": "string", "pattern": "^C-[0-9A-Z]{5}$"}}
RECORD: dict[str, Any] = {"type": "object", "required": ["record_ref", "key_epoch", "ciphertext"],
          "properties": {"record_ref": {"type": "string", "pattern": "^r-[0-9a-f]{32}$"},
                         "key_epoch": {"type": "integer"}, "ciphertext": B64}}
GRANT = {"type": "object", "required": ["kind", "grant"], "properties": {
    "kind": {"enum": ["recipient", "reporter", "escrow"]},
    "staff_id": {"type": ["integer", "null"]}, "grant": B64}}
REASON = {"type": "object", "required": ["reason"],
          "properties": {"reason": {"enum": list(DESTRUCTION_REASONS)}}}
CASE = {"type": "object", "description": "The case as this staff member may see it: metadata, "
        "their grants, records (identity only after an audited reveal), events, members"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _action(summary: str, body: dict[str, Any] | None, ok: str = "200",
            parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary, "security": CSRF, "parameters": parameters or [NUMBER],
        "responses": {ok: {"description": "Done", **_json(CASE)},
                      "400": {"description": "Refused; nothing changed", **_json(ERROR)},
                      "401": {"description": "Not signed in", **_json(ERROR)},
                      "403": {"description": "Not a case handler", **_json(ERROR)},
                      "404": {"description": "No such case for this person", **_json(ERROR)}}}
    if body is not None:
        operation["requestBody"] = _json(body)
    return operation


def _filters() -> list[dict[str, Any]]:
    return [{"name": name, "in": "query", "required": False, "schema": schema} for name, schema in (
        ("status", {"enum": ["open", "all", "received", "acknowledged", "triaged",
                             "investigating", "findings", "corrective_action", "closed"]}),
        ("category", {"type": "string"}), ("route", {"enum": ["rso", "executive", "board"]}),
        ("assignee", {"type": "string", "description": "me, none or a staff id"}),
        ("overdue", {"enum": ["0", "1"]}),
        ("flag", {"enum": ["material_risk", "sb53_disclosure", "identity_given",
                           "concerns_rso"]}),
        ("sort", {"enum": ["due", "received", "number"]}),
        ("page", {"type": "string", "pattern": "^[0-9]{1,6}$"}))]


TRANSITION = {"type": "object", "required": ["action"], "properties": {
    "action": {"enum": ["acknowledge", "triage", "investigate", "findings", "corrective_action",
                        "close", "reopen"]},
    "message": RECORD, "record": RECORD, "category": {"type": "string"},
    "severity": {"enum": ["low", "medium", "high", "critical"]},
    "retaliation_risk": {"enum": ["low", "medium", "high"]},
    "outcome": {"enum": ["substantiated", "partly_substantiated", "not_substantiated",
                         "out_of_scope"]},
    "material_risk_found": {"type": "boolean"}, "approver_id": {"type": "integer"}}}

STAFF_PATHS: dict[str, Any] = {
    "/staff/cases": {
        "get": {"summary": "The inbox: cases this person may see, filtered, one page",
                "parameters": _filters(),
                "responses": {"200": {"description": "Page", **_json({"type": "object"})},
                              "400": {"description": "Bad filter", **_json(ERROR)},
                              "401": {"description": "Not signed in", **_json(ERROR)},
                              "403": {"description": "Not a case handler", **_json(ERROR)}}},
        "post": _action("Open a case with no reporter", {
            "type": "object", "required": ["case_ref", "route", "category", "grants", "records"],
            "properties": {"case_ref": {"type": "string"}, "route": {"type": "string"},
                           "category": {"type": "string"}, "material_risk": {"type": "boolean"},
                           "grants": {"type": "array", "items": GRANT},
                           "records": {"type": "array", "items": RECORD}}}, "201", []),
    },
    "/staff/cases/{number}": {"get": {
        "summary": "One case", "parameters": [NUMBER],
        "responses": {"200": {"description": "Case", **_json(CASE)},
                      "404": {"description": "No such case for this person", **_json(ERROR)}}}},
    "/staff/cases/{number}/records": {"post": _action(
        "Write a note (never shown to the reporter) or a message", {
            **RECORD, "required": ["kind", *RECORD["required"]],
            "properties": {**RECORD["properties"], "kind": {"enum": ["note", "message"]}}},
        "201")},
    "/staff/cases/{number}/transitions": {"post": _action("Move the case on", TRANSITION)},
    "/staff/cases/{number}/assignee": {"post": _action("Assign or unassign", {
        "type": "object", "properties": {"staff_id": {"type": ["integer", "null"]}}})},
    "/staff/cases/{number}/members": {"post": _action("Share the case with a recipient", {
        "type": "object", "required": ["staff_id", "grants"], "properties": {
            "staff_id": {"type": "integer"}, "grants": {"type": "array", "items": {
                "type": "object", "properties": {"key_epoch": {"type": "integer"},
                                                 "grant": B64}}}}})},
    "/staff/cases/{number}/members/{staff_id}/revoke": {"post": _action(
        "Revoke a member's access and move the case to a new key", {
            "type": "object", "required": ["key_epoch", "grants"],
            "properties": {"key_epoch": {"type": "integer"},
                           "grants": {"type": "array", "items": GRANT}}},
        parameters=[NUMBER, {"name": "staff_id", "in": "path", "required": True,
                             "schema": {"type": "integer"}}])},
    "/staff/cases/{number}/recuse": {"post": _action("Recuse yourself from the case", None)},
    "/staff/cases/{number}/identity": {"post": _action(
        "Reveal the reporter's encrypted identity, with a reason (audited; the reporter is told)",
        {"type": "object", "required": ["reason"],
         "properties": {"reason": {"enum": list(REVEAL_REASONS)}}})},
    "/staff/cases/{number}/handovers": {"post": _action(
        "Record material passed beyond the case's readers; with the identity, a notice to the "
        "reporter or a note on why it would jeopardise the investigation", {
            "type": "object", "required": ["recipient", "reason"], "properties": {
                "recipient": {"enum": list(HANDOVER_RECIPIENTS)},
                "reason": {"enum": list(HANDOVER_REASONS)},
                "includes_identity": {"type": "boolean"}, "notice": RECORD,
                "withheld": RECORD}}, "201")},
    "/staff/cases/{number}/records/{record_ref}/destroy": {"post": _action(
        "Destroy one message, note or the identity as manifestly irrelevant (audited; the "
        "reporter is told)", REASON,
        parameters=[NUMBER, {"name": "record_ref", "in": "path", "required": True,
                             "schema": {"type": "string"}}])},
    "/staff/cases/{number}/attachments/{attachment_ref}/destroy": {"post": _action(
        "Destroy one attachment (its blob and its file key) as manifestly irrelevant", REASON,
        parameters=[NUMBER, {"name": "attachment_ref", "in": "path", "required": True,
                             "schema": {"type": "string"}}])},
    "/staff/cases/{number}/data-requests": {"post": _action(
        "Record the reporter's request to access or correct their data (due in a month)", {
            "type": "object", "required": ["kind"], "properties": {
                "kind": {"enum": list(REQUEST_KINDS)},
                "received_on": {"type": "string", "format": "date"},
                "request_record_ref": {"type": "string"}}}, "201")},
    "/staff/cases/{number}/data-requests/{request_id}/answer": {"post": _action(
        "Answer a recorded request with a message to the reporter", {
            "type": "object", "required": ["record"], "properties": {"record": RECORD}},
        parameters=[NUMBER, {"name": "request_id", "in": "path", "required": True,
                             "schema": {"type": "integer"}}])},
    "/staff/cases/{number}/intake": {"post": _action(
        "Mark a report received today as taken down with the reporter by phone or in person",
        {"type": "object", "required": ["channel"],
         "properties": {"channel": {"enum": list(CHANNELS)}}}, "201")},
    "/staff/cases/{number}/exports": {"post": _action(
        "Record an export about to be decrypted in this browser", None, "201")},
    "/staff/cases/{number}/links": {"post": _action("Link to another case", {
        "type": "object", "required": ["number", "link_kind"], "properties": {
            "number": {"type": "string"},
            "link_kind": {"enum": ["duplicate", "related", "retaliation"]}}})},
}
