"""The reporter's side of the Candor protocol, on plain data: verifying the key directory,
building a submission, opening a case view with the codename, writing a message.

Three callers use it: the command-line client (all of it runs on the reporter's machine), the
no-JavaScript path (run in memory for one request on the server), and the tests. The browser
does the same in ``app/static/js/reporter.js``. Nothing here touches Flask or the database.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crypto import codename as codenames
from crypto import kdf
from crypto.directory import fingerprint, verify_entry
from crypto.envelope import (
    CaseKey,
    GrantKind,
    RecordKind,
    decrypt_record,
    encrypt_record,
    open_grant,
    seal_case_key,
)
from crypto.errors import CryptoError, SignatureInvalid
from crypto.keys import ReporterKeyPair


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def new_case_ref() -> str:
    return "c-" + secrets.token_hex(16)


def new_record_ref() -> str:
    return "r-" + secrets.token_hex(16)


def verified_directory(answer: Mapping[str, Any], expected_fingerprint: str,
                       now: int | None = None) -> dict[int, bytes]:
    """Staff id → public key for every usable entry of a ``/api/v1/directory`` answer.

    Raises SignatureInvalid if the organisation key is not the one ``expected_fingerprint``
    names, or if any entry fails: one forged entry discredits the whole answer.
    """
    org_key = unb64(str(answer.get("organisation_key") or ""))
    if len(org_key) != 32 or _compact(fingerprint(org_key)) != _compact(expected_fingerprint):
        raise SignatureInvalid("the organisation key does not match the fingerprint")
    moment = int(datetime.now(UTC).timestamp()) if now is None else now
    keys: dict[int, bytes] = {}
    for signed in answer.get("entries", []):
        entry = verify_entry(org_key, unb64(signed))
        if entry.usable_at(moment):
            keys[int(entry.staff_id)] = entry.public_key
    return keys


def _compact(value: str) -> str:
    return "".join(value.split()).upper()


@dataclass(frozen=True)
class NewReport:
    route: str
    category: str
    text: str
    identity: str | None = None
    concerns_rso: bool = False
    concerned_staff_ids: tuple[int, ...] = ()
    material_risk: bool = False
    sb53_disclosure: bool = False


class ReaderKeyMissing(CryptoError):
    """A reader the server named has no verified entry in the directory: refuse to encrypt."""


def build_submission(report: NewReport, readers: Mapping[str, Any], keys: Mapping[int, bytes],
                     params: kdf.KdfParams) -> tuple[dict[str, Any], str]:
    """Encrypt a report for the readers ``/api/v1/readers`` named, using only keys from the
    verified directory. Returns the ``/api/v1/reports`` body and the new codename, which is
    shown to the reporter once and kept nowhere."""
    codename = codenames.generate_codename()
    salt = kdf.generate_salt()
    reporter = codenames.derive_reporter_keypair(codename, salt, params)
    case_ref = new_case_ref()
    case_key = CaseKey.generate()
    grants: list[dict[str, Any]] = [{"kind": "reporter", "staff_id": None,
               "grant": b64(seal_case_key(case_key, reporter.public_key, case_ref,
                                          GrantKind.REPORTER))}]
    for kind, grant_kind, people in (("recipient", GrantKind.RECIPIENT, readers["now"]),
                                     ("escrow", GrantKind.ESCROW, readers["on_escalation"])):
        for person in people:
            staff_id = int(person["staff_id"])
            if staff_id not in keys:
                raise ReaderKeyMissing(f"no verified key for reader {person.get('username')}")
            grants.append({"kind": kind, "staff_id": staff_id,
                           "grant": b64(seal_case_key(case_key, keys[staff_id], case_ref,
                                                      grant_kind))})
    records = [_record(case_key, case_ref, RecordKind.REPORT, report.text)]
    if report.identity:
        records.append(_record(case_key, case_ref, RecordKind.IDENTITY, report.identity))
    body = {
        "case_ref": case_ref, "route": report.route, "category": report.category,
        "concerns_rso": report.concerns_rso,
        "concerned_staff_ids": list(report.concerned_staff_ids),
        "material_risk": report.material_risk, "sb53_disclosure": report.sb53_disclosure,
        "lookup_id": b64(codenames.codename_lookup_id(codename)),
        "reporter_salt": b64(salt), "reporter_kdf_version": params.version,
        "reporter_public_key": b64(reporter.public_key),
        "grants": grants, "records": records,
    }
    return body, codename


def _record(case_key: CaseKey, case_ref: str, kind: RecordKind, text: str) -> dict[str, str]:
    ref = new_record_ref()
    return {"record_ref": ref, "kind": kind.name.lower(),
            "ciphertext": b64(encrypt_record(case_key, kind, case_ref, ref, text.encode()))}


def lookup_request(codename: str) -> dict[str, str]:
    """The ``/api/v1/reporter/open`` body for a typed codename (normalised first)."""
    return {"lookup_id": b64(codenames.codename_lookup_id(codename))}


@dataclass(frozen=True)
class OpenedCase:
    case_ref: str
    case_key: CaseKey
    reporter: ReporterKeyPair


@dataclass(frozen=True)
class Message:
    record_ref: str
    kind: str
    author: str
    created_on: str
    text: str


def open_case(view: Mapping[str, Any], codename: str) -> OpenedCase:
    """Derive the reporter key pair from the codename and the case's salt, and open the
    reporter's copy of the case key."""
    params = kdf.params_by_version(int(view["reporter_kdf_version"]))
    reporter = codenames.derive_reporter_keypair(codename, unb64(view["reporter_salt"]), params)
    case_key = open_grant(unb64(view["reporter_grant"]), reporter, view["case_ref"],
                          GrantKind.REPORTER)
    return OpenedCase(view["case_ref"], case_key, reporter)


def read_messages(view: Mapping[str, Any], opened: OpenedCase) -> list[Message]:
    """Every record the reporter may see, decrypted. Raises a CryptoError on any tampering."""
    return [
        Message(r["record_ref"], r["kind"], r["author"], r["created_on"],
                decrypt_record(opened.case_key, RecordKind[r["kind"].upper()], opened.case_ref,
                               r["record_ref"], unb64(r["ciphertext"])).decode("utf-8"))
        for r in view["records"]
    ]


def build_message(opened: OpenedCase, text: str) -> dict[str, str]:
    """The ``/api/v1/reporter/messages`` body for a reply."""
    record = _record(opened.case_key, opened.case_ref, RecordKind.MESSAGE, text)
    return {"record_ref": record["record_ref"], "ciphertext": record["ciphertext"]}
