"""Canonical byte encodings and padding (SPEC.md sections 1 and 5).

Everything that is signed, used as associated data or sealed is built from these helpers, so there
is exactly one encoding of every value and a strict parser that rejects anything else.
"""

from __future__ import annotations

import re
import struct

from .errors import InvalidPadding, MalformedInput

VERSION = 1
"""The protocol version byte that starts every stored blob."""

MAX_IDENTIFIER_LENGTH = 128
_IDENTIFIER = re.compile(r"[\x21-\x7e]{1,128}")
_IDENTIFIER_BYTES = re.compile(rb"[\x21-\x7e]{1,128}")
_ROLE = re.compile(r"[a-z][a-z0-9_-]{0,31}")
MAX_TIMESTAMP = 2**53 - 1
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")

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
    if type(value) is bytes and len(value) == size:  # the common case, without a copy
        return value
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

    def _advance(self, n: int) -> int:
        """Step over the next ``n`` bytes, which must all be there; return where they start."""
        start = self._pos
        if n < 0 or start + n > len(self._data):
            raise MalformedInput("encoded value ends early")
        self._pos = start + n
        return start

    # The integers are read in place (no slice is made for them): directory entries, the
    # longest values parsed, are a dozen reads each.
    def take(self, n: int) -> bytes:
        start = self._advance(n)
        return self._data[start : start + n]

    def u8(self) -> int:
        return self._data[self._advance(1)]

    def u32(self) -> int:
        value: int = _U32.unpack_from(self._data, self._advance(4))[0]
        return value

    def u64(self) -> int:
        value: int = _U64.unpack_from(self._data, self._advance(8))[0]
        return value

    def lp(self) -> bytes:
        length: int = _U32.unpack_from(self._data, self._advance(4))[0]
        start = self._advance(length)
        return self._data[start : start + length]

    def ascii(self, what: str) -> str:
        """A length-prefixed ASCII string."""
        try:
            return self.lp().decode("ascii")
        except UnicodeDecodeError:
            raise MalformedInput(f"{what} is not ASCII") from None

    def identifier(self, what: str = "identifier") -> str:
        """A length-prefixed identifier (the rule of ``identifier``), checked before decoding."""
        raw = self.lp()
        if _IDENTIFIER_BYTES.fullmatch(raw) is None:
            raise MalformedInput(f"{what} must be 1-128 printable ASCII characters without spaces")
        return raw.decode("ascii")

    def timestamp(self) -> int:
        value = self.u64()
        if value > MAX_TIMESTAMP:
            raise MalformedInput("timestamp is 2**53 or later")
        return value

    def finish(self) -> None:
        if self._pos != len(self._data):
            raise MalformedInput("bytes left over after the encoded value")


def bucket_for(length: int) -> int:
    """The padded size of a record whose content is ``length`` bytes: the smallest bucket of at
    least ``length + 1`` bytes."""
    # Buckets are the powers of two from MIN_BUCKET up; 1 << length.bit_length() is the smallest
    # power of two above ``length``, found without walking the list.
    bucket = max(MIN_BUCKET, 1 << length.bit_length())
    if bucket > MAX_BUCKET:
        raise MalformedInput(f"record content is longer than {MAX_RECORD_PLAINTEXT} bytes")
    return bucket


BUCKET_SIZES = frozenset(BUCKETS)
"""``BUCKETS`` as a set, for checking a length."""
# Padding is copied from, and compared against, these zeros rather than zeros made for each call.
# One attachment chunk covers every stream and the common record buckets; a longer run of zeros
# is made when needed.
_ZEROS = memoryview(bytes(64 * 1024))


def pad_to(content: bytes | bytearray, size: int) -> bytes:
    """ISO/IEC 7816-4 padding of ``content`` to exactly ``size`` bytes (``size > len(content)``)."""
    if len(content) >= size:
        raise MalformedInput("content does not fit the padded size")
    zeros = size - len(content) - 1
    return b"".join((content, b"\x80", _ZEROS[:zeros] if zeros <= len(_ZEROS) else bytes(zeros)))


def strip_padding(padded: bytes) -> bytes:
    """Remove ISO/IEC 7816-4 padding; raise InvalidPadding if there is none.

    The padding is valid when the last ``0x80`` byte is followed only by zero bytes (the same rule
    as stripping trailing zeros and requiring ``0x80`` next). Both steps run in C (``memrchr`` and
    ``memcmp``) rather than byte by byte. Like the browser's, this is not constant-time: how long
    it takes depends on where the content ends inside its bucket.
    """
    marker = padded.rfind(0x80)
    tail = len(padded) - marker - 1
    zeros = _ZEROS[:tail] if tail <= len(_ZEROS) else bytes(tail)
    if marker < 0 or not padded.endswith(zeros):
        raise InvalidPadding("padding marker missing")
    return padded[:marker]


def pad(content: bytes) -> bytes:
    """Pad record content to its bucket (SPEC.md 5.3)."""
    return pad_to(bytes(content), bucket_for(len(content)))


def unpad(padded: bytes) -> bytes:
    """Reverse ``pad``; reject any padding that ``pad`` would not have produced."""
    size = len(padded)
    if size not in BUCKET_SIZES:
        raise InvalidPadding("padded length is not a bucket size")
    content = strip_padding(padded)
    # bucket_for(len(content)) == size, said directly: above the smallest bucket, content that
    # would fit the bucket half the size (len(content) + 1 <= size // 2) is refused.
    if size > MIN_BUCKET and len(content) < size // 2:
        raise InvalidPadding("content padded into a larger bucket than needed")
    return content
