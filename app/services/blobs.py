"""The blob stores: where attachment ciphertext is kept, chosen by ``CANDOR_BLOB_STORE``.

- ``BlobStore`` (``filesystem``, the default): files on disk, one file per attachment.
- ``DatabaseBlobStore`` (``database``): rows of ``blob_chunks`` in Candor's own database, about
  1 MiB each, so that several app nodes and a standby share the attachments, a blob is written in
  the same transaction as the rows that describe it (and deleted in the same transaction as its
  case's records), and a backup of the database holds it. Rows rather than PostgreSQL large
  objects: they work the same on SQLite, are removed by an ordinary ``DELETE`` (large objects
  need ``lo_unlink`` and leak when it is forgotten), are copied by ``pg_dump`` with the table
  and are streamed to a standby with everything else.

Both are used through ``Blobs``; a blob is a sequence of bytes named by a random id.

Files are named by random ids the server makes (never anything a reporter typed) and hold only
ciphertext. After each write, a file's access and modification times are set back to midnight UTC of
that day, so the file system does not record when in the day a reporter uploaded; the change
times, which cannot be set back, are blurred by touching every blob on each tick
(``blur_change_times``).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Engine

from app.extensions import DbSession
from app.models import Attachment, BlobChunk

BLOB_ID = re.compile(r"[0-9a-f]{32}")
READ_SIZE = 256 * 1024
# The most bytes a ``blob_chunks`` row holds when a blob is written as a stream (a chunk sent
# through the API is one row whatever its size, at most 16 frames: about 1 MiB).
ROW_BYTES = 1024 * 1024


class BlobWriter(Protocol):
    """What ``Blobs.appender`` returns: bytes are appended with ``write``; then ``close``."""

    @property
    def closed(self) -> bool: ...

    def write(self, data: bytes, /) -> int: ...

    def close(self) -> None: ...


class Blobs(Protocol):
    """A blob store. Writes made through a ``DatabaseBlobStore`` belong to its session's
    transaction; a ``BlobStore``'s are on disk at once and cannot be rolled back."""

    @staticmethod
    def new_id() -> str: ...

    def create(self, blob_id: str) -> None: ...

    def write_at(self, blob_id: str, offset: int, data: bytes) -> None: ...

    def truncate(self, blob_id: str, size: int) -> None: ...

    def appender(self, blob_id: str) -> BlobWriter: ...

    def finished(self, blob_id: str) -> None: ...

    def size(self, blob_id: str) -> int: ...

    def read_pieces(self, blob_id: str, piece_size: int = READ_SIZE) -> Iterator[bytes]: ...

    def delete(self, blob_id: str) -> None: ...

    def purge_orphans(self, known: set[str], older_than: float) -> int: ...

    def blur_change_times(self) -> int: ...


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def new_id() -> str:
        return secrets.token_hex(16)

    def path(self, blob_id: str) -> Path:
        if not BLOB_ID.fullmatch(blob_id):
            raise ValueError("malformed blob id")
        return self.root / blob_id

    def create(self, blob_id: str) -> None:
        """An empty blob, readable by this user only; fails if it exists."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path(blob_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        self._coarsen_times(blob_id)

    def write_at(self, blob_id: str, offset: int, data: bytes) -> None:
        """Write ``data`` at ``offset`` and cut anything after it (a chunk sent again after a
        failed attempt replaces whatever that attempt left)."""
        with open(self.path(blob_id), "r+b") as blob:
            blob.seek(offset)
            blob.write(data)
            blob.truncate()
        self._coarsen_times(blob_id)

    def truncate(self, blob_id: str, size: int) -> None:
        with open(self.path(blob_id), "r+b") as blob:
            blob.truncate(size)
        self._coarsen_times(blob_id)

    def appender(self, blob_id: str) -> BinaryIO:
        """A file to append a blob's bytes to as they are made; close it, then call
        ``finished``."""
        return open(self.path(blob_id), "ab")  # the caller closes it

    def finished(self, blob_id: str) -> None:
        self._coarsen_times(blob_id)

    def size(self, blob_id: str) -> int:
        return self.path(blob_id).stat().st_size

    def open(self, blob_id: str) -> BinaryIO:
        return open(self.path(blob_id), "rb")  # the caller closes it

    def read_pieces(self, blob_id: str, piece_size: int = READ_SIZE) -> Iterator[bytes]:
        """The blob's bytes in pieces, never the whole file at once."""
        with self.open(blob_id) as blob:
            while piece := blob.read(piece_size):
                yield piece

    def delete(self, blob_id: str) -> None:
        self.path(blob_id).unlink(missing_ok=True)

    def _coarsen_times(self, blob_id: str) -> None:
        os.utime(self.path(blob_id), (_midnight(), _midnight()))

    def blur_change_times(self) -> int:
        """Touch every blob and the store's folder. A file's change time (ctime) cannot be
        set back, and each write stamps it to the second; touching everything on each tick
        makes every ctime the tick's, so none tells when a reporter uploaded (to within one
        tick). Returns how many files were touched."""
        if not self.root.is_dir():
            return 0
        touched = 0
        for path in self.root.iterdir():
            if BLOB_ID.fullmatch(path.name):
                stamp = min(path.stat().st_mtime, _midnight())
                os.utime(path, (stamp, stamp))
                touched += 1
        os.utime(self.root, (_midnight(), _midnight()))
        return touched

    def purge_orphans(self, known: set[str], older_than: float) -> int:
        """Delete the blobs not in ``known`` last written before ``older_than`` (a POSIX time):
        left by a request that failed before its attachment was stored."""
        if not self.root.is_dir():
            return 0
        purged = 0
        for path in self.root.iterdir():
            if (BLOB_ID.fullmatch(path.name) and path.name not in known
                    and path.stat().st_mtime <= older_than):
                path.unlink(missing_ok=True)
                purged += 1
        return purged


class DatabaseBlobStore:
    """Blobs as ``blob_chunks`` rows. Writes go through ``session`` (in the caller's
    transaction, so they commit or roll back with the attachment's row); ``read_pieces`` takes a
    connection of its own from the session's engine for each row, because a download is sent
    after the request's session has ended, and never holds more than one row in memory."""

    def __init__(self, session: DbSession) -> None:
        self.session = session
        bind = session.get_bind()
        self.engine: Engine = bind if isinstance(bind, Engine) else bind.engine

    @staticmethod
    def new_id() -> str:
        return secrets.token_hex(16)

    @staticmethod
    def _checked(blob_id: str) -> str:
        if not BLOB_ID.fullmatch(blob_id):
            raise ValueError("malformed blob id")
        return blob_id

    def create(self, blob_id: str) -> None:
        """An empty blob has no rows."""
        self._checked(blob_id)

    def _add(self, blob_id: str, start: int, data: bytes) -> None:
        if data:
            self.session.execute(insert(BlobChunk).values(
                blob_id=blob_id, start=start, data=data))

    def write_at(self, blob_id: str, offset: int, data: bytes) -> None:
        """Write ``data`` at ``offset`` and cut anything after it (as ``BlobStore.write_at``)."""
        self.truncate(blob_id, offset)
        self._add(blob_id, offset, data)

    def truncate(self, blob_id: str, size: int) -> None:
        self.session.execute(delete(BlobChunk).where(
            BlobChunk.blob_id == self._checked(blob_id), BlobChunk.start >= size)
            .execution_options(synchronize_session=False))
        last = self.session.execute(
            select(BlobChunk.start, func.length(BlobChunk.data))
            .where(BlobChunk.blob_id == blob_id).order_by(BlobChunk.start.desc()).limit(1)
        ).first()
        if last is not None and last[0] + last[1] > size:  # the last row runs past the cut
            data = self.session.scalar(select(BlobChunk.data).where(
                BlobChunk.blob_id == blob_id, BlobChunk.start == last[0]))
            assert data is not None
            self.session.execute(delete(BlobChunk).where(
                BlobChunk.blob_id == blob_id, BlobChunk.start == last[0])
                .execution_options(synchronize_session=False))
            self._add(blob_id, last[0], data[: size - last[0]])

    def appender(self, blob_id: str) -> BlobWriter:
        return _RowWriter(self, self._checked(blob_id), self.size(blob_id))

    def finished(self, blob_id: str) -> None:
        """Nothing to do: rows carry no times."""

    def size(self, blob_id: str) -> int:
        return int(self.session.scalar(
            select(func.coalesce(func.sum(func.length(BlobChunk.data)), 0))
            .where(BlobChunk.blob_id == self._checked(blob_id))) or 0)

    def read_pieces(self, blob_id: str, piece_size: int = READ_SIZE) -> Iterator[bytes]:
        """The blob's rows in order, one query and one row at a time (a row is at most about
        1 MiB whatever ``piece_size`` says)."""
        self._checked(blob_id)
        position = 0
        while True:
            with self.engine.connect() as connection:
                row = connection.execute(
                    select(BlobChunk.start, BlobChunk.data)
                    .where(BlobChunk.blob_id == blob_id, BlobChunk.start >= position)
                    .order_by(BlobChunk.start).limit(1)).first()
            if row is None:
                return
            position = row[0] + len(row[1])
            yield bytes(row[1])

    def delete(self, blob_id: str) -> None:
        self.session.execute(delete(BlobChunk).where(BlobChunk.blob_id == self._checked(blob_id))
                             .execution_options(synchronize_session=False))

    def purge_orphans(self, known: set[str], older_than: float) -> int:
        """Delete rows of blobs no attachment refers to. Rows are written in the transaction
        that stores their attachment, so none is orphaned by a failed request; this removes
        what a file store's leftovers would be after a switch or a hand edit."""
        gone = self.session.execute(
            delete(BlobChunk).where(~select(Attachment.id)
                                    .where(Attachment.blob_id == BlobChunk.blob_id).exists())
            .execution_options(synchronize_session=False))
        return int(gone.rowcount)  # type: ignore[attr-defined]

    def blur_change_times(self) -> int:
        """Rows carry no times: nothing to blur."""
        return 0


class _RowWriter:
    """Appends to a blob a row of ``ROW_BYTES`` at a time (the last one shorter)."""

    def __init__(self, store: DatabaseBlobStore, blob_id: str, start: int) -> None:
        self._store = store
        self._blob_id = blob_id
        self._start = start
        self._pending = bytearray()
        self.closed = False

    def write(self, data: bytes, /) -> int:
        self._pending += data
        while len(self._pending) >= ROW_BYTES:
            self._flush(ROW_BYTES)
        return len(data)

    def _flush(self, size: int) -> None:
        self._store._add(self._blob_id, self._start, bytes(self._pending[:size]))
        self._start += min(size, len(self._pending))
        del self._pending[:size]

    def close(self) -> None:
        if not self.closed:
            self._flush(len(self._pending))
            self.closed = True


def _midnight() -> float:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
