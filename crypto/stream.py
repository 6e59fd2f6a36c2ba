"""Attachments encrypted in fixed-size chunks with secretstream (SPEC.md section 8.9).

Neither side ever holds a whole file: ``StreamEncryptor`` and ``StreamDecryptor`` take bytes in
pieces of any size and give back whole frames or chunks; ``encrypt_chunks``/``decrypt_chunks`` wrap
them for iterables and ``encrypt_file``/``decrypt_file`` for binary file objects.

Misuse hazard: a decryptor yields plaintext before it has seen the end of the stream. Treat the
output as untrusted until the decryptor has finished without error (write to a temporary file and
rename it only then).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import BinaryIO

import nacl.bindings as sodium
import nacl.exceptions

from .encoding import VERSION, context, identifier, lp, pad_to, strip_padding, u8
from .envelope import CaseKey, RecordKind, decrypt_record, encrypt_record
from .errors import DecryptionError, MalformedInput, TruncatedStream, UnsupportedVersion
from .primitives import SymmetricKey

ATTACHMENT_CONTEXT = "candor/v1/attachment"
CHUNK_SIZE = 64 * 1024
FRAME_SIZE = CHUNK_SIZE + sodium.crypto_secretstream_xchacha20poly1305_ABYTES
HEADER_SIZE = 1 + sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES
TAG_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
TAG_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL


class FileKey(SymmetricKey):
    """The random key of one attachment, kept in a ``FILE_KEY`` record of its case."""


def attachment_associated_data(case_ref: str, attachment_ref: str) -> bytes:
    return (
        context(ATTACHMENT_CONTEXT)
        + u8(VERSION)
        + lp(identifier(case_ref, "case reference"))
        + lp(identifier(attachment_ref, "attachment reference"))
    )


class StreamEncryptor:
    """Encrypts one attachment. Send ``header`` first, then everything ``update`` returns, then
    what ``finish`` returns. Uses a fresh random secretstream header."""

    def __init__(self, file_key: FileKey, case_ref: str, attachment_ref: str) -> None:
        if not isinstance(file_key, FileKey):
            raise TypeError("file_key must be a FileKey")
        self._ad = attachment_associated_data(case_ref, attachment_ref)
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        header = sodium.crypto_secretstream_xchacha20poly1305_init_push(
            self._state, bytes(file_key)
        )
        self.header: bytes = u8(VERSION) + bytes(header)
        self._buffer = bytearray()
        self._finished = False

    def _push(self, chunk: bytes, tag: int) -> bytes:
        frame: bytes = sodium.crypto_secretstream_xchacha20poly1305_push(
            self._state, chunk, self._ad, tag
        )
        return frame

    def update(self, data: bytes) -> list[bytes]:
        """Add file data; return the frames that are now complete (possibly none)."""
        if self._finished:
            raise ValueError("stream already finished")
        # Whole chunks are encrypted straight from ``data`` (a piece of exactly one chunk without
        # any copy); only a chunk split between calls goes through the buffer.
        data = data if type(data) is bytes else bytes(data)
        frames: list[bytes] = []
        start = 0
        if self._buffer:
            start = min(CHUNK_SIZE - len(self._buffer), len(data))
            self._buffer += memoryview(data)[:start]
            if len(self._buffer) < CHUNK_SIZE:
                return frames
            frames.append(self._push(bytes(self._buffer), TAG_MESSAGE))
            self._buffer.clear()
        while len(data) - start >= CHUNK_SIZE:
            frames.append(self._push(data[start : start + CHUNK_SIZE], TAG_MESSAGE))
            start += CHUNK_SIZE
        self._buffer += memoryview(data)[start:]
        return frames

    def finish(self) -> bytes:
        """The final frame: the remaining data, padded to a whole chunk, tagged FINAL."""
        if self._finished:
            raise ValueError("stream already finished")
        self._finished = True
        frame = self._push(pad_to(self._buffer, CHUNK_SIZE), TAG_FINAL)
        self._buffer.clear()
        return frame


class StreamDecryptor:
    """Decrypts one attachment given in pieces of any size. Call ``finish`` after the last piece:
    it raises TruncatedStream if the stream did not end with its final frame."""

    def __init__(self, file_key: FileKey, case_ref: str, attachment_ref: str) -> None:
        if not isinstance(file_key, FileKey):
            raise TypeError("file_key must be a FileKey")
        self._key = bytes(file_key)
        self._ad = attachment_associated_data(case_ref, attachment_ref)
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        self._started = False
        self._done = False
        self._buffer = bytearray()

    def update(self, data: bytes) -> list[bytes]:
        """Add stream bytes; return the plaintext of every frame that is now complete."""
        if self._done and data:
            raise MalformedInput("data after the final frame")
        # Whole frames are decrypted straight from ``data`` (a piece of exactly one frame without
        # any copy); only the header and a frame split between calls go through the buffer.
        data = data if type(data) is bytes else bytes(data)
        start = 0
        if not self._started:
            start = min(HEADER_SIZE - len(self._buffer), len(data))
            self._buffer += memoryview(data)[:start]
            if self._buffer and self._buffer[0] != VERSION:
                raise UnsupportedVersion(f"stream version {self._buffer[0]}")
            if len(self._buffer) < HEADER_SIZE:
                return []
            sodium.crypto_secretstream_xchacha20poly1305_init_pull(
                self._state, bytes(self._buffer[1:]), self._key
            )
            self._buffer.clear()
            self._started = True
        chunks: list[bytes] = []
        if self._buffer:
            end = min(start + FRAME_SIZE - len(self._buffer), len(data))
            self._buffer += memoryview(data)[start:end]
            start = end
            if len(self._buffer) == FRAME_SIZE:
                chunks.append(self._pull(bytes(self._buffer)))
                self._buffer.clear()
        while len(data) - start >= FRAME_SIZE:
            if self._done:
                raise MalformedInput("data after the final frame")
            chunks.append(self._pull(data[start : start + FRAME_SIZE]))
            start += FRAME_SIZE
        if self._done and start < len(data):
            raise MalformedInput("data after the final frame")
        self._buffer += memoryview(data)[start:]
        return chunks

    def _pull(self, frame: bytes) -> bytes:
        try:
            chunk, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(
                self._state, frame, self._ad
            )
        except nacl.exceptions.CryptoError:
            raise DecryptionError("stream frame does not authenticate") from None
        if tag == TAG_MESSAGE:
            return bytes(chunk)
        if tag == TAG_FINAL:
            self._done = True
            return strip_padding(bytes(chunk))
        raise MalformedInput(f"unexpected stream tag {tag}")

    def finish(self) -> None:
        """Raise TruncatedStream unless the final frame has been decrypted."""
        if not self._done:
            raise TruncatedStream("stream ended before its final frame")


def encrypt_chunks(
    file_key: FileKey, case_ref: str, attachment_ref: str, chunks: Iterable[bytes]
) -> Iterator[bytes]:
    """Encrypt file data given as an iterable of byte strings; yields the header, then frames."""
    encryptor = StreamEncryptor(file_key, case_ref, attachment_ref)
    yield encryptor.header
    for data in chunks:
        yield from encryptor.update(data)
    yield encryptor.finish()


def decrypt_chunks(
    file_key: FileKey, case_ref: str, attachment_ref: str, chunks: Iterable[bytes]
) -> Iterator[bytes]:
    """Decrypt a stream given as an iterable of byte strings; yields plaintext chunks and raises
    at the end if the stream was truncated (see the module's misuse hazard)."""
    decryptor = StreamDecryptor(file_key, case_ref, attachment_ref)
    for data in chunks:
        yield from decryptor.update(data)
    decryptor.finish()


def _read_pieces(source: BinaryIO, size: int, first: int | None = None) -> Iterator[bytes]:
    """``source`` in pieces of ``size`` bytes, the first of ``first`` bytes if given."""
    if first is not None and (piece := source.read(first)):
        yield piece
    while piece := source.read(size):
        yield piece


def encrypt_file(
    file_key: FileKey, case_ref: str, attachment_ref: str, source: BinaryIO, destination: BinaryIO
) -> None:
    """Encrypt ``source`` into ``destination``, one chunk at a time."""
    pieces = _read_pieces(source, CHUNK_SIZE)
    for frame in encrypt_chunks(file_key, case_ref, attachment_ref, pieces):
        destination.write(frame)


def decrypt_file(
    file_key: FileKey, case_ref: str, attachment_ref: str, source: BinaryIO, destination: BinaryIO
) -> None:
    """Decrypt ``source`` into ``destination``, one chunk at a time. ``destination`` holds
    unauthenticated data until this returns without error."""
    # Read on frame boundaries, so that each frame is decrypted from the piece read.
    pieces = _read_pieces(source, FRAME_SIZE, first=HEADER_SIZE)
    for chunk in decrypt_chunks(file_key, case_ref, attachment_ref, pieces):
        destination.write(chunk)


def encrypt_file_key(case_key: CaseKey, case_ref: str, record_ref: str, file_key: FileKey) -> bytes:
    """The ``FILE_KEY`` record that stores an attachment's file key."""
    return encrypt_record(case_key, RecordKind.FILE_KEY, case_ref, record_ref, bytes(file_key))


def decrypt_file_key(case_key: CaseKey, case_ref: str, record_ref: str, record: bytes) -> FileKey:
    content = decrypt_record(case_key, RecordKind.FILE_KEY, case_ref, record_ref, record)
    if len(content) != FileKey.SIZE:
        raise MalformedInput("file key record must hold 32 bytes")
    return FileKey(content)
