"""Case keys, grants of a case key, and content records (SPEC.md sections 8.7-8.8).

A case key encrypts every content record of one case. Access to a case is a grant: the case key
sealed to one more public key. A record is bound by its associated data to its case, its record id
and its kind, so the server cannot move a record to another case, another record or another kind.
"""

from __future__ import annotations

from enum import IntEnum

from .encoding import (
    BUCKET_SIZES,
    MAX_IDENTIFIER_LENGTH,
    VERSION,
    context,
    identifier,
    pad,
    u8,
    u32,
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


# The record id of an SB 53 share's summary (SPEC 8.11): one record per share, whose "case id"
# is the share id.
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
GRANT_MAX_SIZE = 1 + SEAL_OVERHEAD + _INNER_FIXED + MAX_IDENTIFIER_LENGTH


def seal_case_key(
    case_key: CaseKey, recipient_public_key: bytes, case_id: str, kind: GrantKind
) -> bytes:
    """A grant: the case key sealed to ``recipient_public_key`` for ``case_id`` and ``kind``.

    Misuse hazard: seal only to a public key taken from a directory entry that verified under the
    organisation key and is ``usable_at`` now, or to the reporter's own derived key.
    """
    if not isinstance(case_key, CaseKey):
        raise TypeError("case_key must be a CaseKey")
    case = identifier(case_id, "case id")
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


def open_grant(grant: bytes, keypair: BoxKeyPair, case_id: str, kind: GrantKind) -> CaseKey:
    """Open a grant and return the case key, checking that it was made for ``case_id`` and
    ``kind``; raises DecryptionError if it was not, or if it is not sealed to ``keypair``."""
    expected_kind = _kind_byte(kind, GrantKind, _GRANT_KIND_BYTES)
    expected_case = identifier(case_id, "case id")
    grant = check_grant_shape(grant)
    inner = seal_open(grant[1:], keypair.public_key, keypair.private_key, "grant")
    sealed_kind, sealed_case, key = _parse_grant_inner(inner)
    if sealed_kind != expected_kind or sealed_case != expected_case:
        raise DecryptionError("grant was made for another case or kind")
    return CaseKey(key)


def _parse_grant_inner(inner: bytes) -> tuple[bytes, bytes, bytes]:
    """``(kind byte, case id bytes, case key)`` of an opened grant, strictly parsed: the version
    first (UnsupportedVersion), then a length prefix that must account for every byte and a
    canonical case id (MalformedInput)."""
    # The layout is fixed but for the case id, so it is read with slices rather than a Reader:
    # the same checks in the order a Reader makes them.
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
        identifier(case.decode("ascii"), "case id")
    except UnicodeDecodeError:
        raise MalformedInput("case id is not ASCII") from None
    return inner[1:2], case, inner[case_end:]


_RECORD_AD_PREFIX = context(RECORD_CONTEXT) + _VERSION_BYTE


def record_associated_data(kind: RecordKind, case_id: str, record_id: str) -> bytes:
    """``lp(context) || version || kind || lp(case_id) || lp(record_id)`` (SPEC.md 8.8)."""
    case = identifier(case_id, "case id")
    record = identifier(record_id, "record id")
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
    case_key: CaseKey, kind: RecordKind, case_id: str, record_id: str, content: bytes
) -> bytes:
    """Pad and encrypt one content record under the case key.

    ``record_id`` must be unique within the case and never change; the same
    ``(kind, case_id, record_id)`` must be given to ``decrypt_record``.
    """
    return _encrypt_record_with_nonce(
        case_key, kind, case_id, record_id, content, random_bytes(AEAD_NONCE_SIZE)
    )


def _encrypt_record_with_nonce(
    case_key: CaseKey,
    kind: RecordKind,
    case_id: str,
    record_id: str,
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
    ad = record_associated_data(kind, case_id, record_id)
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
    case_key: CaseKey, kind: RecordKind, case_id: str, record_id: str, record: bytes
) -> bytes:
    """Decrypt one content record and remove its padding.

    Raises DecryptionError if the record was encrypted for another case, record or kind, or was
    changed; InvalidPadding if its padding is not canonical.
    """
    if not isinstance(case_key, CaseKey):
        raise TypeError("case_key must be a CaseKey")
    ad = record_associated_data(kind, case_id, record_id)
    record = check_record_shape(record)
    nonce = record[1 : 1 + AEAD_NONCE_SIZE]
    return unpad(aead_decrypt(case_key, nonce, record[1 + AEAD_NONCE_SIZE :], ad))
