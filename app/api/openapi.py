"""The OpenAPI 3.1 description of ``/api/v1``, served at ``/api/v1/openapi.json``."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from app.api.blueprint import bp
from app.api.legal_hold import LEGAL_HOLD_PATHS
from app.api.openapi_staff import CSRF as STAFF_CSRF
from app.api.openapi_staff import PUZZLE_HASH, SIGN_IN_PATHS, STAFF_PATHS
from app.api.openapi_staff import SECURITY_SCHEME as STAFF_SECURITY_SCHEME

B64 = {"type": "string", "contentEncoding": "base64"}
ERROR = {"type": "object", "properties": {"error": {"type": "string"},
                                          "message": {"type": "string"}}}
CSRF: list[dict[str, list[str]]] = [{"csrfToken": []}]


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _answer(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, **(_json(schema) if schema else {})}


def _errors(*codes: int) -> dict[str, Any]:
    texts = {400: "Bad input or CSRF failure; nothing was stored", 401: "No reporter session",
             404: "Not found", 409: "No one can receive on this route", 413: "Too large"}
    return {str(code): _answer(texts[code], ERROR) for code in codes}


STAFF_IDS = {"type": "array", "items": {"type": "integer"}, "maxItems": 200}
READERS_REQUEST = {"type": "object", "required": ["route"], "properties": {
    "route": {"enum": ["rso", "executive", "board"]}, "concerns_rso": {"type": "boolean"},
    "concerned_staff_ids": STAFF_IDS}}
PERSON = {"type": "object", "properties": {"staff_id": {"type": "integer"},
                                           "username": {"type": "string"},
                                           "roles": {"type": "array",
                                                     "items": {"type": "string"}}}}
REF = {"type": "string", "pattern": "^[cr]-[0-9a-f]{32}$"}
SUBMISSION = {"type": "object", "required": [
    "case_ref", "route", "category", "lookup_id", "reporter_salt", "reporter_kdf_version",
    "reporter_public_key", "grants", "records"], "properties": {
    "case_ref": REF, "route": {"enum": ["rso", "executive", "board"]},
    "category": {"type": "string"}, "concerns_rso": {"type": "boolean"},
    "concerned_staff_ids": STAFF_IDS, "material_risk": {"type": "boolean"},
    "critical_incident": {"type": "boolean", "description": "A possible critical safety "
                          "incident (B&P §22757.13(c)); optional, false by default"},
    "imminent_risk": {"type": "boolean", "description": "With imminent risk of death or "
                      "serious injury; implies critical_incident"},
    "sb53_disclosure": {"type": "boolean"},
    "retaliation_for_open_case": {"type": "boolean", "description": "File this report as "
                                  "retaliation for the case this reporter session has open, "
                                  "linked to it (the server takes the case from the session)"},
    "lookup_id": B64, "reporter_salt": B64,
    "reporter_kdf_version": {"type": "integer"}, "reporter_public_key": B64,
    "proof_of_work": {"type": "object", "required": ["challenge", "nonce"],
                      "description": "A solved challenge from GET /proof-of-work; required "
                                     "unless that answers bits 0",
                      "properties": {"challenge": B64, "nonce": B64, "hash": PUZZLE_HASH}},
    "grants": {"type": "array", "items": {"type": "object", "required": ["kind", "grant"],
               "properties": {"kind": {"enum": ["recipient", "reporter", "escrow"]},
                              "staff_id": {"type": ["integer", "null"]}, "grant": B64}}},
    "records": {"type": "array", "maxItems": 4, "items": {
        "type": "object", "required": ["record_ref", "kind", "ciphertext"],
        "properties": {"record_ref": REF, "kind": {"enum": ["report", "identity"]},
                       "ciphertext": B64}}}}}
ENCRYPTED_RECORD = {"type": "object", "required": ["record_ref", "ciphertext"],
                    "properties": {"record_ref": REF, "ciphertext": B64}}
ATTACHMENT = {"type": "object", "description": "A complete attachment: its stream is under the "
              "file key in key_record (FILE_KEY), its name in name_record (FILE_NAME), both "
              "under the case key of key_epoch", "properties": {
    "attachment_ref": {"type": "string", "pattern": "^a-[0-9a-f]{32}$"},
    "author": {"enum": ["reporter", "staff"]},
    "created_on": {"type": "string", "format": "date"}, "key_epoch": {"type": "integer"},
    "frames": {"type": "integer"}, "size": {"type": "integer"},
    "key_record": ENCRYPTED_RECORD, "name_record": ENCRYPTED_RECORD}}
CASE_VIEW = {"type": "object", "properties": {
    **{name: {"type": "string"} for name in (
        "case_ref", "number", "status", "status_label", "route", "category", "received_on")},
    # None for a case whose deadline policy version the answering process does not know.
    **{name: {"type": ["string", "null"], "format": "date"} for name in (
        "acknowledge_by", "acknowledged_on", "feedback_by", "feedback_waiting_since",
        "next_update_by")},
    "reporter_salt": B64, "reporter_kdf_version": {"type": "integer"},
    "key_epoch": {"type": "integer", "description": "The current epoch of the case key: new "
                  "messages and attachments are encrypted under it"},
    "reporter_grants": {"type": "array", "items": {"type": "object", "properties": {
        "key_epoch": {"type": "integer"}, "grant": B64}}},
    "records": {"type": "array", "items": {"type": "object", "properties": {
        "record_ref": REF, "kind": {"type": "string"}, "author": {"enum": ["reporter", "staff"]},
        "created_on": {"type": "string", "format": "date"}, "key_epoch": {"type": "integer"},
        "purpose": {"type": ["string", "null"], "description": "For a message from the "
                    "recipients: update, feedback or outcome; null for a plain message, legacy "
                    "for one written before messages had a purpose"},
        "ciphertext": B64}}},
    "attachments": {"type": "array", "items": ATTACHMENT},
    "timeline": {"type": "array", "items": {"type": "object", "properties": {
        "kind": {"type": "string"}, "on": {"type": "string", "format": "date"},
        "detail": {"type": ["string", "null"]}}}},
    "csrf_token": {"type": "string"}}}


ATTACHMENT_REF = {"name": "attachment_ref", "in": "path", "required": True,
                  "schema": {"type": "string", "pattern": "^a-[0-9a-f]{32}$"}}
CASE_NUMBER = {"name": "number", "in": "path", "required": True,
               "schema": {"type": "string", "pattern": "^C-[0-9A-Z]{5}$"}}
CHUNK_INDEX = {"name": "index", "in": "path", "required": True,
               "schema": {"type": "integer", "minimum": 0}}
UPLOAD_STATUS = {"type": "object", "properties": {
    "attachment_ref": {"type": "string"}, "state": {"enum": ["uploading", "complete"]},
    "received_chunks": {"type": "integer"}, "received_frames": {"type": "integer"},
    "received_bytes": {"type": "integer"}, "max_frames": {"type": "integer"},
    "max_chunk_frames": {"type": "integer"}}}


def attachment_paths(prefix: str, who: str, case_parameters: list[dict[str, Any]],
                     errors: dict[str, Any]) -> dict[str, Any]:
    """The resumable upload protocol and the download, for the reporter's open case or for a
    case a staff member may see (app/api/attachments.py)."""
    post = {"security": STAFF_CSRF if who == "staff" else CSRF}
    one = [*case_parameters, ATTACHMENT_REF]
    start: dict[str, Any] = {
        "type": "object", "required": ["attachment_ref", "max_frames", "key_epoch"],
        "properties": {"attachment_ref": ATTACHMENT_REF["schema"],
                            "max_frames": {"type": "integer", "minimum": 1,
                                           "description": "At most how many 65,553-byte frames "
                                           "the stream will have; checked against the size "
                                           "limits before anything is stored"},
                            "key_epoch": {"type": "integer"}}}
    if who == "staff":
        start["properties"]["visible_to_reporter"] = {"type": "boolean", "default": True}
    complete = {"type": "object", "required": ["frames", "key_record", "name_record"],
                "properties": {"frames": {"type": "integer"}, "key_record": ENCRYPTED_RECORD,
                               "name_record": ENCRYPTED_RECORD}}
    refused = {**errors, **_errors(400, 404, 409, 413)}
    return {
        f"{prefix}/attachments": {"post": {
            **post, "summary": f"Start uploading an encrypted attachment ({who})",
            "parameters": case_parameters, "requestBody": _json(start),
            "responses": {"201": _answer("Upload started", UPLOAD_STATUS), **refused}}},
        f"{prefix}/attachments/{{attachment_ref}}/status": {"get": {
            "summary": "Which chunks of an upload arrived (to resume it)", "parameters": one,
            "responses": {"200": _answer("Status", UPLOAD_STATUS), **errors, **_errors(404)}}},
        f"{prefix}/attachments/{{attachment_ref}}/chunks/{{index}}": {"put": {
            **post, "summary": "One chunk, in order from 0: the 25-byte stream header (chunk 0 "
                               "only) then 1 to 16 whole frames of 65,553 bytes",
            "parameters": [*one, CHUNK_INDEX],
            "requestBody": {"content": {"application/octet-stream": {
                "schema": {"type": "string", "format": "binary"}}}},
            "responses": {"200": _answer("Stored", UPLOAD_STATUS), **refused,
                          "411": _answer("No Content-Length", ERROR)}}},
        f"{prefix}/attachments/{{attachment_ref}}/complete": {"post": {
            **post, "summary": "Finish an upload with its FILE_KEY and FILE_NAME records",
            "parameters": one, "requestBody": _json(complete),
            "responses": {"200": _answer("Complete", UPLOAD_STATUS), **refused}}},
        f"{prefix}/attachments/{{attachment_ref}}": {"get": {
            "summary": "The stored ciphertext of a complete attachment (SPEC 8.9 stream)",
            "parameters": one,
            "responses": {"200": {"description": "The stream", "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                **errors, **_errors(404)}}},
    }


def document() -> dict[str, Any]:
    post = {"security": CSRF}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Candor API", "version": "1",
                 "description": "Ciphertext and metadata only: every encryption happens in the "
                                "client (crypto/SPEC.md). Two surfaces, each with its own "
                                "session cookie and CSRF token, sent in the X-CSRFToken header "
                                "of every POST and PUT: a reporter's (GET /session; security "
                                "scheme csrfToken) and a member of staff's (GET /auth/session "
                                "at the site's root; scheme staffCsrfToken). A token of one "
                                "surface is refused on the other. Staff sign in with "
                                "/auth/prelogin then /auth/login (outside /api/v1), then "
                                "fetch a new staff token."},
        "servers": [{"url": "/api/v1"}],
        "components": {"securitySchemes": {
            "csrfToken": {"type": "apiKey", "in": "header", "name": "X-CSRFToken",
                          "description": "The reporter session's CSRF token, from GET /session "
                                         "(operation getReporterCsrfToken); answers that open "
                                         "a new reporter session carry the next one",
                          "x-token-operation": "getReporterCsrfToken"},
            "staffCsrfToken": STAFF_SECURITY_SCHEME}},
        "paths": {
            **SIGN_IN_PATHS,
            "/session": {"get": {"operationId": "getReporterCsrfToken",
                                 "summary": "A CSRF token of the reporter session",
                                 "responses": {"200": _answer("Token", {
                                     "type": "object", "required": ["csrf_token"],
                                     "properties": {"csrf_token": {"type": "string"}}})}}},
            "/directory": {"get": {"summary": "Signed key-directory entries of the recipients",
                                   "responses": {"200": _answer("Directory", {
                                       "type": "object", "properties": {
                                           "organisation_key": {**B64, "type": ["string", "null"]},
                                           "entries": {"type": "array", "items": B64}}})}}},
            "/report-options": {"get": {"summary": "Routes, categories, codename KDF parameters "
                                                   "(standard and light), and the outside "
                                                   "channels (authorities a reporter may go to "
                                                   "instead)",
                                        "responses": {"200": _answer("Options", {
                                            "type": "object"})}}},
            "/proof-of-work": {"get": {
                "summary": "A challenge to solve before filing a report: an 8-byte nonce such "
                           "that H('candor/v1/proof-of-work' NUL || challenge || nonce) "
                           "starts with bits zero bits, H one of the hashes listed "
                           "(crypto/SPEC.md 4.1); valid until expires (unix seconds), usable "
                           "once",
                "responses": {"200": _answer("Challenge", {
                    "type": "object", "properties": {
                        "challenge": B64, "bits": {"type": "integer"},
                        "expires": {"type": "integer"},
                        "hashes": {"type": "array", "items": PUZZLE_HASH}}})}}},
            "/readers": {"post": {**post, "summary": "Who reads a report now and on escalation",
                                  "requestBody": _json(READERS_REQUEST),
                                  "responses": {"200": _answer("Readers", {
                                      "type": "object", "properties": {
                                          "now": {"type": "array", "items": PERSON},
                                          "on_escalation": {"type": "array", "items": PERSON}}}),
                                      **_errors(400, 409)}}},
            "/reports": {"post": {**post, "summary": "File an encrypted report",
                                  "requestBody": _json(SUBMISSION),
                                  "responses": {"201": _answer("Filed", {
                                      "type": "object", "properties": {
                                          "case_ref": REF, "number": {"type": "string"},
                                          "csrf_token": {"type": "string"}}}),
                                      **_errors(400, 413)}}},
            "/reporter/open": {"post": {**post, "summary": "Open a case with a codename's "
                                        "lookup identifier",
                                        "requestBody": _json({"type": "object",
                                                              "required": ["lookup_id"],
                                                              "properties": {"lookup_id": B64}}),
                                        "responses": {"200": _answer("Case", CASE_VIEW),
                                                      **_errors(400, 404)}}},
            "/reporter/case": {"get": {"summary": "The open case, again",
                                       "responses": {"200": _answer("Case", CASE_VIEW),
                                                     **_errors(401)}}},
            "/reporter/messages": {"post": {**post, "summary": "Send an encrypted message",
                                            "requestBody": _json({
                                                "type": "object",
                                                "required": ["record_ref", "key_epoch",
                                                             "ciphertext"],
                                                "properties": {"record_ref": REF,
                                                               "key_epoch": {"type": "integer"},
                                                               "ciphertext": B64}}),
                                            "responses": {"201": _answer("Case", CASE_VIEW),
                                                          **_errors(400, 401)}}},
            "/reporter/minutes/agree": {"post": {
                **post, "summary": "Agree the minutes of a report a recipient took down",
                "responses": {"200": _answer("Case", CASE_VIEW),
                              **_errors(400, 401)}}},
            "/reporter/leave": {"post": {
                **post, "summary": "End the reporter session (\"Leave now\"): no cookie of it, "
                                   "copies included, opens anything afterwards",
                "responses": {"200": _answer("Ended", ERROR)}}},
            **attachment_paths("/reporter", "reporter", [], _errors(401)),
            **attachment_paths("/staff/cases/{number}", "staff", [CASE_NUMBER],
                               {"401": _answer("Not signed in", ERROR),
                                "403": _answer("Not a case handler", ERROR)}),
            **STAFF_PATHS,
            **LEGAL_HOLD_PATHS,
        },
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(document())
