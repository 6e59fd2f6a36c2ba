"""The audit trail: every staff action and system event, appended to a hash chain.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's canonical encoding
(``encode``), so changing, deleting, inserting or reordering an entry breaks every hash after it.
Entries never hold content: an action name, a case number, staff ids and plain metadata values.
Reporter actions are recorded with ``actor="reporter"`` and the date only (midnight UTC).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey
from sqlalchemy import func, select, text

from app.config import Config
from app.extensions import DbSession
from app.models import AuditCheckpoint, AuditEntry, StaffUser, utcnow

GENESIS = bytes(32)
# Any constant: PostgreSQL serialises appends on this advisory lock for the transaction.
_APPEND_LOCK = 0x43414E44


def actor_for(staff: StaffUser | None) -> str:
    return f"staff:{staff.id}" if staff is not None else "system"


def encode(occurred_at: datetime, actor: str, action: str, case_number: str | None,
           detail: str) -> bytes:
    """The canonical bytes an entry's hash covers (besides the previous hash)."""
    return json.dumps(
        [occurred_at.isoformat(timespec="seconds"), actor, action, case_number, detail],
        separators=(",", ":"), ensure_ascii=True,
    ).encode("ascii")


def entry_hash(prev_hash: bytes, encoded: bytes) -> bytes:
    return hashlib.sha256(prev_hash + encoded).digest()


def canonical_detail(detail: Mapping[str, Any] | None) -> str:
    return json.dumps(dict(detail or {}), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=True)


def _hold_the_head(session: DbSession) -> None:
    """Make this transaction the only one that can append until it ends, before the head is
    read: two transactions that read the same head would both append after it, and the second
    would fail on the unique ``prev_hash`` (losing the event it records).

    PostgreSQL: an advisory lock held to the end of the transaction. SQLite: its one write lock,
    taken by a statement that writes nothing (pysqlite opens the transaction before it, and
    waits its busy timeout for another writer to commit)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK})
    elif dialect == "sqlite":
        session.execute(text("UPDATE audit_entries SET id = id WHERE 0"))


def record(session: DbSession, action: str, *, actor: str, case_number: str | None = None,
           detail: Mapping[str, Any] | None = None, at: datetime | None = None) -> AuditEntry:
    """Append one entry (in the caller's transaction, which commits it with the change it
    records). Reporter entries keep only the day."""
    _hold_the_head(session)
    session.flush()
    head = session.scalar(select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1))
    moment = (at or utcnow()).replace(microsecond=0)
    if actor == "reporter":
        moment = moment.replace(hour=0, minute=0, second=0)
    detail_text = canonical_detail(detail)
    prev = head if head is not None else GENESIS
    entry = AuditEntry(
        occurred_at=moment, actor=actor, action=action, case_number=case_number,
        detail=detail_text, prev_hash=prev,
        entry_hash=entry_hash(prev, encode(moment, actor, action, case_number, detail_text)),
    )
    session.add(entry)
    session.flush()
    return entry


# --- signed checkpoints -----------------------------------------------------------------------
# The audit checkpoint key is its own Ed25519 key, not the organisation signing key: that one is
# meant to stay offline between directory signings, while checkpoints are signed by the tick
# every hour. Its private half is a file in the instance folder (never in the database); its
# public half is pinned beside it (or in CANDOR_AUDIT_VERIFY_KEY, or given to the reviewer), so
# that whoever can write the database can neither forge nor replace a checkpoint.
CHECKPOINT_CONTEXT = b"candor/v1/audit-checkpoint\x00"
VERIFY_KEY_FILE = "audit-checkpoint.pub"


class AuditKeyError(Exception):
    """The checkpoint key is missing or unusable; the message says what to run."""


def init_checkpoint_key(key_path: Path, instance_path: Path) -> bytes:
    """Create the checkpoint key (mode 0600) and pin its public half; returns the public half.
    Refuses to replace an existing key: old checkpoints would stop verifying."""
    if key_path.exists():
        raise AuditKeyError(f"{key_path} already exists; refusing to replace the audit "
                            "checkpoint key")
    signing_key = SigningKey.generate()
    key_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(bytes(signing_key))
    public = bytes(signing_key.verify_key)
    instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    (instance_path / VERIFY_KEY_FILE).write_text(public.hex() + "\n", encoding="ascii")
    return public


def load_checkpoint_key(key_path: Path) -> SigningKey:
    try:
        seed = key_path.read_bytes()
    except FileNotFoundError:
        raise AuditKeyError(f"the audit checkpoint key is not at {key_path}: run "
                            "`candor audit init` (or set CANDOR_AUDIT_KEY_FILE)") from None
    if len(seed) != 32:
        raise AuditKeyError(f"{key_path} is not an audit checkpoint key (32 bytes)")
    return SigningKey(seed)


def pinned_verify_key(config: Config) -> bytes | None:
    """The checkpoint public key verification trusts: CANDOR_AUDIT_VERIFY_KEY, else the file
    pinned in the instance folder. Never the database's copy."""
    text_value = config.audit_verify_key
    if not text_value:
        try:
            text_value = (config.instance_path / VERIFY_KEY_FILE).read_text("ascii").strip()
        except FileNotFoundError:
            return None
    try:
        value = bytes.fromhex(text_value)
    except ValueError:
        raise AuditKeyError("the pinned audit checkpoint key is not hexadecimal") from None
    if len(value) != 32:
        raise AuditKeyError("the pinned audit checkpoint key must be 32 bytes (64 hex digits)")
    return value


def checkpoint_message(entry_id: int, entry_count: int, head: bytes, previous: bytes,
                       created_at: datetime) -> bytes:
    """What a checkpoint's signature covers."""
    body = json.dumps(
        {"v": 1, "entry_id": entry_id, "entry_count": entry_count, "entry_hash": head.hex(),
         "previous": previous.hex(), "created_at": created_at.isoformat(timespec="seconds")},
        sort_keys=True, separators=(",", ":"),
    )
    return CHECKPOINT_CONTEXT + body.encode("ascii")


def checkpoint_digest(checkpoint: AuditCheckpoint) -> bytes:
    """What the next checkpoint names as its previous one."""
    return hashlib.sha256(CHECKPOINT_CONTEXT + checkpoint.signature).digest()


HELD_PREFIX = "candor-audit-checkpoint"


@dataclass(frozen=True)
class HeldCheckpoint:
    """A signed checkpoint as printed (``candor audit checkpoint``) and kept outside the
    database: one line, ``candor-audit-checkpoint <entry_id> <entry_count> <head hex>
    <previous hex> <created_at> <signature hex>``."""

    entry_id: int
    entry_count: int
    entry_hash: bytes
    previous: bytes
    created_at: datetime
    signature: bytes

    def line(self) -> str:
        return " ".join([HELD_PREFIX, str(self.entry_id), str(self.entry_count),
                         self.entry_hash.hex(), self.previous.hex(),
                         self.created_at.isoformat(timespec="seconds"), self.signature.hex()])

    def message(self) -> bytes:
        return checkpoint_message(self.entry_id, self.entry_count, self.entry_hash,
                                  self.previous, self.created_at)


class HeldCheckpointError(ValueError):
    """A line that is not a printed checkpoint."""


def held_checkpoint(row: AuditCheckpoint) -> HeldCheckpoint:
    return HeldCheckpoint(row.entry_id, row.entry_count, row.entry_hash, row.previous_digest,
                          row.created_at, row.signature)


def parse_held_checkpoints(text_value: str) -> list[HeldCheckpoint]:
    """Every checkpoint line in ``text_value`` (other lines, such as a mail's, are skipped)."""
    found = []
    for raw in text_value.splitlines():
        words = raw.split()
        if not words or words[0] != HELD_PREFIX:
            continue
        try:
            if len(words) != 7:
                raise ValueError("seven fields expected")
            held = HeldCheckpoint(int(words[1]), int(words[2]), bytes.fromhex(words[3]),
                                  bytes.fromhex(words[4]), datetime.fromisoformat(words[5]),
                                  bytes.fromhex(words[6]))
        except ValueError as error:
            raise HeldCheckpointError(f"not a checkpoint line ({error}): {raw[:80]!r}") from None
        if held.entry_id < 1 or held.entry_count < 1 or len(held.entry_hash) != 32 \
                or len(held.previous) != 32 or len(held.signature) != 64 \
                or held.created_at.tzinfo is not None:
            raise HeldCheckpointError(f"not a checkpoint line: {raw[:80]!r}")
        found.append(held)
    return found


def latest_checkpoint(session: DbSession) -> AuditCheckpoint | None:
    return session.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1))


def checkpoint(session: DbSession, signing_key: SigningKey,
               now: datetime | None = None) -> AuditCheckpoint | None:
    """Sign the trail's current head (in the caller's transaction). None when nothing was
    appended since the last checkpoint. The checkpoint itself is recorded in the trail
    afterwards, so the next checkpoint covers the fact that this one was made."""
    _hold_the_head(session)
    session.flush()
    head = session.execute(
        select(AuditEntry.id, AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    last = latest_checkpoint(session)
    if head is None or (last is not None and last.entry_id == head.id):
        return None
    count = session.scalar(select(func.count()).select_from(AuditEntry)
                           .where(AuditEntry.id <= head.id)) or 0
    moment = (now or utcnow()).replace(microsecond=0)
    previous = checkpoint_digest(last) if last is not None else GENESIS
    message = checkpoint_message(head.id, count, head.entry_hash, previous, moment)
    row = AuditCheckpoint(
        entry_id=head.id, entry_count=count, entry_hash=head.entry_hash,
        previous_digest=previous, created_at=moment,
        verify_key=bytes(signing_key.verify_key), signature=signing_key.sign(message).signature,
    )
    session.add(row)
    session.flush()
    record(session, "audit.checkpoint", actor="system", at=moment,
           detail={"checkpoint": row.id, "entry_id": head.id, "entry_count": count})
    return row


def checkpoint_if_due(session: DbSession, config: Config, now: datetime) -> AuditCheckpoint | None:
    """The tick's job: a checkpoint when the last one is older than the configured interval.
    Does nothing (and says nothing) on an instance without a checkpoint key yet."""
    if not config.audit_key_path.exists():
        return None
    last = latest_checkpoint(session)
    if last is not None and now - last.created_at < timedelta(
            minutes=config.audit_checkpoint_minutes):
        return None
    return checkpoint(session, load_checkpoint_key(config.audit_key_path), now)


# --- verification -----------------------------------------------------------------------------
ProblemKind = Literal["changed", "deleted", "inserted", "reordered", "checkpoint"]


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    entry_id: int | None
    message: str


@dataclass
class Verification:
    """The result of walking the whole trail and every checkpoint."""

    entries: int = 0
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)
    last_checkpoint_entry_id: int | None = None
    last_checkpoint_at: datetime | None = None
    uncovered_entries: int = 0  # appended after the last checkpoint: chained, not yet signed
    signatures_checked: bool = False
    held_checked: int = 0  # checkpoints held outside the database, verified against the trail

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.ok:
            signed = (f"the last checkpoint covers entry #{self.last_checkpoint_entry_id}; "
                      f"{self.uncovered_entries} later entries are chained but not yet signed"
                      if self.last_checkpoint_entry_id is not None else "no checkpoint yet")
            held = (f"; {self.held_checked} checkpoints held outside the database match"
                    if self.held_checked else "")
            return (f"intact: {self.entries} entries, {self.checkpoints} checkpoints; "
                    f"{signed}{held}")
        return f"NOT intact: {len(self.problems)} problems in {self.entries} entries"


_BATCH = 5000


def _entries(session: DbSession) -> Iterator[AuditEntry]:
    """Every entry in id order, in batches (the trail may be long)."""
    after = 0
    while True:
        batch = session.scalars(select(AuditEntry).where(AuditEntry.id > after)
                                .order_by(AuditEntry.id).limit(_BATCH)).all()
        yield from batch
        if len(batch) < _BATCH:
            return
        after = batch[-1].id
        session.expunge_all()


def verify(session: DbSession, verify_key: bytes | None,
           held: Sequence[HeldCheckpoint] = ()) -> Verification:
    """Walk the chain and the checkpoints; report every entry changed, deleted, inserted or
    reordered, and every checkpoint that no longer matches or does not verify.

    A changed entry no longer hashes to its stored hash. A deleted one leaves its successor
    naming a hash no entry has. An inserted one names a predecessor other than the entry
    before it, while the entry after it still names that entry. A reordered one names an
    entry that exists, but not the one before it. Rewriting every hash after a change is caught
    by the next signed checkpoint, which names the old head. Without ``verify_key`` the chain
    is still checked, the signatures are not (the result says so).

    The checkpoints are also checked against the trail, which records each one as an
    ``audit.checkpoint`` entry: a checkpoint deleted from its table while the trail still
    names it is reported, and so is one the trail does not name. ``held`` are checkpoints the
    reviewer kept outside the database (printed or mailed): each must verify and still match
    the trail, which catches a trail rewritten or cut short together with its checkpoints.
    """
    result = Verification(signatures_checked=verify_key is not None)
    known = set(session.scalars(select(AuditEntry.entry_hash)))
    position: dict[int, tuple[bytes, int]] = {}  # id -> (stored hash, ordinal)
    recorded: dict[int, tuple[int, Any, Any]] = {}  # checkpoint id -> (entry id, what it says)
    expected = GENESIS
    pending: AuditEntry | None = None

    def check(current: AuditEntry, following: AuditEntry | None) -> None:
        nonlocal expected
        result.entries += 1
        position[current.id] = (current.entry_hash, result.entries)
        if current.action == "audit.checkpoint":
            said = _json_object(current.detail)
            if isinstance(said.get("checkpoint"), int):
                recorded[said["checkpoint"]] = (current.id, said.get("entry_id"),
                                                said.get("entry_count"))
        recomputed = entry_hash(current.prev_hash, encode(
            current.occurred_at, current.actor, current.action, current.case_number,
            current.detail))
        if recomputed != current.entry_hash:
            result.problems.append(Problem("changed", current.id,
                                           f"entry #{current.id} was changed after it was "
                                           "written"))
        if current.prev_hash != expected:
            if current.prev_hash in known:
                result.problems.append(Problem("reordered", current.id,
                                               f"entry #{current.id} is out of order"))
            elif following is not None and following.prev_hash == expected:
                result.problems.append(Problem("inserted", current.id,
                                               f"entry #{current.id} was inserted"))
                return  # the chain goes on from the entry before it
            else:
                result.problems.append(Problem(
                    "deleted", current.id,
                    f"entries are missing before #{current.id} (deleted, or the entry before "
                    "it was rewritten)"))
        expected = current.entry_hash

    for entry in _entries(session):
        if pending is not None:
            check(pending, entry)
        pending = entry
    if pending is not None:
        check(pending, None)
    _verify_checkpoints(session, verify_key, position, recorded, result)
    _verify_held(session, verify_key, held, position, result)
    return result


def _json_object(value: str) -> dict[str, Any]:
    try:
        parsed = json.loads(value)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _verify_checkpoints(session: DbSession, verify_key: bytes | None,
                        position: dict[int, tuple[bytes, int]],
                        recorded: dict[int, tuple[int, Any, Any]], result: Verification) -> None:
    previous = GENESIS
    last_entry = max(position) if position else 0
    seen: set[int] = set()
    for row in session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)):
        result.checkpoints += 1
        seen.add(row.id)
        named = recorded.get(row.id)
        if named is None:
            result.problems.append(Problem(
                "checkpoint", row.entry_id,
                f"checkpoint #{row.id} (entry #{row.entry_id}) is not recorded in the trail"))
        elif (named[1], named[2]) != (row.entry_id, row.entry_count):
            result.problems.append(Problem(
                "checkpoint", row.entry_id,
                f"checkpoint #{row.id} does not match entry #{named[0]}, which records it"))
        where = f"checkpoint #{row.id} (entry #{row.entry_id})"
        if row.previous_digest != previous:
            result.problems.append(Problem("checkpoint", row.entry_id,
                                           f"{where}: the checkpoint before it is missing or "
                                           "changed"))
        if verify_key is not None:
            message = checkpoint_message(row.entry_id, row.entry_count, row.entry_hash,
                                         row.previous_digest, row.created_at)
            try:
                VerifyKey(verify_key).verify(message, row.signature)
            except (BadSignatureError, ValueError):
                result.problems.append(Problem("checkpoint", row.entry_id,
                                               f"{where}: signature does not verify under "
                                               "the pinned key"))
        stored = position.get(row.entry_id)
        if stored is None:
            result.problems.append(Problem("checkpoint", row.entry_id,
                                           f"{where}: the entry it signed is missing"))
        elif stored[0] != row.entry_hash:
            result.problems.append(Problem("checkpoint", row.entry_id,
                                           f"{where}: the entry it signed no longer matches"))
        elif stored[1] != row.entry_count:
            result.problems.append(Problem(
                "checkpoint", row.entry_id,
                f"{where}: it signed {row.entry_count} entries up to there, there are now "
                f"{stored[1]}"))
        previous = checkpoint_digest(row)
        result.last_checkpoint_entry_id, result.last_checkpoint_at = row.entry_id, row.created_at
    for checkpoint_id, (entry_id, signed_entry, _count) in sorted(recorded.items()):
        if checkpoint_id not in seen:
            result.problems.append(Problem(
                "checkpoint", entry_id,
                f"entry #{entry_id} records checkpoint #{checkpoint_id} (of entry "
                f"#{signed_entry}), which is missing from the checkpoints"))
    if result.last_checkpoint_entry_id is not None:
        result.uncovered_entries = sum(1 for entry_id in position
                                       if entry_id > result.last_checkpoint_entry_id)
    elif last_entry:
        result.uncovered_entries = len(position)


def _verify_held(session: DbSession, verify_key: bytes | None, held: Sequence[HeldCheckpoint],
                 position: dict[int, tuple[bytes, int]], result: Verification) -> None:
    stored = {row.signature for row in session.scalars(select(AuditCheckpoint))} if held else set()
    for one in held:
        where = f"the checkpoint you hold of entry #{one.entry_id} ({one.created_at:%Y-%m-%d})"
        if verify_key is None:
            result.problems.append(Problem("checkpoint", one.entry_id,
                                           f"{where} cannot be checked: no key to verify it"))
            continue
        try:
            VerifyKey(verify_key).verify(one.message(), one.signature)
        except (BadSignatureError, ValueError):
            result.problems.append(Problem("checkpoint", one.entry_id,
                                           f"{where}: signature does not verify under the key"))
            continue
        result.held_checked += 1
        entry = position.get(one.entry_id)
        if entry is None:
            result.problems.append(Problem("checkpoint", one.entry_id,
                                           f"{where}: the entry it signed is missing (the trail "
                                           "was cut short or rewritten)"))
        elif entry != (one.entry_hash, one.entry_count):
            result.problems.append(Problem("checkpoint", one.entry_id,
                                           f"{where}: the trail up to that entry was rewritten"))
        if one.signature not in stored:
            result.problems.append(Problem("checkpoint", one.entry_id,
                                           f"{where} is missing from the database's "
                                           "checkpoints"))
