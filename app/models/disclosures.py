"""Identity disclosures: each time the reporter's identity is revealed to a reader of the case,
and each time material of the case leaves it (an export, a handover to an authority).

A row is a register entry: the kind, the reason chosen from a fixed list, and references to the
encrypted records that carry the words (the notice written to the reporter beforehand, or the
internal note saying why telling them would jeopardise the investigation). Never content.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base

__all__ = ["CaseDisclosure"]


class CaseDisclosure(Base):
    __tablename__ = "case_disclosures"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    occurred_on: Mapped[date]
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))  # reveal | export | handover
    reason: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str | None] = mapped_column(String(32))  # for a handover
    includes_identity: Mapped[bool]
    # The message that told the reporter beforehand, or the internal note that says why
    # telling them would jeopardise the investigation (record_refs of this case's records).
    notice_record_ref: Mapped[str | None] = mapped_column(String(64))
    withheld_note_ref: Mapped[str | None] = mapped_column(String(64))
