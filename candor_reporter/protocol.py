"""The reporter's side of the Candor protocol, on plain data: verifying the key directory,
building a submission, opening a case view with the codename, writing a message.

Three callers use it: the command-line client (all of it runs on the reporter's machine), the
no-JavaScript path (run in memory for one request on the server), and the tests. The browser
does the same in ``app/static/js/reporter.js``. Nothing here touches Flask or the database.
"""

from __future__ import annotations

import base64
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from candor_reporter import file_size
from candor_reporter.languages import N_
from crypto import codename as codenames
from crypto import kdf
from crypto.directory import fingerprint, verify_entry
from crypto.envelope import (
    CaseKey,
    GrantKind,
    RecordKind,
    decode_file_name,
    decrypt_record,
    encode_file_name,
    encrypt_record,
    open_grant,
    seal_case_key,
)
from crypto.errors import CryptoError, DecryptionError, MalformedInput, SignatureInvalid
from crypto.keys import ReporterKeyPair
from crypto.proof_of_work import DEFAULT_PROOF_OF_WORK_HASH, solve_proof_of_work
from crypto.stream import (
    CHUNK_SIZE,
    FileKey,
    StreamEncryptor,
    decrypt_chunks,
    decrypt_file_key,
    encrypt_file_key,
)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def new_case_ref() -> str:
    return "c-" + secrets.token_hex(16)


def new_record_ref() -> str:
    return "r-" + secrets.token_hex(16)


# How a reporter reads the role of someone in the key directory (the roles that receive reports).
READER_ROLE_LABELS = {"rso": N_("Responsible Scaling Officer"), "executive": N_("executive"),
                      "board": N_("Board member"), "officer": N_("officer or director")}


def describe_person(username: str, roles: Iterable[str],
                    labels: Mapping[str, str] = READER_ROLE_LABELS) -> str:
    """"rso1, Responsible Scaling Officer": a recipient as a reporter sees them listed. A role
    this version does not know (from a newer server's directory) is shown as it is named."""
    return ", ".join([username, *sorted(labels.get(role, role) for role in roles)])


@dataclass(frozen=True)
class Reader:
    """A recipient as its signed directory entry describes it."""

    staff_id: int
    username: str
    roles: tuple[str, ...]
    public_key: bytes


def verified_directory(answer: Mapping[str, Any], expected_fingerprint: str,
                       now: int | None = None) -> dict[int, Reader]:
    """Staff id → reader for every usable entry of a ``/api/v1/directory`` answer.

    Raises SignatureInvalid if the organisation key is not the one ``expected_fingerprint``
    names, or if any entry fails: one forged entry discredits the whole answer.
    """
    org_key = unb64(str(answer.get("organisation_key") or ""))
    if len(org_key) != 32 or _compact(fingerprint(org_key)) != _compact(expected_fingerprint):
        raise SignatureInvalid("the organisation key does not match the fingerprint")
    moment = int(datetime.now(UTC).timestamp()) if now is None else now
    readers: dict[int, Reader] = {}
    for signed in answer.get("entries", []):
        entry = verify_entry(org_key, unb64(signed))
        if entry.usable_at(moment):
            readers[int(entry.staff_id)] = Reader(int(entry.staff_id), entry.username,
                                                  entry.roles, entry.public_key)
    return readers


def _compact(value: str) -> str:
    return "".join(value.split()).upper()


# RSP v3 §4: a report that concerns the RSO has a Board member among its recipients. Without
# one it is refused, by the server (app/services/routing.py) and by every client (this module
# for the command line and the page without JavaScript, reporter.js in the browser), rather
# than reaching executives alone.
NO_BOARD_FOR_RSO_REPORT = N_(
    "A report that concerns the RSO must reach a member of the Board, and no Board member "
    "can receive reports here yet (none has a key signed by the organisation), so nothing was "
    "sent. Report it outside the lab instead, through one of the outside channels listed on "
    "the start page.")


class NoReaders(ValueError):
    """No signed recipient could read a report on this route."""


@dataclass(frozen=True)
class Readers:
    now: tuple[Reader, ...]
    on_escalation: tuple[Reader, ...]


def sb53_sharers(directory: Mapping[int, Reader], concerns_rso: bool,
                 concerned: Iterable[int]) -> tuple[Reader, ...]:
    """Who an SB 53 disclosure's quarterly summary is sealed to, from the signed roles (as
    ``app/services/officer_shares.py`` ``sharing_rule``): every officer or director, minus
    anyone named as concerned, minus every RSO when the report concerns the RSO."""
    left_out = set(concerned)
    return tuple(sorted((r for r in directory.values()
                         if "officer" in r.roles and r.staff_id not in left_out
                         and not (concerns_rso and "rso" in r.roles)),
                        key=lambda r: r.staff_id))


def expected_readers(directory: Mapping[int, Reader], route: str, concerns_rso: bool,
                     concerned: Iterable[int]) -> Readers:
    """Who reads a report, worked out from the roles the organisation signed, never from what
    the server says (RSP v3 §4, as ``app/services/routing.py`` applies it on the server): the
    route's role holders now, with the Board and without any RSO when the report concerns the
    RSO; the Board on escalation otherwise; nobody named as concerned, ever."""
    left_out = set(concerned)
    eligible = sorted((r for r in directory.values() if r.staff_id not in left_out),
                      key=lambda r: r.staff_id)
    wanted = {route, "board"} if concerns_rso else {route}
    now = tuple(r for r in eligible
                if wanted & set(r.roles) and not (concerns_rso and "rso" in r.roles))
    if concerns_rso and not any("board" in r.roles for r in now):
        # As app/services/routing.py: such a report must reach the Board, or go nowhere.
        raise NoReaders(NO_BOARD_FOR_RSO_REPORT)
    if not now:
        raise NoReaders(N_("No one can receive a report on this route right now. Choose "
                           "another route, or report outside the lab (see the start page)."))
    escalation: tuple[Reader, ...] = ()
    if "board" not in wanted:
        escalation = tuple(r for r in eligible if "board" in r.roles and r not in now)
    return Readers(now, escalation)


def same_readers(answer: Mapping[str, Any], readers: Readers) -> bool:
    """Whether a ``/api/v1/readers`` answer names exactly the readers worked out here."""
    def ids(people: Any) -> list[int]:
        return sorted(int(p["staff_id"]) for p in people)

    return (ids(answer.get("now", [])) == [r.staff_id for r in readers.now]
            and ids(answer.get("on_escalation", [])) == sorted(r.staff_id
                                                               for r in readers.on_escalation))


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
    critical_incident: bool = False
    imminent_risk: bool = False


def build_submission(report: NewReport, directory: Mapping[int, Reader],
                     params: kdf.KdfParams) -> tuple[dict[str, Any], str]:
    """Encrypt a report to the readers the signed directory gives for its route (see
    ``expected_readers``). Returns the ``/api/v1/reports`` body and the new codename, which is
    shown to the reporter once and kept nowhere. Raises NoReaders if no one could read it."""
    body, codename, _case_key = build_submission_with_key(report, directory, params)
    return body, codename


def build_submission_with_key(report: NewReport, directory: Mapping[int, Reader],
                              params: kdf.KdfParams, case_ref: str | None = None
                              ) -> tuple[dict[str, Any], str, CaseKey]:
    """``build_submission``, also giving the new case key (for the attachments that follow;
    keep it in memory only) and taking the case's identifier if it was chosen already."""
    readers = expected_readers(directory, report.route, report.concerns_rso,
                               report.concerned_staff_ids)
    codename = codenames.generate_codename()
    salt = kdf.generate_salt()
    reporter = codenames.derive_reporter_keypair(codename, salt, params)
    case_ref = case_ref or new_case_ref()
    case_key = CaseKey.generate()
    grants: list[dict[str, Any]] = [{
        "kind": "reporter", "staff_id": None,
        "grant": b64(seal_case_key(case_key, reporter.public_key, case_ref, GrantKind.REPORTER))}]
    for kind, grant_kind, people in (("recipient", GrantKind.RECIPIENT, readers.now),
                                     ("escrow", GrantKind.ESCROW, readers.on_escalation)):
        grants += [{"kind": kind, "staff_id": reader.staff_id,
                    "grant": b64(seal_case_key(case_key, reader.public_key, case_ref, grant_kind))}
                   for reader in people]
    records = [_record(case_key, case_ref, RecordKind.REPORT, report.text)]
    if report.identity:
        records.append(_record(case_key, case_ref, RecordKind.IDENTITY, report.identity))
    body = {
        "case_ref": case_ref, "route": report.route, "category": report.category,
        "concerns_rso": report.concerns_rso,
        "concerned_staff_ids": list(report.concerned_staff_ids),
        "material_risk": report.material_risk, "sb53_disclosure": report.sb53_disclosure,
        "critical_incident": report.critical_incident, "imminent_risk": report.imminent_risk,
        "lookup_id": b64(codenames.codename_lookup_id(codename)),
        "reporter_salt": b64(salt), "reporter_kdf_version": params.version,
        "reporter_public_key": b64(reporter.public_key),
        "grants": grants, "records": records,
    }
    return body, codename, case_key


def _record(case_key: CaseKey, case_ref: str, kind: RecordKind, text: str) -> dict[str, str]:
    ref = new_record_ref()
    return {"record_ref": ref, "kind": kind.name.lower(),
            "ciphertext": b64(encrypt_record(case_key, kind, case_ref, ref, text.encode()))}


# --- proof of work (SPEC.md 4.1; the hash is crypto/proof_of_work.py) --------------------------
def with_proof_of_work(body: Mapping[str, Any], offered: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` (from ``build_submission``) with a solution of ``offered``, the server's
    ``/api/v1/proof-of-work`` answer, attached. Solved with BLAKE2b-256, which every server
    takes and native code computes fastest. Raises KeyError or ValueError if the offer is
    malformed, ValueError if it asks for more work than any server may."""
    challenge, bits = unb64(str(offered["challenge"])), offered["bits"]
    if not isinstance(bits, int) or isinstance(bits, bool):
        raise ValueError("the anti-abuse challenge names no number of bits")
    nonce = solve_proof_of_work(challenge, bits)
    return {**body, "proof_of_work": {"challenge": b64(challenge), "nonce": b64(nonce),
                                      "hash": DEFAULT_PROOF_OF_WORK_HASH}}


def lookup_request(codename: str) -> dict[str, str]:
    """The ``/api/v1/reporter/open`` body for a typed codename (normalised first)."""
    return {"lookup_id": b64(codenames.codename_lookup_id(codename))}


@dataclass(frozen=True)
class OpenedCase:
    """A case opened with the codename: the case key of every epoch the reporter holds a grant
    for (after a revocation, content written later is under the next epoch's key)."""

    case_ref: str
    keys: Mapping[int, CaseKey]
    key_epoch: int  # the current epoch: new messages and attachments are encrypted under it
    reporter: ReporterKeyPair

    @property
    def case_key(self) -> CaseKey:
        """The current epoch's key."""
        return self.key_for(self.key_epoch)

    def key_for(self, epoch: int) -> CaseKey:
        try:
            return self.keys[epoch]
        except KeyError:
            raise DecryptionError(f"no key for epoch {epoch} of this case") from None


@dataclass(frozen=True)
class Message:
    record_ref: str
    kind: str
    author: str
    created_on: str
    text: str
    # True when the record did not decrypt (tampered with, or under a key this reporter lacks);
    # ``text`` is then empty. Only ``read_messages(..., strict=False)`` gives such messages.
    unreadable: bool = False
    # For a message from the recipients: "update", "feedback", "outcome" or None.
    purpose: str | None = None


def open_case(view: Mapping[str, Any], codename: str) -> OpenedCase:
    """Derive the reporter key pair from the codename and the case's salt, and open the
    reporter's copy of the case key for every epoch. Raises a CryptoError if any grant fails,
    or if there is none for the current epoch."""
    params = kdf.params_by_version(int(view["reporter_kdf_version"]))
    reporter = codenames.derive_reporter_keypair(codename, unb64(view["reporter_salt"]), params)
    keys: dict[int, CaseKey] = {}
    for item in view["reporter_grants"]:
        epoch = int(item["key_epoch"])
        if epoch in keys:
            raise MalformedInput(f"two grants for epoch {epoch}")
        keys[epoch] = open_grant(unb64(item["grant"]), reporter, view["case_ref"],
                                 GrantKind.REPORTER)
    current = int(view["key_epoch"])
    if current not in keys:
        raise DecryptionError("no copy of the current case key was sealed to you")
    return OpenedCase(view["case_ref"], keys, current, reporter)


def decrypt_text(opened: OpenedCase, record: Mapping[str, Any]) -> str:
    """One record of a reporter view, decrypted under its epoch's key and decoded strictly.
    Raises a CryptoError, or UnicodeDecodeError for text that is not UTF-8."""
    return decrypt_record(opened.key_for(int(record["key_epoch"])),
                          RecordKind[record["kind"].upper()], opened.case_ref,
                          record["record_ref"], unb64(record["ciphertext"])).decode("utf-8")


def read_messages(view: Mapping[str, Any], opened: OpenedCase,
                  strict: bool = True) -> list[Message]:
    """Every record the reporter may see, decrypted. With ``strict`` any tampering raises a
    CryptoError; without it, a record that fails is returned marked ``unreadable`` and the
    others are still shown."""
    messages = []
    for r in view["records"]:
        try:
            text, unreadable = decrypt_text(opened, r), False
        except (CryptoError, UnicodeDecodeError, KeyError, ValueError):
            if strict:
                raise
            text, unreadable = "", True
        messages.append(Message(r["record_ref"], r["kind"], r["author"], r["created_on"], text,
                                unreadable, r.get("purpose")))
    return messages


def build_message(opened: OpenedCase, text: str) -> dict[str, Any]:
    """The ``/api/v1/reporter/messages`` body for a reply, under the current epoch's key."""
    record = _record(opened.case_key, opened.case_ref, RecordKind.MESSAGE, text)
    return {"record_ref": record["record_ref"], "key_epoch": opened.key_epoch,
            "ciphertext": record["ciphertext"]}


# --- attachments (SPEC.md 8.9) ---------------------------------------------------------------
# An attachment is a secretstream under its own random file key, sent in chunks of whole frames
# to the resumable upload API (app/api/attachments.py); its key and name travel as FILE_KEY and
# FILE_NAME records under the case key. ``reporter.js`` does the same in the browser.
MAX_CHUNK_FRAMES = 16  # as app/services/attachments.MAX_CHUNK_FRAMES
MAX_FILE_NAME = 255


def new_attachment_ref() -> str:
    return "a-" + secrets.token_hex(16)


@dataclass(frozen=True)
class OutgoingAttachment:
    """One file on its way: its identifier, key and name, and at most how many frames it
    takes (from its size before metadata is removed, which only makes it smaller)."""

    attachment_ref: str
    file_key: FileKey
    name: str
    max_frames: int

    @classmethod
    def for_file(cls, name: str, size: int) -> OutgoingAttachment:
        return cls(new_attachment_ref(), FileKey.generate(), safe_file_name(name),
                   size // CHUNK_SIZE + 1)

    def start_body(self, key_epoch: int) -> dict[str, Any]:
        return {"attachment_ref": self.attachment_ref, "max_frames": self.max_frames,
                "key_epoch": key_epoch}

    def chunks(self, case_ref: str, pieces: Iterable[bytes],
               frames_per_chunk: int = MAX_CHUNK_FRAMES) -> Iterator[tuple[bytes, int]]:
        """The encrypted stream as upload chunks: (bytes, frames in them); the first starts
        with the stream header. Holds one chunk at a time."""
        encryptor = StreamEncryptor(self.file_key, case_ref, self.attachment_ref)
        pending: list[bytes] = [encryptor.header]
        frames = 0

        def flush() -> tuple[bytes, int]:
            nonlocal pending, frames
            chunk = (b"".join(pending), frames)
            pending, frames = [], 0
            return chunk

        for piece in pieces:
            for frame in encryptor.update(piece):
                pending.append(frame)
                frames += 1
                if frames == frames_per_chunk:
                    yield flush()
        pending.append(encryptor.finish())
        frames += 1
        yield flush()

    def completion_body(self, case_key: CaseKey, case_ref: str, frames: int, size: int
                        ) -> dict[str, Any]:
        """The ``complete`` body: the frame count and the FILE_KEY and FILE_NAME records; the
        name record states ``size``, the bytes the stream carries (SPEC.md 8.8.1)."""
        key_ref, name_ref = new_record_ref(), new_record_ref()
        return {
            "frames": frames,
            "key_record": {"record_ref": key_ref, "ciphertext": b64(
                encrypt_file_key(case_key, case_ref, key_ref, self.file_key))},
            "name_record": {"record_ref": name_ref, "ciphertext": b64(encrypt_record(
                case_key, RecordKind.FILE_NAME, case_ref, name_ref,
                encode_file_name(self.name, size)))},
        }


def safe_file_name(name: str) -> str:
    """A file name as it is stored (encrypted) and offered back: the last path component, with
    control characters replaced, at most 255 characters; "attachment" if nothing is left."""
    base = re.split(r"[/\\]", name)[-1]
    # Control and format characters (bidirectional overrides among them, which can show
    # "report.exe" as "report.pdf") become "_".
    base = "".join("_" if unicodedata.category(c) in ("Cc", "Cf") else c for c in base)
    base = base.strip().lstrip(".")
    return base[:MAX_FILE_NAME] or "attachment"


@dataclass(frozen=True)
class IncomingAttachment:
    """An attachment as a reporter's client sees it: ``size`` is the ciphertext's length (from
    the server), ``stated_size`` the plaintext's as its sender stated it in the name record
    (None for one sent before sizes were recorded; checked by ``decrypt_attachment``)."""

    attachment_ref: str
    author: str
    created_on: str
    size: int
    file_key: FileKey
    name: str
    stated_size: int | None = None


def open_attachment(opened: OpenedCase, item: Mapping[str, Any]) -> IncomingAttachment:
    """An attachment of a reporter view with its key and name decrypted. Raises a
    CryptoError (or UnicodeDecodeError) on tampering."""
    case_key = opened.key_for(int(item["key_epoch"]))
    key = decrypt_file_key(case_key, opened.case_ref, item["key_record"]["record_ref"],
                           unb64(item["key_record"]["ciphertext"]))
    described = decode_file_name(decrypt_record(
        case_key, RecordKind.FILE_NAME, opened.case_ref, item["name_record"]["record_ref"],
        unb64(item["name_record"]["ciphertext"])))
    return IncomingAttachment(item["attachment_ref"], item["author"], item["created_on"],
                              int(item["size"]), key, safe_file_name(described.name),
                              described.size)


def decrypt_attachment(case_ref: str, attachment: IncomingAttachment,
                       pieces: Iterable[bytes]) -> Iterator[bytes]:
    """Plaintext chunks of a downloaded stream; raises at the end if it was truncated (treat
    the output as untrusted until this finishes: SPEC 8.9)."""
    return decrypt_chunks(attachment.file_key, case_ref, attachment.attachment_ref, pieces)


def size_mismatch(attachment: IncomingAttachment, decrypted: int,
                  translate: Callable[[str], str] = str) -> str | None:
    """What to tell the recipient when the stream decrypted to another size than its sender
    stated (SPEC.md 8.8.1); None when they agree or no size was stated."""
    return file_size.size_mismatch(attachment.stated_size, decrypted, translate)
