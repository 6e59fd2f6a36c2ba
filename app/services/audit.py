"""The audit trail: every staff action and system event, appended to a hash chain.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's canonical encoding
(``encode``), so changing, deleting, inserting or reordering an entry breaks every hash after it.
Entries never hold content: an action name, a case number, staff ids and plain metadata values.
Reporter actions are recorded with ``actor="reporter"`` and the date only (midnight UTC).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, text

from app.extensions import DbSession
from app.models import AuditEntry, StaffUser, utcnow

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


def record(session: DbSession, action: str, *, actor: str, case_number: str | None = None,
           detail: Mapping[str, Any] | None = None, at: datetime | None = None) -> AuditEntry:
    """Append one entry (in the caller's transaction, which commits it with the change it
    records). Reporter entries keep only the day."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK})
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
