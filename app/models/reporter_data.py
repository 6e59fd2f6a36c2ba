"""The reporter's data (GDPR Arts. 15-17; EU Directive 2019/1937 Art. 17): records destroyed
because they were manifestly irrelevant, and requests to access or correct personal data.

Neither table holds content: a kind, a reason code, dates, and references to the encrypted
records of the case that carry the words.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base

__all__ = ["CaseIntake", "DataRequest", "RecordDestruction"]


class RecordDestruction(Base):
    """One record or attachment of a case destroyed by a handler: its ciphertext is deleted and,
    for an attachment, the file key that opened it too."""

    __tablename__ = "record_destructions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    destroyed_on: Mapped[date]
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))  # the record's kind, or "attachment"
    author: Mapped[str] = mapped_column(String(16))  # "reporter" or "staff"
    reason: Mapped[str] = mapped_column(String(32))


class DataRequest(Base):
    """A request by the reporter to access or correct their personal data, received through
    the case (a message) or otherwise, and the answer written to them."""

    __tablename__ = "data_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # access | correction
    received_on: Mapped[date]
    due_on: Mapped[date]
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    answered_on: Mapped[date | None]
    answered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    # The reporter's message that asked, if it came through the case; the message that answered.
    request_record_ref: Mapped[str | None] = mapped_column(String(64))
    answer_record_ref: Mapped[str | None] = mapped_column(String(64))


class CaseIntake(Base):
    """A report a handler took down on the reporter's behalf, by phone or in person (EU
    Directive 2019/1937 Arts. 9(2), 18(2)-(4)). The report record is the minutes; the reporter
    checks them with the codename they were given, corrects them by message, and agrees them."""

    __tablename__ = "case_intakes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # phone | in_person
    taken_on: Mapped[date]
    taken_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    minutes_agreed_on: Mapped[date | None]
