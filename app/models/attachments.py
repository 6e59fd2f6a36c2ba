"""Attachments: files sent with a report, a reply or a staff message, kept as ciphertext.

The row holds what the server needs to manage an upload and nothing about the file itself: the
file's key and its name are ``FILE_KEY`` and ``FILE_NAME`` records of the case (encrypted like
any content), and its bytes are a secretstream (crypto/SPEC.md 8.9) in the blob store under a
random name (app/services/blobs.py). Sizes are those of the ciphertext, which reveals the file's
size only to the nearest 64 KiB.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Base
from app.models.cases import Case, CaseRecord

__all__ = ["Attachment", "BlobChunk"]


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("case_id", "attachment_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Looked up by the unique constraint's index, which begins with case_id.
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    # Bound into the stream's associated data; chosen by the encrypting client (random).
    attachment_ref: Mapped[str] = mapped_column(String(64))
    # The blob's file name: random, never anything a reporter typed.
    blob_id: Mapped[str] = mapped_column(String(32), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="uploading")  # or "complete"
    author: Mapped[str] = mapped_column(String(16))  # "reporter" or "staff"
    author_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    visible_to_reporter: Mapped[bool]
    key_epoch: Mapped[int] = mapped_column(default=1)
    # Set when the upload completes, with the records that carry the file key and name.
    # Indexed: deleting a record (retention) looks here for attachments that point to it.
    key_record_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_records.id", ondelete="SET NULL"), index=True)
    name_record_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_records.id", ondelete="SET NULL"), index=True)
    # The most frames the uploader announced (checked against the size limits up front), and
    # what has arrived so far: whole chunks of whole frames, in order.
    max_frames: Mapped[int]
    chunk_count: Mapped[int] = mapped_column(default=0)
    frame_count: Mapped[int] = mapped_column(default=0)
    ciphertext_size: Mapped[int] = mapped_column(BigInteger, default=0)
    created_on: Mapped[date]

    case: Mapped[Case] = relationship()
    key_record: Mapped[CaseRecord | None] = relationship(foreign_keys=[key_record_id])
    name_record: Mapped[CaseRecord | None] = relationship(foreign_keys=[name_record_id])


class BlobChunk(Base):
    """A run of one blob's ciphertext, when attachments are kept in the database
    (``CANDOR_BLOB_STORE=database``, app/services/blobs.py). A blob is its rows in ``start``
    order, each at most about 1 MiB, so it is written and read a row at a time.

    No foreign key to ``attachments``: a page without JavaScript writes a file's rows before its
    attachment row exists (both in the request's one transaction)."""

    __tablename__ = "blob_chunks"

    blob_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The byte offset in the blob where this row's bytes begin.
    start: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
