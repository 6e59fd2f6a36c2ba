"""A staff member's client in tests: signs in through the API, unwraps their private key, opens
their grants and encrypts what they write, the way the staff pages' scripts do. The server gets
ciphertext only."""

from __future__ import annotations

import base64
from typing import Any

from flask.testing import FlaskClient

from candor_reporter.protocol import new_record_ref
from crypto.envelope import (
    CaseKey,
    GrantKind,
    RecordKind,
    decrypt_record,
    encrypt_record,
    open_grant,
    seal_case_key,
)
from crypto.keys import StaffKeyPair
from tests.support.staff import Account, StaffLogin, csrf_token


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class CaseworkClient:
    def __init__(self, client: FlaskClient, staff: StaffLogin, account: Account) -> None:
        self.client = client
        self.account = account
        response = staff.post_login(client, account)
        assert response.status_code == 200, response.get_json()
        self.keypair: StaffKeyPair = staff.unwrap(account, response.get_json()[
            "wrapped_private_key"])
        self.token = csrf_token(client, "/staff/")

    def get(self, path: str):  # type: ignore[no-untyped-def]
        return self.client.get(path)

    def post(self, path: str, body: Any = None):  # type: ignore[no-untyped-def]
        return self.client.post(path, json=body if body is not None else {},
                                headers={"X-CSRFToken": self.token})

    def inbox(self, **filters: str) -> dict[str, Any]:
        response = self.client.get("/api/v1/staff/cases", query_string=filters)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def case(self, number: str) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/staff/cases/{number}")
        assert response.status_code == 200, (response.status_code, response.get_json())
        return response.get_json()

    def case_key(self, view: dict[str, Any], epoch: int | None = None) -> CaseKey:
        wanted = view["key_epoch"] if epoch is None else epoch
        grant = next(g for g in view["grants"] if g["key_epoch"] == wanted)
        kind = GrantKind.ESCROW if grant["kind"] == "escrow" else GrantKind.RECIPIENT
        return open_grant(base64.b64decode(grant["grant"]), self.keypair, view["case_ref"], kind)

    def read(self, view: dict[str, Any], record: dict[str, Any]) -> str:
        key = self.case_key(view, record["key_epoch"])
        return decrypt_record(key, RecordKind[record["kind"].upper()], view["case_ref"],
                              record["record_ref"],
                              base64.b64decode(record["ciphertext"])).decode("utf-8")

    def texts(self, view: dict[str, Any]) -> dict[str, list[str]]:
        """Every record of the view, decrypted, by kind."""
        found: dict[str, list[str]] = {}
        for record in view["records"]:
            found.setdefault(record["kind"], []).append(self.read(view, record))
        return found

    def encrypted(self, view: dict[str, Any], kind: RecordKind, text: str) -> dict[str, Any]:
        ref = new_record_ref()
        ciphertext = encrypt_record(self.case_key(view), kind, view["case_ref"], ref,
                                    text.encode("utf-8"))
        return {"record_ref": ref, "key_epoch": view["key_epoch"], "ciphertext": b64(ciphertext)}

    def write(self, number: str, kind: str, text: str,  # type: ignore[no-untyped-def]
              purpose: str | None = None):
        view = self.case(number)
        record = self.encrypted(view, RecordKind[kind.upper()], text)
        extra = {"purpose": purpose} if purpose else {}
        return self.post(f"/api/v1/staff/cases/{number}/records",
                         {"kind": kind, **record, **extra})

    def act(self, number: str, action: str, **fields: Any):  # type: ignore[no-untyped-def]
        return self.post(f"/api/v1/staff/cases/{number}/transitions",
                         {"action": action, **fields})

    def acknowledge(self, number: str, message: str | None = None):  # type: ignore[no-untyped-def]
        fields: dict[str, Any] = {}
        if message is not None:
            fields["message"] = self.encrypted(self.case(number), RecordKind.MESSAGE, message)
        return self.act(number, "acknowledge", **fields)

    def seal_for(self, view: dict[str, Any], public_key: bytes, epoch: int,
                 kind: GrantKind = GrantKind.RECIPIENT) -> str:
        return b64(seal_case_key(self.case_key(view, epoch), public_key, view["case_ref"], kind))
