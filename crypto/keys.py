"""X25519 key pairs, wrapped staff private keys and recovery codes (SPEC.md sections 8.2-8.3)."""

from __future__ import annotations

import re
from typing import ClassVar, Self

import nacl.bindings as sodium

from .encoding import VERSION, context, identifier, lp, require_bytes, u8
from .errors import DecryptionError, MalformedInput, UnsupportedVersion
from .kdf import SALT_SIZE, UnwrapKey
from .primitives import (
    AEAD_NONCE_SIZE,
    AEAD_TAG_SIZE,
    CROCKFORD,
    SEAL_OVERHEAD,
    aead_decrypt,
    aead_encrypt,
    context_hash,
    equal,
    random_bytes,
    seal,
    seal_open,
)

WRAP_CONTEXT = "candor/v1/wrapped-private-key"
RECOVERY_CONTEXT = "candor/v1/recovery-unwrap-key"
RECOVERY_CODE_SYMBOLS = 28
_RECOVERY_GROUP = 4


class BoxKeyPair:
    """An X25519 key pair for sealed boxes.

    ``private_key`` and ``public_key`` are 32 raw bytes each. Equality is constant-time.

    Misuse hazard: ``private_key`` is the secret. Store it only wrapped (``wrap_private_key``).
    """

    PUBLIC_SIZE: ClassVar[int] = 32
    PRIVATE_SIZE: ClassVar[int] = 32
    __slots__ = ("private_key", "public_key")

    private_key: bytes
    public_key: bytes

    def __init__(self, private_key: bytes) -> None:
        self.private_key = require_bytes(private_key, self.PRIVATE_SIZE, "private key")
        self.public_key = bytes(sodium.crypto_scalarmult_base(self.private_key))

    @classmethod
    def generate(cls) -> Self:
        return cls(random_bytes(cls.PRIVATE_SIZE))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BoxKeyPair):
            return NotImplemented
        return equal(self.private_key, other.private_key)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} public={self.public_key.hex()}>"


class StaffKeyPair(BoxKeyPair):
    """A staff member's key pair, generated at random in their client."""


class ReporterKeyPair(BoxKeyPair):
    """A reporter's key pair, derived from the codename (``crypto.codename``)."""


WRAPPED_KEY_SIZE = 1 + AEAD_NONCE_SIZE + BoxKeyPair.PRIVATE_SIZE + AEAD_TAG_SIZE


def wrapped_key_associated_data(staff_id: str) -> bytes:
    return context(WRAP_CONTEXT) + u8(VERSION) + lp(identifier(staff_id, "staff id"))


def wrap_private_key(
    keypair_or_private_bytes: BoxKeyPair | bytes, unwrap_key: UnwrapKey, staff_id: str
) -> bytes:
    """Wrap a private key under an unwrap key (from the password or the recovery code).

    The result (73 bytes) is bound to ``staff_id``: it unwraps only for the same staff id.
    """
    return _wrap_private_key_with_nonce(
        keypair_or_private_bytes, unwrap_key, staff_id, random_bytes(AEAD_NONCE_SIZE)
    )


def _wrap_private_key_with_nonce(
    keypair_or_private_bytes: BoxKeyPair | bytes, unwrap_key: UnwrapKey, staff_id: str, nonce: bytes
) -> bytes:
    """Test-only: ``wrap_private_key`` with a caller-chosen nonce, for reproducible vectors.

    Misuse hazard: reusing a nonce under one key breaks the AEAD. Production code calls
    ``wrap_private_key``.
    """
    if isinstance(keypair_or_private_bytes, BoxKeyPair):
        private = keypair_or_private_bytes.private_key
    else:
        private = require_bytes(keypair_or_private_bytes, BoxKeyPair.PRIVATE_SIZE, "private key")
    if not isinstance(unwrap_key, UnwrapKey):
        raise TypeError("unwrap_key must be an UnwrapKey")
    ad = wrapped_key_associated_data(staff_id)
    return u8(VERSION) + nonce + aead_encrypt(unwrap_key, nonce, private, ad)


def unwrap_private_key(blob: bytes, unwrap_key: UnwrapKey, staff_id: str) -> StaffKeyPair:
    """Unwrap a staff private key; raises DecryptionError for a wrong key or staff id.

    The caller should compare the returned ``public_key`` with the staff member's signed
    directory entry.
    """
    if not isinstance(unwrap_key, UnwrapKey):
        raise TypeError("unwrap_key must be an UnwrapKey")
    ad = wrapped_key_associated_data(staff_id)
    blob = bytes(blob)
    if not blob:
        raise MalformedInput("wrapped key is empty")
    if blob[0] != VERSION:
        raise UnsupportedVersion(f"wrapped key version {blob[0]}")
    if len(blob) != WRAPPED_KEY_SIZE:
        raise MalformedInput(f"wrapped key must be {WRAPPED_KEY_SIZE} bytes")
    nonce = blob[1 : 1 + AEAD_NONCE_SIZE]
    private = aead_decrypt(unwrap_key, nonce, blob[1 + AEAD_NONCE_SIZE :], ad)
    return StaffKeyPair(private)


def generate_recovery_code() -> str:
    """A new recovery code: 28 Crockford base32 symbols (140 bits) in groups of 4, like
    ``7K2M-Q0XZ-...``. Show it once; the server never sees it."""
    symbols = "".join(CROCKFORD[b & 31] for b in random_bytes(RECOVERY_CODE_SYMBOLS))
    groups = [symbols[i : i + _RECOVERY_GROUP] for i in range(0, len(symbols), _RECOVERY_GROUP)]
    return "-".join(groups)


_RECOVERY_SEPARATORS = re.compile(r"[ \t\r\n-]")
_RECOVERY_ALIASES = str.maketrans("OIL", "011")


def normalise_recovery_code(code: str) -> str:
    """The canonical 28-symbol form of a typed recovery code (SPEC.md 8.3)."""
    if not isinstance(code, str):
        raise MalformedInput("recovery code must be text")
    compact = _RECOVERY_SEPARATORS.sub("", code)
    if not compact.isascii():
        raise MalformedInput("recovery code has characters outside the alphabet")
    compact = compact.upper().translate(_RECOVERY_ALIASES)
    if len(compact) != RECOVERY_CODE_SYMBOLS or any(c not in CROCKFORD for c in compact):
        raise MalformedInput(f"recovery code must be {RECOVERY_CODE_SYMBOLS} symbols")
    return compact


def recovery_unwrap_key(code: str, salt: bytes) -> UnwrapKey:
    """The unwrap key for the recovery copy of a staff private key."""
    salt = require_bytes(salt, SALT_SIZE, "salt")
    normalised = normalise_recovery_code(code).encode("ascii")
    return UnwrapKey(context_hash(RECOVERY_CONTEXT, salt + normalised))


RECOVERY_CHALLENGE_CONTEXT = "candor/v1/recovery-challenge"
RECOVERY_CHALLENGE_SIZE = 32
SEALED_CHALLENGE_SIZE = (
    1 + SEAL_OVERHEAD + len(context(RECOVERY_CHALLENGE_CONTEXT)) + RECOVERY_CHALLENGE_SIZE
)


def generate_recovery_challenge() -> bytes:
    """A fresh random challenge for one recovery attempt (SPEC.md 8.3)."""
    return random_bytes(RECOVERY_CHALLENGE_SIZE)


def seal_recovery_challenge(challenge: bytes, public_key: bytes) -> bytes:
    """Seal ``challenge`` to a staff public key, so only the holder of the private key (for
    example, recovered with the recovery code) can return it."""
    challenge = require_bytes(challenge, RECOVERY_CHALLENGE_SIZE, "challenge")
    return u8(VERSION) + seal(context(RECOVERY_CHALLENGE_CONTEXT) + challenge, public_key)


def open_recovery_challenge(sealed: bytes, keypair: BoxKeyPair) -> bytes:
    """Open a sealed recovery challenge; DecryptionError unless it was sealed to ``keypair``
    with the recovery-challenge context."""
    sealed = bytes(sealed)
    if not sealed:
        raise MalformedInput("sealed challenge is empty")
    if sealed[0] != VERSION:
        raise UnsupportedVersion(f"sealed challenge version {sealed[0]}")
    if len(sealed) != SEALED_CHALLENGE_SIZE:
        raise MalformedInput(f"sealed challenge must be {SEALED_CHALLENGE_SIZE} bytes")
    opened = seal_open(sealed[1:], keypair.public_key, keypair.private_key, "challenge")
    prefix = context(RECOVERY_CHALLENGE_CONTEXT)
    if not equal(opened[: len(prefix)], prefix):
        raise DecryptionError("sealed box is not a recovery challenge")
    return opened[len(prefix) :]


# Unlocking with a passkey (SPEC.md 8.12): the WebAuthn PRF extension's output for one credential
# becomes an unwrap key for one more wrapped copy of the private key.
PASSKEY_PRF_INPUT_CONTEXT = "candor/v1/passkey-prf-input"
PASSKEY_UNWRAP_CONTEXT = "candor/v1/passkey-unwrap-key"
PASSKEY_PRF_OUTPUT_SIZE = 32
MAX_CREDENTIAL_ID_SIZE = 1023  # WebAuthn: a credential id is 16 to 1023 bytes
MIN_CREDENTIAL_ID_SIZE = 16
PASSKEY_PRF_INPUT = PASSKEY_PRF_INPUT_CONTEXT.encode("ascii")
"""What a client passes as the PRF extension's ``eval.first``, for every credential."""


def passkey_unwrap_key(credential_id: bytes, prf_output: bytes) -> UnwrapKey:
    """The unwrap key for the copy of a private key wrapped under one passkey's PRF output.

    Misuse hazard: ``prf_output`` is a secret of the authenticator's; it must never be sent to
    the server. ``credential_id`` is the WebAuthn credential id (raw bytes, not base64url).
    """
    if not isinstance(credential_id, bytes | bytearray | memoryview) or not (
        MIN_CREDENTIAL_ID_SIZE <= len(credential_id) <= MAX_CREDENTIAL_ID_SIZE
    ):
        raise MalformedInput(
            f"credential id must be {MIN_CREDENTIAL_ID_SIZE}-{MAX_CREDENTIAL_ID_SIZE} bytes"
        )
    output = require_bytes(prf_output, PASSKEY_PRF_OUTPUT_SIZE, "PRF output")
    return UnwrapKey(context_hash(PASSKEY_UNWRAP_CONTEXT, lp(bytes(credential_id)) + output))
