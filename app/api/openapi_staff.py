"""The staff part of the OpenAPI document: signing in (app/auth/routes.py) and case management
(app/api/cases.py).

Staff requests carry the staff session's cookie and its CSRF token, from ``GET /auth/session``;
a reporter session's token (``GET /api/v1/session``) belongs to the other surface's cookie and
is refused here. Signing in starts a new session, so a client fetches the token again after it.
"""

from __future__ import annotations

from typing import Any

from app.services.disclosures import HANDOVER_REASONS, HANDOVER_RECIPIENTS, REVEAL_REASONS
from app.services.intake import CHANNELS
from app.services.reporter_data import DESTRUCTION_REASONS, REQUEST_KINDS
from app.services.staff_accounts import USERNAME_PATTERN
from crypto.proof_of_work import PROOF_OF_WORK_HASHES

B64 = {"type": "string", "contentEncoding": "base64"}
PUZZLE_HASH = {"enum": list(PROOF_OF_WORK_HASHES),
               "description": "The hash a puzzle is solved with (crypto/SPEC.md 4.1); "
                              "blake2b-256 when not named"}
ERROR = {"type": "object", "properties": {"error": {"type": "string"},
                                          "message": {"type": "string"}}}
CSRF: list[dict[str, list[str]]] = [{"staffCsrfToken": []}]
# The sign-in paths live outside /api/v1, at the site's root.
SITE_ROOT = [{"url": "/", "description": "The site's root: these paths are not under /api/v1"}]
KDF = {"type": "object", "required": ["version", "opslimit", "memlimit"], "properties": {
    "version": {"type": "integer"}, "opslimit": {"type": "integer"},
    "memlimit": {"type": "integer"}}}
SECURITY_SCHEME = {
    "type": "apiKey", "in": "header", "name": "X-CSRFToken",
    "description": "The staff session's CSRF token, from GET /auth/session (operation "
                   "getStaffCsrfToken), sent with the staff session's cookie. Fetch it again "
                   "after signing in: sign-in starts a new session.",
    "x-token-operation": "getStaffCsrfToken"}
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


def _action(operation_id: str, summary: str, body: dict[str, Any] | None, ok: str = "200",
            parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A POST of a case handler; its parameters are the case number unless given (``[]`` for
    none)."""
    operation: dict[str, Any] = {
        "operationId": operation_id, "summary": summary, "security": CSRF,
        "parameters": [NUMBER] if parameters is None else parameters,
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


INBOX = {"type": "object", "properties": {
    "cases": {"type": "array", "items": {"type": "object", "description": "A case's metadata",
                                         "properties": {"number": NUMBER["schema"]}}},
    "page": {"type": "integer"}}}
TRANSITION = {"type": "object", "required": ["action"], "properties": {
    "action": {"enum": ["acknowledge", "triage", "investigate", "findings", "corrective_action",
                        "close", "reopen"]},
    "message": RECORD, "record": RECORD, "category": {"type": "string"},
    "severity": {"enum": ["low", "medium", "high", "critical"]},
    "retaliation_risk": {"enum": ["low", "medium", "high"]},
    "outcome": {"enum": ["substantiated", "partly_substantiated", "not_substantiated",
                         "out_of_scope"]},
    "material_risk_found": {"type": "boolean"}, "approver_id": {"type": "integer"}},
    "description": "close: a case with a reporter needs message, the outcome for the reporter "
                   "and where they can turn next (it meets the feedback and update clocks)"}

STAFF_PATHS: dict[str, Any] = {
    "/staff/cases": {
        "get": {"operationId": "listCases",
                "summary": "The inbox: cases this person may see, filtered, one page",
                "parameters": _filters(),
                "responses": {"200": {"description": "Page", **_json(INBOX)},
                              "400": {"description": "Bad filter", **_json(ERROR)},
                              "401": {"description": "Not signed in", **_json(ERROR)},
                              "403": {"description": "Not a case handler", **_json(ERROR)}}},
        "post": _action("openCase", "Open a case with no reporter", {
            "type": "object", "required": ["case_ref", "route", "category", "grants", "records"],
            "properties": {"case_ref": {"type": "string"}, "route": {"type": "string"},
                           "category": {"type": "string"}, "material_risk": {"type": "boolean"},
                           "grants": {"type": "array", "items": GRANT},
                           "records": {"type": "array", "items": RECORD}}}, "201", []),
    },
    "/staff/cases/{number}": {"get": {
        "operationId": "getCase", "summary": "One case", "parameters": [NUMBER],
        "responses": {"200": {"description": "Case", **_json(CASE)},
                      "404": {"description": "No such case for this person", **_json(ERROR)}}}},
    "/staff/cases/{number}/records": {"post": _action(
        "writeCaseRecord", "Write a note (never shown to the reporter) or a message", {
            **RECORD, "required": ["kind", *RECORD["required"]],
            "properties": {**RECORD["properties"], "kind": {"enum": ["note", "message"]},
                           "purpose": {"enum": ["update", "feedback", None],
                                       "description": "A message that is a status update "
                                       "or feedback meets that clock; a plain one none"}}},
        "201")},
    "/staff/cases/{number}/transitions": {"post": _action("moveCase", "Move the case on",
                                                          TRANSITION)},
    "/staff/cases/{number}/assignee": {"post": _action("assignCase", "Assign or unassign", {
        "type": "object", "properties": {"staff_id": {"type": ["integer", "null"]}}})},
    "/staff/cases/{number}/members": {"post": _action(
        "shareCase", "Share the case with a recipient", {
        "type": "object", "required": ["staff_id", "grants"], "properties": {
            "staff_id": {"type": "integer"}, "grants": {"type": "array", "items": {
                "type": "object", "properties": {"key_epoch": {"type": "integer"},
                                                 "grant": B64}}}}})},
    "/staff/cases/{number}/members/{staff_id}/revoke": {"post": _action(
        "revokeCaseMember", "Revoke a member's access and move the case to a new key", {
            "type": "object", "required": ["key_epoch", "grants"],
            "properties": {"key_epoch": {"type": "integer"},
                           "grants": {"type": "array", "items": GRANT}}},
        parameters=[NUMBER, {"name": "staff_id", "in": "path", "required": True,
                             "schema": {"type": "integer"}}])},
    "/staff/cases/{number}/recuse": {"post": _action("recuse", "Recuse yourself from the case",
                                                     None)},
    "/staff/cases/{number}/identity": {"post": _action(
        "revealIdentity",
        "Reveal the reporter's encrypted identity, with a reason (audited; the reporter is told)",
        {"type": "object", "required": ["reason"],
         "properties": {"reason": {"enum": list(REVEAL_REASONS)}}})},
    "/staff/cases/{number}/handovers": {"post": _action(
        "recordHandover",
        "Record material passed beyond the case's readers; with the identity, a notice to the "
        "reporter or a note on why it would jeopardise the investigation", {
            "type": "object", "required": ["recipient", "reason"], "properties": {
                "recipient": {"enum": list(HANDOVER_RECIPIENTS)},
                "reason": {"enum": list(HANDOVER_REASONS)},
                "includes_identity": {"type": "boolean"}, "notice": RECORD,
                "withheld": RECORD}}, "201")},
    "/staff/cases/{number}/records/{record_ref}/destroy": {"post": _action(
        "destroyRecord",
        "Destroy one message, note or the identity as manifestly irrelevant (audited; the "
        "reporter is told)", REASON,
        parameters=[NUMBER, {"name": "record_ref", "in": "path", "required": True,
                             "schema": {"type": "string"}}])},
    "/staff/cases/{number}/attachments/{attachment_ref}/destroy": {"post": _action(
        "destroyAttachment",
        "Destroy one attachment (its blob and its file key) as manifestly irrelevant", REASON,
        parameters=[NUMBER, {"name": "attachment_ref", "in": "path", "required": True,
                             "schema": {"type": "string"}}])},
    "/staff/cases/{number}/data-requests": {"post": _action(
        "recordDataRequest",
        "Record the reporter's request to access or correct their data (due in a month)", {
            "type": "object", "required": ["kind"], "properties": {
                "kind": {"enum": list(REQUEST_KINDS)},
                "received_on": {"type": "string", "format": "date"},
                "request_record_ref": {"type": "string"}}}, "201")},
    "/staff/cases/{number}/data-requests/{request_id}/answer": {"post": _action(
        "answerDataRequest", "Answer a recorded request with a message to the reporter", {
            "type": "object", "required": ["record"], "properties": {"record": RECORD}},
        parameters=[NUMBER, {"name": "request_id", "in": "path", "required": True,
                             "schema": {"type": "integer"}}])},
    "/staff/cases/{number}/intake": {"post": _action(
        "markIntake",
        "Mark a report received today as taken down with the reporter by phone or in person",
        {"type": "object", "required": ["channel"],
         "properties": {"channel": {"enum": list(CHANNELS)}}}, "201")},
    "/staff/cases/{number}/exports": {"post": _action(
        "recordExport", "Record an export about to be decrypted in this browser", None, "201")},
    "/staff/cases/{number}/links": {"post": _action("linkCase", "Link to another case", {
        "type": "object", "required": ["number", "link_kind"], "properties": {
            "number": {"type": "string"},
            "link_kind": {"enum": ["duplicate", "related", "retaliation"]}}})},
    "/staff/cases/{number}/sb53-share": {
        "get": {"operationId": "getSb53ShareRecipients",
                "summary": "The officers and directors this SB 53 case's quarterly share is "
                           "sealed to, and the shares written so far",
                "parameters": [NUMBER],
                "responses": {"200": {"description": "Recipients", **_json({"type": "object"})},
                              "404": {"description": "No such case for this person",
                                      **_json(ERROR)}}},
        "post": _action(
            "writeSb53Share",
            "Write the quarter's SB 53 share: a summary sealed to exactly the officers and "
            "directors not named in the case (SPEC 8.11), and the same words to the reporter", {
                "type": "object", "required": ["share_ref", "summary", "grants", "message"],
                "properties": {
                    "share_ref": {"type": "string", "pattern": "^s-[0-9a-f]{32}$"},
                    "summary": B64, "message": RECORD,
                    "grants": {"type": "array", "items": {
                        "type": "object", "required": ["staff_id", "grant"],
                        "properties": {"staff_id": {"type": "integer"}, "grant": B64}}}}},
            "201")},
    "/staff/officer-shares": {"get": {
        "operationId": "listOfficerShares",
        "summary": "The SB 53 shares sealed to this officer or director",
        "responses": {"200": {"description": "Shares", **_json({"type": "object"})},
                      "401": {"description": "Not signed in", **_json(ERROR)},
                      "403": {"description": "Not an officer or director", **_json(ERROR)}}}},
}


def _auth(operation_id: str, summary: str, body: dict[str, Any], answer: dict[str, Any],
          errors: dict[str, str], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"servers": SITE_ROOT, "post": {
        "operationId": operation_id, "summary": summary, "security": CSRF,
        "requestBody": _json(body),
        "responses": {"200": {"description": "Done", **_json(answer)},
                      **{code: {"description": text, **_json(ERROR)}
                         for code, text in errors.items()}, **(extra or {})}}}


# After many failures with a username, each attempt with it needs a solved puzzle (README,
# "Two factors"; app/services/throttle.py).
PUZZLE_SOLUTION = {
    "type": "object", "required": ["challenge", "nonce"],
    "description": "A solution of the puzzle from a 429 proof_of_work_required answer: an "
                   "8-byte nonce such that H('candor/v1/proof-of-work' NUL || challenge || "
                   "nonce) starts with bits zero bits, H the hash named (crypto/SPEC.md 4.1)",
    "properties": {"challenge": B64, "nonce": B64, "hash": PUZZLE_HASH}}
PUZZLE_REQUIRED = {"429": {
    "description": "Many attempts with this username failed: solve the puzzle given and send "
                   "again with proof_of_work. Nothing was checked or counted.",
    **_json({"type": "object", "properties": {
        "error": {"const": "proof_of_work_required"}, "message": {"type": "string"},
        "proof_of_work": {"type": "object", "properties": {
            "challenge": B64, "bits": {"type": "integer"}, "expires": {"type": "integer"},
            "hashes": {"type": "array", "items": PUZZLE_HASH}}}}})}}


USERNAME = {"type": "string", "pattern": f"^{USERNAME_PATTERN}$",
            "description": "Compared in lower case, without surrounding spaces"}
SIGN_IN_PATHS: dict[str, Any] = {
    "/auth/session": {"servers": SITE_ROOT, "get": {
        "operationId": "getStaffCsrfToken",
        "summary": "A CSRF token of the staff session (sets its cookie); fetch it again after "
                   "signing in",
        "responses": {"200": {"description": "Token", **_json({
            "type": "object", "required": ["csrf_token"],
            "properties": {"csrf_token": {"type": "string"}}})}}}},
    "/auth/prelogin": _auth(
        "staffPrelogin", "The salt and key-derivation parameters for a username (any name "
        "gets an answer, so the answers reveal no account)",
        {"type": "object", "required": ["username"], "properties": {"username": USERNAME}},
        {"type": "object", "required": ["salt", "kdf"], "properties": {
            "salt": {**B64, "description": "Argon2id salt of this account's password"},
            "kdf": {**KDF, "description": "Argon2id parameters (crypto/SPEC.md, staff "
                    "password): from the password and salt derive the login secret (sent) "
                    "and the unwrapping key (kept)"}}},
        {"400": "Malformed username"}),
    "/auth/login": _auth(
        "staffLogin", "Sign in with the login secret derived from the password, and a TOTP "
        "code; starts a new staff session (fetch a new CSRF token after it)",
        {"type": "object", "required": ["username", "login_secret", "totp"], "properties": {
            "username": USERNAME,
            "login_secret": {**B64, "description": "32 bytes derived from the password with "
                             "the salt and parameters from /auth/prelogin"},
            "totp": {"type": "string", "pattern": "^[0-9]{0,8}$",
                     "description": "The current code of the account's authenticator; empty "
                                    "at the first sign-in, before TOTP is set up, and when "
                                    "a passkey signs in instead"},
            "passkey": {"type": "object", "description": "Instead of a code: a WebAuthn "
                        "assertion (PublicKeyCredential as JSON, base64url fields, no "
                        "extension results) over a challenge from "
                        "POST /auth/passkeys/sign-in/options, made with user verification"},
            "proof_of_work": PUZZLE_SOLUTION}},
        {"type": "object", "required": ["wrapped_private_key", "staff_id", "next"],
         "properties": {
            "wrapped_private_key": {**B64, "description": "The staff private key wrapped "
                                    "under the unwrapping key (crypto/SPEC.md)"},
            "staff_id": {"type": "string", "description": "Bound into the wrapping"},
            "next": {"type": "string", "description": "The page a browser goes to next"}}},
        {"400": "Malformed input or CSRF failure",
         "401": "Wrong name, password, code or passkey; or (error passkey_needed) this "
                "account's role signs in with a passkey, not a code"},
        PUZZLE_REQUIRED),
}
