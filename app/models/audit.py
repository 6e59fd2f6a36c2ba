"""The audit trail's entries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base


class AuditEntry(Base):
    """One link of the audit trail's hash chain (app/services/audit.py). Entries are only ever
    appended; each one's hash covers the previous one's, so an edit, a deletion, an insertion
    or a swap breaks the chain. Never content: an action name, a case number, staff ids."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Reporter actions are stored at midnight UTC of their day: never a time of day.
    occurred_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(32))  # "staff:<id>", "reporter" or "system"
    action: Mapped[str] = mapped_column(String(48))
    case_number: Mapped[str | None] = mapped_column(String(16), index=True)
    detail: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    # Unique, so two writers that read the same head cannot both append after it.
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    entry_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
