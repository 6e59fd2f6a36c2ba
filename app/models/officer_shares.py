"""SB 53 quarterly shares (Labor Code §1107.1(e)(2)): a handler's summary of a disclosure and
the lab's response, sealed end-to-end to each officer and director in the register who is not
named in it (app/services/officer_shares.py; crypto/SPEC.md 8.11).

The summary is one record under a random share key; each grant is that key sealed to one
officer's public key. The server holds only ciphertext and who it was sealed to.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Base

__all__ = ["OfficerShare", "OfficerShareGrant"]


class OfficerShare(Base):
    __tablename__ = "officer_shares"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    # Random, chosen by the writer's browser; bound into the grants' and the summary's
    # associated data, as a case's case_ref is.
    share_ref: Mapped[str] = mapped_column(String(64), unique=True)
    quarter: Mapped[str] = mapped_column(String(8))  # "2026-Q4": the quarter written in
    created_on: Mapped[date]
    author_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    summary: Mapped[bytes] = mapped_column(LargeBinary)
    # The same words, written to the reporter under the case key (CaseRecord.record_ref).
    message_record_ref: Mapped[str] = mapped_column(String(64))

    grants: Mapped[list[OfficerShareGrant]] = relationship(
        cascade="all, delete-orphan", order_by="OfficerShareGrant.id")


class OfficerShareGrant(Base):
    __tablename__ = "officer_share_grants"
    __table_args__ = (UniqueConstraint("share_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    share_id: Mapped[int] = mapped_column(ForeignKey("officer_shares.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"),
                                          index=True)
    grant: Mapped[bytes] = mapped_column(LargeBinary)
