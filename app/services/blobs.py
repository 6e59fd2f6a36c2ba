"""The blob store: attachment ciphertext in files on disk, one file per attachment.

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
from typing import BinaryIO

BLOB_ID = re.compile(r"[0-9a-f]{32}")
READ_SIZE = 256 * 1024


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


def _midnight() -> float:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
