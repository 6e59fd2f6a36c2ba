"""Attachments of a case: resumable uploads of ciphertext, their completion, and listing them.

The server never has an attachment's key. What it checks is what it can check without one
(crypto/SPEC.md 8.9): the stream's version byte and header size, that every chunk is made of
whole frames of 65,553 bytes, that chunks arrive in order, and that no attachment and no case
goes over its size limit. Each check happens before the chunk is stored.

An upload: ``start_upload`` (announces at most how many frames will come, so the limits are
checked before any byte is stored), ``add_chunk`` for chunks 0, 1, 2... (a client whose
connection failed asks ``upload_status`` which chunks arrived and sends the rest), then
``complete`` with the ``FILE_KEY`` and ``FILE_NAME`` records. Uploads never completed are
removed by ``purge_stale_uploads``, which housekeeping runs.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import object_session

from app.config import Config
from app.extensions import DbSession
from app.models import Attachment, Case, CaseRecord, today
from app.services.blobs import Blobs, BlobStore, DatabaseBlobStore
from app.services.reports import RECORD_REF
from crypto.encoding import VERSION
from crypto.envelope import check_record_shape
from crypto.errors import CryptoError
from crypto.stream import CHUNK_SIZE, FRAME_SIZE, HEADER_SIZE

ATTACHMENT_REF = re.compile(r"a-[0-9a-f]{32}")
# The records that carry an attachment's key and name; they are shown with their attachment,
# not among the case's messages.
RECORD_KINDS = ("file_key", "file_name")
# A chunk is at most 16 frames (about 1 MiB), so a request body is small enough to hold.
MAX_CHUNK_FRAMES = 16
MAX_CHUNK_BYTES = HEADER_SIZE + MAX_CHUNK_FRAMES * FRAME_SIZE
MAX_ATTACHMENTS_PER_CASE = 200
# An upload not completed within this many days (counted in whole dates) is removed.
STALE_UPLOAD_DAYS = 2


class AttachmentRejected(Exception):
    """``str(error)`` is safe to show; ``status`` is the HTTP status that fits (4xx)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _check(condition: bool, message: str, status: int = 400) -> None:
    if not condition:
        raise AttachmentRejected(message, status)


@dataclass(frozen=True)
class Limits:
    attachment_bytes: int
    case_bytes: int

    @classmethod
    def from_config(cls, config: Config) -> Limits:
        return cls(config.max_attachment_bytes, config.max_case_attachment_bytes)


@dataclass(frozen=True)
class EncryptedRecord:
    record_ref: str
    ciphertext: bytes


def stream_size(frames: int) -> int:
    """The ciphertext size of a stream of ``frames`` frames."""
    return HEADER_SIZE + frames * FRAME_SIZE


def frames_for(plaintext_size: int) -> int:
    """How many frames a file of ``plaintext_size`` bytes takes (SPEC 8.9: the last frame
    holds 0 to CHUNK_SIZE - 1 bytes, so an exact multiple takes one more)."""
    return plaintext_size // CHUNK_SIZE + 1


def store_for(config: Config, session: DbSession) -> Blobs:
    """The blob store ``CANDOR_BLOB_STORE`` names; a database store writes through
    ``session``."""
    if config.blob_store == "database":
        return DatabaseBlobStore(session)
    return BlobStore(config.blob_path)


def _attachments(session: DbSession, case: Case) -> list[Attachment]:
    return list(session.scalars(select(Attachment).where(Attachment.case_id == case.id)
                                .order_by(Attachment.id)))


def reserved_bytes(session: DbSession, case: Case) -> int:
    """What the case's attachments take or may still take: complete ones their size, uploads
    in progress the most they announced."""
    return sum(a.ciphertext_size if a.state == "complete" else stream_size(a.max_frames)
               for a in _attachments(session, case))


def start_upload(session: DbSession, store: Blobs, case: Case, *, attachment_ref: str,
                 max_frames: int, key_epoch: int, author: str, visible_to_reporter: bool,
                 limits: Limits, author_staff_id: int | None = None) -> Attachment:
    """A new upload of at most ``max_frames`` frames, checked against the limits before
    anything is stored (not yet committed)."""
    _check(bool(ATTACHMENT_REF.fullmatch(attachment_ref)),
           "The attachment identifier is malformed.")
    _check(key_epoch == case.key_epoch,
           "The case's key changed since this page was opened; open the case again.")
    _check(0 < max_frames <= 2**31 - 1, "The attachment's announced size is malformed.")
    _check(stream_size(max_frames) <= limits.attachment_bytes,
           f"This file is too large: attachments may be up to "
           f"{limits.attachment_bytes // 1024**2:,} MiB once encrypted.", 413)
    existing = _attachments(session, case)
    _check(all(a.attachment_ref != attachment_ref for a in existing),
           "This attachment identifier is taken; send the file again.", 409)
    _check(len(existing) < MAX_ATTACHMENTS_PER_CASE,
           f"A case can hold at most {MAX_ATTACHMENTS_PER_CASE} attachments.", 413)
    _check(reserved_bytes(session, case) + stream_size(max_frames) <= limits.case_bytes,
           f"The attachments of a case may take up to {limits.case_bytes // 1024**2:,} MiB "
           "once encrypted, and this file would go over that.", 413)
    attachment = Attachment(
        case_id=case.id, attachment_ref=attachment_ref, blob_id=store.new_id(),
        state="uploading", author=author, author_staff_id=author_staff_id,
        visible_to_reporter=visible_to_reporter, key_epoch=key_epoch, max_frames=max_frames,
        chunk_count=0, frame_count=0, ciphertext_size=0, created_on=today())
    store.create(attachment.blob_id)
    session.add(attachment)
    return attachment


def find(session: DbSession, case: Case, attachment_ref: str) -> Attachment | None:
    if not ATTACHMENT_REF.fullmatch(attachment_ref):
        return None
    return session.scalars(select(Attachment).where(
        Attachment.case_id == case.id, Attachment.attachment_ref == attachment_ref)).first()


def upload_status(attachment: Attachment) -> dict[str, Any]:
    """What a client resuming an upload needs: how many chunks and frames have arrived."""
    return {"attachment_ref": attachment.attachment_ref, "state": attachment.state,
            "received_chunks": attachment.chunk_count,
            "received_frames": attachment.frame_count,
            "received_bytes": attachment.ciphertext_size,
            "max_frames": attachment.max_frames, "max_chunk_frames": MAX_CHUNK_FRAMES}


def _check_epoch(attachment: Attachment, case: Case | None = None) -> None:
    """An upload begun before an access revocation cannot finish after it: its file key would
    be sealed under the case key the revoked person may have kept."""
    current = (case or attachment.case).key_epoch
    _check(attachment.key_epoch == current,
           "The case's key changed since this upload started; send the file again.", 409)


def check_chunk(attachment: Attachment, index: int, size: int, first_byte: int | None) -> int:
    """Check a chunk from what its request says before its body is read: its place, its size
    and (for chunk 0) the stream's version byte. Returns its number of frames."""
    _check(attachment.state == "uploading", "This attachment is already complete.", 409)
    _check_epoch(attachment)
    _check(index == attachment.chunk_count,
           f"Chunks must arrive in order: the next one is chunk {attachment.chunk_count}.", 409)
    header = HEADER_SIZE if index == 0 else 0
    if index == 0 and first_byte is not None:
        _check(first_byte == VERSION,
               f"The encrypted file has an unsupported version ({first_byte}).")
    _check(size <= MAX_CHUNK_BYTES,
           f"A chunk holds at most {MAX_CHUNK_FRAMES} frames.", 413)
    frames, rest = divmod(size - header, FRAME_SIZE)
    _check(size > header and rest == 0,
           f"A chunk must hold whole frames of {FRAME_SIZE} bytes"
           + (f" after the {HEADER_SIZE}-byte stream header." if header else "."))
    _check(attachment.frame_count + frames <= attachment.max_frames,
           "This file is larger than was announced when its upload started.", 413)
    return frames


def add_chunk(session: DbSession, store: Blobs, attachment: Attachment, index: int,
              data: bytes) -> None:
    """Store chunk ``index`` (not yet committed). Two requests racing with the same chunk: the
    row update below waits for the other's transaction, then matches nothing (409)."""
    frames = check_chunk(attachment, index, len(data), data[0] if data else None)
    claimed = session.execute(
        update(Attachment)
        .where(Attachment.id == attachment.id, Attachment.chunk_count == index,
               Attachment.state == "uploading")
        .values(chunk_count=index + 1, frame_count=Attachment.frame_count + frames,
                ciphertext_size=Attachment.ciphertext_size + len(data))
        .execution_options(synchronize_session=False))
    _check(claimed.rowcount == 1,  # type: ignore[attr-defined]
           "This chunk arrived twice at once; ask which chunks the server has.", 409)
    store.write_at(attachment.blob_id, attachment.ciphertext_size, data)
    session.refresh(attachment)


def _record(case: Case, attachment: Attachment, kind: str, record: EncryptedRecord
            ) -> CaseRecord:
    _check(bool(RECORD_REF.fullmatch(record.record_ref)), "A record identifier is malformed.")
    try:
        check_record_shape(record.ciphertext)
    except CryptoError as error:
        raise AttachmentRejected(f"The encrypted file key or name is malformed: {error}.") \
            from None
    return CaseRecord(record_ref=record.record_ref, kind=kind, author=attachment.author,
                      author_staff_id=attachment.author_staff_id,
                      visible_to_reporter=attachment.visible_to_reporter, created_on=today(),
                      key_epoch=attachment.key_epoch, ciphertext=record.ciphertext)


def complete(session: DbSession, store: Blobs, case: Case, attachment: Attachment, *,
             frames: int, key_record: EncryptedRecord, name_record: EncryptedRecord) -> None:
    """Finish an upload: every announced frame is there, and the records holding its key and
    name join the case (not yet committed)."""
    _check(attachment.state == "uploading", "This attachment is already complete.", 409)
    _check_epoch(attachment, case)
    _check(attachment.chunk_count > 0 and frames == attachment.frame_count,
           f"The upload is incomplete: the server has {attachment.frame_count} frames, not "
           f"{frames}. Ask which chunks it has and send the rest.", 409)
    _check(key_record.record_ref != name_record.record_ref,
           "The file key and name need two record identifiers.")
    taken = set(session.scalars(select(CaseRecord.record_ref).where(
        CaseRecord.case_id == case.id,
        CaseRecord.record_ref.in_([key_record.record_ref, name_record.record_ref]))))
    _check(not taken, "A record identifier is taken; send the file again.", 409)
    key = _record(case, attachment, "file_key", key_record)
    name = _record(case, attachment, "file_name", name_record)
    case.records += [key, name]
    session.flush()
    if store.size(attachment.blob_id) != attachment.ciphertext_size:
        # Left over from a chunk whose request failed after writing: never part of the stream.
        store.truncate(attachment.blob_id, attachment.ciphertext_size)
    attachment.key_record, attachment.name_record = key, name
    attachment.state = "complete"


def describe(case: Case, visible_to_reporter_only: bool) -> list[dict[str, Any]]:
    """The case's complete attachments as the case views list them: sizes, dates, and the
    encrypted records of each one's key and name (``visible_to_reporter_only`` for the
    reporter's view)."""
    session = object_session(case)
    if session is None:
        return []
    described = []
    for a in _attachments(session, case):
        if a.state != "complete" or a.key_record is None or a.name_record is None:
            continue
        if visible_to_reporter_only and not a.visible_to_reporter:
            continue
        item: dict[str, Any] = {
            "attachment_ref": a.attachment_ref, "author": a.author,
            "created_on": a.created_on.isoformat(), "key_epoch": a.key_epoch,
            "frames": a.frame_count, "size": a.ciphertext_size,
            "key_record": _record_view(a.key_record), "name_record": _record_view(a.name_record),
        }
        if not visible_to_reporter_only:
            item["visible_to_reporter"] = a.visible_to_reporter
            item["author_staff_id"] = a.author_staff_id
        described.append(item)
    return described


def _record_view(record: CaseRecord) -> dict[str, Any]:
    return {"record_ref": record.record_ref,
            "ciphertext": base64.b64encode(record.ciphertext).decode("ascii")}


def ciphertext(store: Blobs, attachment: Attachment) -> Iterator[bytes]:
    """A complete attachment's stored stream, piece by piece."""
    return store.read_pieces(attachment.blob_id)


def discard(session: DbSession, store: Blobs, attachment: Attachment) -> None:
    """Remove an upload and its blob (its records go with the case, if it had any)."""
    session.delete(attachment)
    store.delete(attachment.blob_id)


def purge_stale_uploads(session: DbSession, now: datetime, store: Blobs) -> int:
    """Remove uploads started at least ``STALE_UPLOAD_DAYS`` dates before ``now`` and never
    completed, and blobs no attachment refers to that are as old (left by a request that
    failed before its attachment was stored). Returns how many uploads went. Safe to run twice
    and at any time; the caller commits."""
    cutoff = now.date() - timedelta(days=STALE_UPLOAD_DAYS)
    stale = list(session.scalars(select(Attachment).where(
        Attachment.state == "uploading", Attachment.created_on <= cutoff)))
    for attachment in stale:
        session.delete(attachment)
    session.flush()
    for attachment in stale:
        store.delete(attachment.blob_id)
    known = set(session.scalars(select(Attachment.blob_id)))
    moment = now if now.tzinfo else now.replace(tzinfo=UTC)  # naive means UTC here
    store.purge_orphans(known, (moment - timedelta(days=STALE_UPLOAD_DAYS)).timestamp())
    return len(stale)
