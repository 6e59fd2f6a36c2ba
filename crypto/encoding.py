"""Canonical byte encodings and padding (SPEC.md sections 1 and 5).

Everything that is signed, used as associated data or sealed is built from these helpers, so there
is exactly one encoding of every value and a strict parser that rejects anything else.
"""

from __future__ import annotations

import re

from .errors import InvalidPadding, MalformedInput

VERSION = 1
"""The protocol version byte that starts every stored blob."""

MAX_IDENTIFIER_LENGTH = 128
_IDENTIFIER = re.compile(r"[\x21-\x7e]{1,128}")
_ROLE = re.compile(r"[a-z][a-z0-9_-]{0,31}")
MAX_TIMESTAMP = 2**53 - 1

MIN_BUCKET = 256
MAX_BUCKET = 4 * 1024 * 1024
MAX_RECORD_PLAINTEXT = MAX_BUCKET - 1
BUCKETS = tuple(MIN_BUCKET << k for k in range(15))


def u8(n: int) -> bytes:
    return n.to_bytes(1, "big")


def u32(n: int) -> bytes:
    return n.to_bytes(4, "big")


def u64(n: int) -> bytes:
    return n.to_bytes(8, "big")


def lp(data: bytes) -> bytes:
    """Length-prefixed bytes: ``u32(len(data)) || data``."""
    return u32(len(data)) + data


def context(name: str) -> bytes:
    """The ``lp``-encoded ASCII context string that opens associated data and signed messages."""
    return lp(name.encode("ascii"))


def identifier(value: str, what: str = "identifier") -> bytes:
    """Check an identifier (1-128 printable ASCII characters, no space) and return its bytes."""
    if not isinstance(value, str) or _IDENTIFIER.fullmatch(value) is None:
        raise MalformedInput(f"{what} must be 1-128 printable ASCII characters without spaces")
    return value.encode("ascii")


def role_name(value: str) -> bytes:
    if not isinstance(value, str) or _ROLE.fullmatch(value) is None:
        raise MalformedInput("role names are 1-32 characters of a-z, 0-9, _ and -, from a letter")
    return value.encode("ascii")


def timestamp(value: int) -> bytes:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TIMESTAMP:
        raise MalformedInput("timestamps are whole seconds from 0 to 2**53 - 1")
    return u64(value)


def require_bytes(value: bytes, size: int, what: str) -> bytes:
    """Return ``value`` as ``bytes`` if it is bytes-like of exactly ``size`` bytes."""
    if not isinstance(value, bytes | bytearray | memoryview) or len(value) != size:
        raise MalformedInput(f"{what} must be {size} bytes")
    return bytes(value)


class Reader:
    """A strict, forward-only parser over one encoded value.

    Every read checks that enough bytes remain; ``finish`` checks that none are left over.
    """

    def __init__(self, data: bytes) -> None:
        self._data = bytes(data)
        self._pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self._pos + n > len(self._data):
            raise MalformedInput("encoded value ends early")
        chunk = self._data[self._pos : self._pos + n]
        self._pos += n
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def u64(self) -> int:
        return int.from_bytes(self.take(8), "big")

    def lp(self) -> bytes:
        return self.take(self.u32())

    def ascii(self, what: str) -> str:
        """A length-prefixed ASCII string."""
        try:
            return self.lp().decode("ascii")
        except UnicodeDecodeError:
            raise MalformedInput(f"{what} is not ASCII") from None

    def identifier(self, what: str = "identifier") -> str:
        value = self.ascii(what)
        identifier(value, what)
        return value

    def timestamp(self) -> int:
        value = self.u64()
        if value > MAX_TIMESTAMP:
            raise MalformedInput("timestamp is 2**53 or later")
        return value

    def finish(self) -> None:
        if self._pos != len(self._data):
            raise MalformedInput("bytes left over after the encoded value")


def bucket_for(length: int) -> int:
    """The padded size of a record whose content is ``length`` bytes."""
    for bucket in BUCKETS:
        if bucket >= length + 1:
            return bucket
    raise MalformedInput(f"record content is longer than {MAX_RECORD_PLAINTEXT} bytes")


def pad_to(content: bytes, size: int) -> bytes:
    """ISO/IEC 7816-4 padding of ``content`` to exactly ``size`` bytes (``size > len(content)``)."""
    if len(content) >= size:
        raise MalformedInput("content does not fit the padded size")
    return content + b"\x80" + bytes(size - len(content) - 1)


def strip_padding(padded: bytes) -> bytes:
    """Remove ISO/IEC 7816-4 padding; raise InvalidPadding if there is none."""
    end = len(padded.rstrip(b"\x00"))
    if end == 0 or padded[end - 1] != 0x80:
        raise InvalidPadding("padding marker missing")
    return padded[: end - 1]


def pad(content: bytes) -> bytes:
    """Pad record content to its bucket (SPEC.md 5.3)."""
    return pad_to(bytes(content), bucket_for(len(content)))


def unpad(padded: bytes) -> bytes:
    """Reverse ``pad``; reject any padding that ``pad`` would not have produced."""
    if len(padded) not in BUCKETS:
        raise InvalidPadding("padded length is not a bucket size")
    content = strip_padding(padded)
    if bucket_for(len(content)) != len(padded):
        raise InvalidPadding("content padded into a larger bucket than needed")
    return content
