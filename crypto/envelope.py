"""Case keys, grants of a case key, and content records (SPEC.md sections 8.7-8.8).

A case key encrypts every content record of one case. Access to a case is a grant: the case key
sealed to one more public key. A record is bound by its associated data to its case, its record
reference and its kind, so the server cannot move a record to another case, another record or
another kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from .encoding import (
    BUCKET_SIZES,
    MAX_IDENTIFIER_LENGTH,
    MAX_TIMESTAMP,
    VERSION,
    Reader,
    context,
    identifier,
    pad,
    u8,
    u32,
    u64,
    unpad,
)
from .errors import DecryptionError, MalformedInput, UnsupportedVersion
from .keys import BoxKeyPair
from .primitives import (
    AEAD_NONCE_SIZE,
    AEAD_TAG_SIZE,
    SEAL_OVERHEAD,
    SymmetricKey,
    aead_decrypt,
    aead_encrypt,
    random_bytes,
    seal,
    seal_open,
)

RECORD_CONTEXT = "candor/v1/record"


class CaseKey(SymmetricKey):
    """The random key that encrypts all content of one case. ``CaseKey.generate()`` makes one."""


class GrantKind(IntEnum):
    """Who a grant is for. The kind is sealed inside the grant and checked when it is opened."""

    RECIPIENT = 1
    REPORTER = 2
    ESCROW = 3
    SHARE = 4  # an SB 53 share's key, sealed to an officer or director (SPEC 8.11)


# The record reference of an SB 53 share's summary (SPEC 8.11): one record per share, whose
# "case reference" is the share id.
SHARE_SUMMARY_ID = "summary"


class RecordKind(IntEnum):
    """What a content record holds. Part of the record's associated data."""

    REPORT = 1
    MESSAGE = 2
    NOTE = 3
    IDENTITY = 4
    FILE_KEY = 5
    FILE_NAME = 6
    FINDINGS = 7
    ACTION = 8  # a corrective-action record, required before a case closes
    SHARE = 9  # the summary of an SB 53 share, under the share's key (SPEC 8.11)


def _kind(value: int, enum: type[IntEnum]) -> int:
    try:
        return int(enum(value))
    except ValueError:
        raise MalformedInput(f"unknown {enum.__name__} {value!r}") from None


_VERSION_BYTE = u8(VERSION)
# The encoded kind byte of every member, looked up by value: what ``u8(_kind(value, enum))``
# gives, without building an enum member on each record or grant.
_GRANT_KIND_BYTES = {int(kind): u8(kind) for kind in GrantKind}
_RECORD_KIND_BYTES = {int(kind): u8(kind) for kind in RecordKind}


def _kind_byte(value: int, enum: type[IntEnum], table: dict[int, bytes]) -> bytes:
    try:
        return table[value]
    except (KeyError, TypeError):  # TypeError: an unhashable value, which no member equals
        return u8(_kind(value, enum))  # raises MalformedInput naming the value


_INNER_FIXED = 1 + 1 + 4 + CaseKey.SIZE
GRANT_MIN_SIZE = 1 + SEAL_OVERHEAD + _INNER_FIXED + 1
# The largest record: version, nonce, the largest padded bucket and the tag (SPEC.md 5.3, 8.8).
RECORD_MAX_SIZE = 1 + AEAD_NONCE_SIZE + max(BUCKET_SIZES) + AEAD_TAG_SIZE
GRANT_MAX_SIZE = 1 + SEAL_OVERHEAD + _INNER_FIXED + MAX_IDENTIFIER_LENGTH


def seal_case_key(
    case_key: CaseKey, recipient_public_key: bytes, case_ref: str, kind: GrantKind
) -> bytes:
    """A grant: the case key sealed to ``recipient_public_key`` for ``case_ref`` and ``kind``.

    Misuse hazard: seal only to a public key taken from a directory entry that verified under the
    organisation key and is ``usable_at`` now, or to the reporter's own derived key.
    """
    if not isinstance(case_key, CaseKey):
        raise TypeError("case_key must be a CaseKey")
    case = identifier(case_ref, "case reference")
    inner = b"".join(
        (
            _VERSION_BYTE,
            _kind_byte(kind, GrantKind, _GRANT_KIND_BYTES),
            u32(len(case)),
            case,
            bytes(case_key),
        )
    )
    return _VERSION_BYTE + seal(inner, recipient_public_key)


def open_grant(grant: bytes, keypair: BoxKeyPair, case_ref: str, kind: GrantKind) -> CaseKey:
    """Open a grant and return the case key, checking that it was made for ``case_ref`` and
    ``kind``; raises DecryptionError if it was not, or if it is not sealed to ``keypair``."""
    expected_kind = _kind_byte(kind, GrantKind, _GRANT_KIND_BYTES)
    expected_case = identifier(case_ref, "case reference")
    grant = check_grant_shape(grant)
    inner = seal_open(grant[1:], keypair.public_key, keypair.private_key, "grant")
    sealed_kind, sealed_case, key = _parse_grant_inner(inner)
    if sealed_kind != expected_kind or sealed_case != expected_case:
        raise DecryptionError("grant was made for another case or kind")
    return CaseKey(key)


def _parse_grant_inner(inner: bytes) -> tuple[bytes, bytes, bytes]:
    """``(kind byte, case reference bytes, case key)`` of an opened grant, strictly parsed: the
    version first (UnsupportedVersion), then a length prefix that must account for every byte and a
    canonical case reference (MalformedInput)."""
    # The layout is fixed but for the case reference, so it is read with slices rather than a
    # Reader: the same checks in the order a Reader makes them.
    if not inner:
        raise MalformedInput("encoded value ends early")
    if inner[0] != VERSION:
        raise UnsupportedVersion("grant content version")
    if len(inner) < _INNER_FIXED:
        raise MalformedInput("encoded value ends early")
    case_end = 6 + int.from_bytes(inner[2:6], "big")
    if case_end + CaseKey.SIZE > len(inner):
        raise MalformedInput("encoded value ends early")
    if case_end + CaseKey.SIZE < len(inner):
        raise MalformedInput("bytes left over after the encoded value")
    case = inner[6:case_end]
    try:
        identifier(case.decode("ascii"), "case reference")
    except UnicodeDecodeError:
        raise MalformedInput("case reference is not ASCII") from None
    return inner[1:2], case, inner[case_end:]


_RECORD_AD_PREFIX = context(RECORD_CONTEXT) + _VERSION_BYTE


def record_associated_data(kind: RecordKind, case_ref: str, record_ref: str) -> bytes:
    """``lp(context) || version || kind || lp(case_ref) || lp(record_ref)`` (SPEC.md 8.8)."""
    case = identifier(case_ref, "case reference")
    record = identifier(record_ref, "record reference")
    return b"".join(
        (
            _RECORD_AD_PREFIX,
            _kind_byte(kind, RecordKind, _RECORD_KIND_BYTES),
            u32(len(case)),
            case,
            u32(len(record)),
            record,
        )
    )


def encrypt_record(
    case_key: CaseKey, kind: RecordKind, case_ref: str, record_ref: str, content: bytes
) -> bytes:
    """Pad and encrypt one content record under the case key.

    ``record_ref`` must be unique within the case and never change; the same
    ``(kind, case_ref, record_ref)`` must be given to ``decrypt_record``.
    """
    return _encrypt_record_with_nonce(
        case_key, kind, case_ref, record_ref, content, random_bytes(AEAD_NONCE_SIZE)
    )


def _encrypt_record_with_nonce(
    case_key: CaseKey,
    kind: RecordKind,
    case_ref: str,
    record_ref: str,
    content: bytes,
    nonce: bytes,
    *,
    padded: bytes | None = None,
) -> bytes:
    """Test-only: ``encrypt_record`` with a caller-chosen nonce, for reproducible vectors.

    ``padded`` replaces the padded content (used to make vectors with bad padding).

    Misuse hazard: reusing a nonce under one case key breaks the AEAD. Production code calls
    ``encrypt_record``.
    """
    if not isinstance(case_key, CaseKey):
        raise TypeError("case_key must be a CaseKey")
    ad = record_associated_data(kind, case_ref, record_ref)
    plaintext = pad(bytes(content)) if padded is None else padded
    return b"".join((_VERSION_BYTE, nonce, aead_encrypt(case_key, nonce, plaintext, ad)))


def check_record_shape(record: bytes) -> bytes:
    """What a server can check of a record without the key: version and padded length.
    Raises MalformedInput or UnsupportedVersion; returns the record as bytes."""
    record = bytes(record)
    if not record:
        raise MalformedInput("record is empty")
    if record[0] != VERSION:
        raise UnsupportedVersion(f"record version {record[0]}")
    if len(record) - 1 - AEAD_NONCE_SIZE - AEAD_TAG_SIZE not in BUCKET_SIZES:
        raise MalformedInput("record length is not a padded bucket")
    return record


def check_grant_shape(grant: bytes) -> bytes:
    """What a server can check of a grant without the private key: version and length."""
    grant = bytes(grant)
    if not grant:
        raise MalformedInput("grant is empty")
    if grant[0] != VERSION:
        raise UnsupportedVersion(f"grant version {grant[0]}")
    if not GRANT_MIN_SIZE <= len(grant) <= GRANT_MAX_SIZE:
        raise MalformedInput(f"grant must be {GRANT_MIN_SIZE}-{GRANT_MAX_SIZE} bytes")
    return grant


def decrypt_record(
    case_key: CaseKey, kind: RecordKind, case_ref: str, record_ref: str, record: bytes
) -> bytes:
    """Decrypt one content record and remove its padding.

    Raises DecryptionError if the record was encrypted for another case, record or kind, or was
    changed; InvalidPadding if its padding is not canonical.
    """
    if not isinstance(case_key, CaseKey):
        raise TypeError("case_key must be a CaseKey")
    ad = record_associated_data(kind, case_ref, record_ref)
    record = check_record_shape(record)
    nonce = record[1 : 1 + AEAD_NONCE_SIZE]
    return unpad(aead_decrypt(case_key, nonce, record[1 + AEAD_NONCE_SIZE :], ad))


# --- the content of a FILE_NAME record (SPEC.md 8.8.1) -----------------------------------------
FILE_NAME_SIZED_MARKER = 0x00
FILE_NAME_SIZED_VERSION = 1
_FILE_NAME_SIZED_HEADER = 1 + 1 + 8


@dataclass(frozen=True)
class FileName:
    """What a FILE_NAME record says of its attachment: the name as its sender gave it, and the
    number of bytes the attachment's stream decrypts to, or None for a record made before
    sizes were recorded. The size is the sender's claim: a recipient compares it with what the
    stream gives (``size_matches``) before trusting it."""

    name: str
    size: int | None

    def size_matches(self, decrypted: int) -> bool:
        return self.size is None or self.size == decrypted


def encode_file_name(name: str, size: int) -> bytes:
    """A sized FILE_NAME content: ``0x00 ‖ u8(1) ‖ u64(size) ‖ utf8(name)``.

    ``size`` is the plaintext length of the attachment's stream (after any metadata removal).
    Raises MalformedInput for a size outside 0 to 2**53 - 1 or a name that is not valid text.
    """
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_TIMESTAMP:
        raise MalformedInput("an attachment size is a whole number of bytes below 2**53")
    try:
        encoded = name.encode("utf-8")
    except (UnicodeEncodeError, AttributeError):
        raise MalformedInput("a file name must be text") from None
    return bytes((FILE_NAME_SIZED_MARKER, FILE_NAME_SIZED_VERSION)) + u64(size) + encoded


def decode_file_name(content: bytes) -> FileName:
    """Read a FILE_NAME content, either layout: a sized one (first byte 0x00) or a plain name
    (any other first byte, or none), which carries no size.

    Raises UnsupportedVersion for a sized layout of another version, MalformedInput for one cut
    short, a size of 2**53 or more, or a name that is not valid UTF-8.
    """
    content = bytes(content)
    size: int | None = None
    if content[:1] == bytes((FILE_NAME_SIZED_MARKER,)):
        if len(content) < 2:
            raise MalformedInput("sized file name ends early")
        if content[1] != FILE_NAME_SIZED_VERSION:
            raise UnsupportedVersion(f"sized file name version {content[1]}")
        reader = Reader(content[2:_FILE_NAME_SIZED_HEADER])
        size = reader.u64()
        reader.finish()
        if size > MAX_TIMESTAMP:
            raise MalformedInput("attachment size is 2**53 or more")
        content = content[_FILE_NAME_SIZED_HEADER:]
    try:
        return FileName(content.decode("utf-8"), size)
    except UnicodeDecodeError:
        raise MalformedInput("file name is not valid UTF-8") from None
