"""A staff client written from the API document alone signs in and acts (issue 16, finding 10).

The client below knows the protocol's cryptography (crypto/) and nothing of Candor's routes: it
finds each operation by its operationId, builds the URL from the document's servers and path,
sends only the fields the operation's schema names (and every required one), and takes the
CSRF header and the operation that gives its token from the operation's security scheme."""

from __future__ import annotations

import base64
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import CaseRecord
from app.roles import Role
from candor_reporter.protocol import new_record_ref
from crypto import kdf, keys
from crypto.envelope import GrantKind, RecordKind, encrypt_record, open_grant
from tests.support.reporting import ReporterClient
from tests.support.staff import StaffLogin

METHODS = {"get", "put", "post", "delete", "patch"}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class DocumentClient:
    def __init__(self, http: FlaskClient) -> None:
        self.http = http
        self.document: dict[str, Any] = http.get("/api/v1/openapi.json").get_json()
        self.operations: dict[str, tuple[str, str, dict[str, Any]]] = {}
        for path, item in self.document["paths"].items():
            server = (item.get("servers") or self.document["servers"])[0]["url"]
            for method, operation in item.items():
                if method in METHODS and "operationId" in operation:
                    self.operations[operation["operationId"]] = (
                        server.rstrip("/") + path, method.upper(), operation)

    def _body(self, operation: dict[str, Any], body: dict[str, Any] | None) -> Any:
        schema = (operation.get("requestBody", {}).get("content", {})
                  .get("application/json", {}).get("schema"))
        if schema is None:
            assert not body, "the document takes no body here"
            return {}
        given = body or {}
        assert set(schema.get("required", [])) <= set(given), "a required field is missing"
        assert set(given) <= set(schema.get("properties", {})), "a field the document lacks"
        return given

    def _headers(self, operation: dict[str, Any], scheme_override: str | None) -> dict[str, str]:
        headers = {}
        schemes = self.document["components"]["securitySchemes"]
        for requirement in operation.get("security", []):
            for name in requirement:
                scheme = schemes[scheme_override or name]
                headers[scheme["name"]] = self.token(scheme["x-token-operation"])
        return headers

    def token(self, operation_id: str) -> str:
        _url, _method, operation = self.operations[operation_id]
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        [field] = schema["required"]
        return str(self.call(operation_id).get_json()[field])

    def call(self, operation_id: str, body: dict[str, Any] | None = None,
             scheme_override: str | None = None, **path_values: str) -> Any:
        url, method, operation = self.operations[operation_id]
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                url = url.replace("{" + parameter["name"] + "}", path_values[parameter["name"]])
        assert "{" not in url
        kwargs: dict[str, Any] = {"headers": self._headers(operation, scheme_override)}
        if method != "GET":
            kwargs["json"] = self._body(operation, body)
        return self.http.open(url, method=method, **kwargs)


@pytest.fixture
def filed(app: Flask, staff: StaffLogin) -> tuple[str, str, str]:
    """(username, password, TOTP secret) of an RSO, with one report filed to them."""
    account = staff.create("rso1", Role.RSO)
    staff.create("board1", Role.BOARD)
    assert ReporterClient(app.test_client()).submit()[0].status_code == 201
    assert account.totp_secret
    return account.username, account.password, account.totp_secret


def test_a_client_from_the_document_signs_in_and_writes_a_note(
        app: Flask, filed: tuple[str, str, str]) -> None:
    username, password, totp_secret = filed
    client = DocumentClient(app.test_client())

    answer = client.call("staffPrelogin", {"username": username})
    assert answer.status_code == 200, answer.get_json()
    prelogin = answer.get_json()
    secrets = kdf.derive_staff_secrets(password, base64.b64decode(prelogin["salt"]),
                                       kdf.params_by_version(prelogin["kdf"]["version"]))
    signed_in = client.call("staffLogin", {"username": username,
                                           "login_secret": b64(secrets.login_secret),
                                           "totp": pyotp.TOTP(totp_secret).now()})
    assert signed_in.status_code == 200, signed_in.get_json()
    login = signed_in.get_json()
    keypair = keys.unwrap_private_key(base64.b64decode(login["wrapped_private_key"]),
                                      secrets.unwrap_key, login["staff_id"])

    [summary] = client.call("listCases").get_json()["cases"]
    view = client.call("getCase", number=summary["number"]).get_json()
    grant = next(g for g in view["grants"] if g["kind"] == "recipient")
    case_key = open_grant(base64.b64decode(grant["grant"]), keypair, view["case_ref"],
                          GrantKind.RECIPIENT)
    ref = new_record_ref()
    note = {"kind": "note", "record_ref": ref, "key_epoch": view["key_epoch"],
            "ciphertext": b64(encrypt_record(case_key, RecordKind.NOTE, view["case_ref"], ref,
                                             b"Checked the eval logs."))}
    # The token the document used to point staff to, the reporter session's, is refused.
    wrong = client.call("writeCaseRecord", note, scheme_override="csrfToken",
                        number=summary["number"])
    assert wrong.status_code == 400
    written = client.call("writeCaseRecord", note, number=summary["number"])
    assert written.status_code == 201, written.get_json()
    with app.app_context():
        assert db.session.scalar(select(CaseRecord.kind).where(
            CaseRecord.record_ref == ref)) == "note"
