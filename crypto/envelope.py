"""Case keys, grants of a case key, and content records (SPEC.md sections 8.7-8.8).

A case key encrypts every content record of one case. Access to a case is a grant: the case key
sealed to one more public key. A record is bound by its associated data to its case, its record id
and its kind, so the server cannot move a record to another case, another record or another kind.
"""

from __future__ import annotations

from enum import IntEnum

from .encoding import (
    BUCKETS,
    MAX_IDENTIFIER_LENGTH,
    VERSION,
    Reader,
    context,
    identifier,
    lp,
    pad,
    u8,
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


def _kind(value: int, enum: type[IntEnum]) -> int:
    try:
        return int(enum(value))
    except ValueError:
        raise MalformedInput(f"unknown {enum.__name__} {value!r}") from None


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
    inner = u8(VERSION) + u8(_kind(kind, GrantKind)) + lp(identifier(case_id, "case id"))
    return u8(VERSION) + seal(inner + bytes(case_key), recipient_public_key)


def open_grant(grant: bytes, keypair: BoxKeyPair, case_id: str, kind: GrantKind) -> CaseKey:
    """Open a grant and return the case key, checking that it was made for ``case_id`` and
    ``kind``; raises DecryptionError if it was not, or if it is not sealed to ``keypair``."""
    expected_kind = _kind(kind, GrantKind)
    identifier(case_id, "case id")
    grant = check_grant_shape(grant)
    inner = seal_open(grant[1:], keypair.public_key, keypair.private_key, "grant")
    r = Reader(inner)
    if r.u8() != VERSION:
        raise UnsupportedVersion("grant content version")
    sealed_kind = r.u8()
    sealed_case = r.identifier("case id")
    key = r.take(CaseKey.SIZE)
    r.finish()
    if sealed_kind != expected_kind or sealed_case != case_id:
        raise DecryptionError("grant was made for another case or kind")
    return CaseKey(key)


def record_associated_data(kind: RecordKind, case_id: str, record_id: str) -> bytes:
    """``lp(context) || version || kind || lp(case_id) || lp(record_id)`` (SPEC.md 8.8)."""
    return (
        context(RECORD_CONTEXT)
        + u8(VERSION)
        + u8(_kind(kind, RecordKind))
        + lp(identifier(case_id, "case id"))
        + lp(identifier(record_id, "record id"))
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
    return u8(VERSION) + nonce + aead_encrypt(case_key, nonce, plaintext, ad)


def check_record_shape(record: bytes) -> bytes:
    """What a server can check of a record without the key: version and padded length.
    Raises MalformedInput or UnsupportedVersion; returns the record as bytes."""
    record = bytes(record)
    if not record:
        raise MalformedInput("record is empty")
    if record[0] != VERSION:
        raise UnsupportedVersion(f"record version {record[0]}")
    if len(record) - 1 - AEAD_NONCE_SIZE - AEAD_TAG_SIZE not in BUCKETS:
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
