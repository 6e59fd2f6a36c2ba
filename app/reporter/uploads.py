"""Files sent through the no-JavaScript pages: cleaned and encrypted as they arrive.

Werkzeug's form parser spools uploaded files to temporary files by default, which here would
write a reporter's plaintext to disk. Instead, for the pages that take files, each file part of
the multipart body goes straight through the metadata stripper (``candor_reporter.metadata``) and
a ``StreamEncryptor`` into the blob store, a piece at a time as the parser reads it: nothing but
ciphertext is written. Images and other files are never whole in memory; a document (PDF, office
file) is, for the length of the request: it is read from its end, so it is cleaned once complete
(``candor_reporter.documents``), and its cleaned copy encrypted a piece at a time as it is
written (bench/upload.py measures the peak memory on a 200 MB PDF). The documents one request
holds count towards the case's total as they arrive, and together they may take no more than one
attachment may (``max_attachment_bytes``): a request holds at most that much for cleaning (more
documents are refused, to be sent in another message). The hook is
``_get_file_stream``, the method Werkzeug documents for replacing that spooling, set for the one
request.

The file key and name stay in memory until the view knows the case key; ``store`` then records
each file as a complete attachment with its ``FILE_KEY`` and ``FILE_NAME`` records. If anything
fails before that, ``discard`` removes every blob the request wrote.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Request
from flask_babel import gettext
from werkzeug.exceptions import RequestEntityTooLarge

from app.extensions import DbSession
from app.models import Attachment, Case, today
from app.services import attachments
from app.services.blobs import Blobs
from candor_reporter import protocol
from candor_reporter.metadata import MetadataError, SniffingStripper
from crypto.envelope import CaseKey
from crypto.stream import HEADER_SIZE, FileKey, StreamEncryptor

if TYPE_CHECKING:  # pikepdf and lxml load with the first document, not with every worker
    from candor_reporter.documents import CleaningReport

MAX_FILES = 10
# What the parser may read for one of these pages beyond the files: the text fields and the
# multipart framing.
FORM_OVERHEAD_BYTES = 1024 * 1024


class EncryptingFile:
    """The writable "file" the parser streams one part into."""

    def __init__(self, uploads: PlainUploads, name: str) -> None:
        self.name = protocol.safe_file_name(name)
        self.attachment_ref = protocol.new_attachment_ref()
        self.file_key = FileKey.generate()
        self.blob_id = uploads.store.new_id()
        self.error: str | None = None
        self.frames = 0
        self.size = HEADER_SIZE
        self.plain_size = 0  # what the stream carries: the file less the metadata removed
        self.read_size = 0  # what the parser gave, before cleaning
        self.held = 0  # of it, what is held until complete to be cleaned (a document)
        self._uploads = uploads
        self._stripper = SniffingStripper()
        assert uploads.case_ref is not None  # checked by the factory
        self._encryptor = StreamEncryptor(self.file_key, uploads.case_ref, self.attachment_ref)
        uploads.store.create(self.blob_id)
        self._blob = uploads.store.appender(self.blob_id)
        self._blob.write(self._encryptor.header)

    @property
    def kind(self) -> str | None:
        return self._stripper.kind

    @property
    def cleaned(self) -> bool:
        return self._stripper.cleaned

    @property
    def report(self) -> CleaningReport | None:
        """What cleaning a document removed and kept (after ``finish``)."""
        return self._stripper.report

    def write(self, data: bytes) -> int:
        self.read_size += len(data)
        if self.kind in ("pdf", "zip"):  # held until complete: its size counts as it arrives
            self.held += len(data)
            self._uploads.hold(len(data), self)
        if self.error is None:
            try:
                self._frames(self._encryptor.update(self._cleaned(self._stripper.update(data))))
            except MetadataError as error:
                # Kept for the page: raising here would be taken by the parser as a malformed
                # body and silently dropped (it ignores ValueError).
                self.error = f"{self.name}: {error}"
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        """The parser rewinds each finished part for reading; nothing is read back here."""
        return 0

    def _cleaned(self, data: bytes) -> bytes:
        self.plain_size += len(data)
        return data

    def _frames(self, frames: list[bytes]) -> None:
        for frame in frames:
            self.size += len(frame)
            self.frames += 1
            self._uploads.count(len(frame), self)
            self._blob.write(frame)

    def finish(self) -> None:
        """Write the final frames; sets ``error`` for a file that cannot be cleaned."""
        self._uploads.release(self.held)  # from here on its frames are counted
        self.held = 0
        if self.error is None:
            try:
                self._stripper.finish_into(
                    lambda piece: self._frames(self._encryptor.update(self._cleaned(piece))))
                self._frames([self._encryptor.finish()])
            except MetadataError as error:
                self.error = f"{self.name}: {error}"
        self.close()

    def close(self) -> None:
        if not self._blob.closed:
            self._blob.close()
            self._uploads.store.finished(self.blob_id)


class Discarded:
    """An empty file input (no file chosen): its part carries nothing and is dropped."""

    def write(self, data: bytes) -> int:
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0


class PlainUploads:
    """The files of one request to a no-JavaScript page, for the case ``case_ref`` names."""

    def __init__(self, store: Blobs, case_ref: str | None, limits: attachments.Limits,
                 reserved: int = 0) -> None:
        """``case_ref`` None: files cannot be taken (the case is not known before the body is
        read); they are dropped and ``refused`` says so."""
        self.store = store
        self.case_ref = case_ref
        self.refused = False
        self.stored = False  # set once the request's transaction holding them is committed
        self.files: list[EncryptingFile] = []
        self._limits = limits
        self._total = reserved
        self._held = 0  # documents' bytes held for cleaning, not yet encrypted

    def install(self, request: Request) -> None:
        """Parse this request's body through these uploads; allow it to be as large as the
        files a case may hold."""
        setattr(request, "_get_file_stream", self.stream_factory)  # noqa: B010 - see module
        request.max_content_length = self._limits.case_bytes + FORM_OVERHEAD_BYTES

    def stream_factory(self, total_content_length: int | None, content_type: str | None,
                       filename: str | None = None, content_length: int | None = None
                       ) -> Any:
        if not filename:
            return Discarded()
        if self.case_ref is None:
            self.refused = True
            return Discarded()
        if len(self.files) >= MAX_FILES:
            raise RequestEntityTooLarge(gettext(
                "Send at most %(count)s files at a time. Nothing was sent.", count=MAX_FILES))
        upload = EncryptingFile(self, filename)
        self.files.append(upload)
        return upload

    def count(self, size: int, upload: EncryptingFile) -> None:
        """Stop reading as soon as a file or the case would go over its limit."""
        self._total += size
        self.check_size(upload.size, upload)

    def hold(self, size: int, upload: EncryptingFile) -> None:
        """A document's piece held in memory until it is complete: counted in the case's total
        and in what one request may hold."""
        self._held += size
        self.check_size(upload.read_size, upload)
        if self._held > self._limits.attachment_bytes:
            limit = f"{self._limits.attachment_bytes // 1024**2:,}"
            raise RequestEntityTooLarge(gettext(
                "Documents sent together may take up to %(size)s MiB: send the others in "
                "another message. Nothing was sent.", size=limit))

    def release(self, size: int) -> None:
        self._held -= size

    def check_size(self, size: int, upload: EncryptingFile) -> None:
        if size > self._limits.attachment_bytes:
            limit = f"{self._limits.attachment_bytes // 1024**2:,}"
            raise RequestEntityTooLarge(gettext(
                "%(name)s is too large: attachments may be up to %(size)s MiB. Nothing was "
                "sent.", name=upload.name, size=limit))
        if self._total + self._held > self._limits.case_bytes:
            limit = f"{self._limits.case_bytes // 1024**2:,}"
            raise RequestEntityTooLarge(gettext(
                "The attachments of a case may take up to %(size)s MiB. Nothing was sent.",
                size=limit))

    def finish(self) -> list[str]:
        """Close every file; returns the problems (files that cannot be cleaned) to show."""
        for upload in self.files:
            upload.finish()
        return [u.error for u in self.files if u.error]

    def uncleaned(self) -> list[str]:
        """The names of the files that were sent as they were (not an image or a document)."""
        return [u.name for u in self.files if not u.cleaned]

    def cleaning(self) -> dict[str, str]:
        """What cleaning removed and kept, by the name of each document it cleaned."""
        return {u.name: u.report.summary(gettext) for u in self.files if u.report is not None}

    def store_in(self, session: DbSession, case: Case, case_key: CaseKey, key_epoch: int
                 ) -> list[Attachment]:
        """Record every file as a complete attachment of ``case`` (not yet committed)."""
        stored = []
        for upload in self.files:
            attachment = Attachment(
                case_id=case.id, attachment_ref=upload.attachment_ref, blob_id=upload.blob_id,
                state="uploading", author="reporter", visible_to_reporter=True,
                key_epoch=key_epoch, max_frames=upload.frames, chunk_count=1,
                frame_count=upload.frames, ciphertext_size=upload.size, created_on=today())
            session.add(attachment)
            outgoing = protocol.OutgoingAttachment(upload.attachment_ref, upload.file_key,
                                                   upload.name, upload.frames)
            body = outgoing.completion_body(case_key, case.case_ref, upload.frames,
                                            upload.plain_size)
            attachments.complete(
                session, self.store, case, attachment, frames=upload.frames,
                key_record=_encrypted(body["key_record"]),
                name_record=_encrypted(body["name_record"]))
            stored.append(attachment)
        return stored

    def discard(self) -> None:
        for upload in self.files:
            upload.close()
            self.store.delete(upload.blob_id)
        self.files = []


def _encrypted(item: dict[str, str]) -> attachments.EncryptedRecord:
    return attachments.EncryptedRecord(item["record_ref"], protocol.unb64(item["ciphertext"]))
