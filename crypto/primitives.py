"""Thin, checked wrappers around the libsodium primitives the protocol uses (SPEC.md sections 3-4).

Nothing here knows about cases or staff; the modules above give each use its own context string
and associated data.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import ClassVar, Self

import nacl.bindings as sodium
import nacl.exceptions
import nacl.utils

from .encoding import require_bytes
from .errors import DecryptionError, MalformedInput

AEAD_NONCE_SIZE = 24
AEAD_TAG_SIZE = 16
HASH_SIZE = 32


def random_bytes(n: int) -> bytes:
    return bytes(nacl.utils.random(n))


def equal(a: bytes, b: bytes) -> bool:
    """Constant-time comparison of two byte strings (the length is not secret)."""
    return hmac.compare_digest(a, b)


class SymmetricKey:
    """A 32-byte secret key of one purpose.

    Subclasses exist so that a case key cannot be passed where an unwrap key is expected. Equality
    is constant-time; ``repr`` never shows the key. ``bytes(key)`` gives the raw key.

    Misuse hazard: the raw bytes are secret. Do not log them, put them in a cookie, or store them
    outside the wrapped or sealed forms the protocol defines.
    """

    SIZE: ClassVar[int] = 32
    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        self._key = require_bytes(key, self.SIZE, type(self).__name__)

    @classmethod
    def generate(cls) -> Self:
        """A new random key."""
        return cls(random_bytes(cls.SIZE))

    def __bytes__(self) -> bytes:
        return self._key

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, SymmetricKey)
        return equal(self._key, other._key)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def aead_encrypt(key: SymmetricKey, nonce: bytes, plaintext: bytes, ad: bytes) -> bytes:
    """XChaCha20-Poly1305-IETF encryption; returns ciphertext with its 16-byte tag appended."""
    nonce = require_bytes(nonce, AEAD_NONCE_SIZE, "nonce")
    result: bytes = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
        bytes(plaintext), ad, nonce, key._key
    )
    return result


def aead_decrypt(key: SymmetricKey, nonce: bytes, ciphertext: bytes, ad: bytes) -> bytes:
    """XChaCha20-Poly1305-IETF decryption; raises DecryptionError if authentication fails."""
    nonce = require_bytes(nonce, AEAD_NONCE_SIZE, "nonce")
    if len(ciphertext) < AEAD_TAG_SIZE:
        raise MalformedInput("ciphertext shorter than its tag")
    try:
        result: bytes = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
            bytes(ciphertext), ad, nonce, key._key
        )
    except nacl.exceptions.CryptoError:
        raise DecryptionError("ciphertext does not authenticate") from None
    return result


SEAL_OVERHEAD = 48  # X25519 ephemeral public key (32) + Poly1305 tag (16)


_TEST_SCALAR = bytes([9]) + bytes(31)


def check_public_key(public_key: bytes) -> bytes:
    """Return ``public_key`` if it is a 32-byte X25519 key of full order; raise MalformedInput
    for a low-order point (such as all zeros), with which no secret would be shared."""
    public_key = require_bytes(public_key, 32, "public key")
    try:
        sodium.crypto_scalarmult(_TEST_SCALAR, public_key)
    except nacl.exceptions.CryptoError:  # libsodium refuses an all-zero shared secret
        raise MalformedInput("public key is of low order") from None
    return public_key


# The u-coordinates of order 1, 2, 4 and 8 (and the non-canonical p, p + 1): X25519, whose
# clamped scalars are multiples of 8, maps each to the all-zero shared secret (and each with its
# top bit set, which X25519 ignores).
LOW_ORDER_POINTS = tuple(
    bytes.fromhex(point)
    for point in (
        "00" * 32,
        "01" + "00" * 31,
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ec" + "ff" * 30 + "7f",
        "ed" + "ff" * 30 + "7f",
        "ee" + "ff" * 30 + "7f",
    )
)


def _sealing_refuses_low_order_keys() -> bool:
    """True if this libsodium's ``crypto_box_seal`` fails for every low-order key.

    The libsodium PyNaCl bundles does (its X25519 returns an error for an all-zero shared secret
    and the box's key agreement passes it on), which makes sealing itself the low-order check of
    SPEC.md 8.7. Asked once at import, so that a libsodium without it still gets the check.
    """
    for point in LOW_ORDER_POINTS:
        try:
            sodium.crypto_box_seal(b"", point)
        except nacl.exceptions.RuntimeError:
            continue
        return False
    return True


_SEALING_CHECKS_THE_KEY = _sealing_refuses_low_order_keys()


def seal(plaintext: bytes, public_key: bytes) -> bytes:
    """X25519 sealed box (``crypto_box_seal``) to a 32-byte public key of full order; raises
    MalformedInput for a key of low order (SPEC.md 8.7), like ``check_public_key``.

    The key agreement inside the seal is the check: its shared secret from a low-order key is all
    zeros, which libsodium refuses, so no box is made. That saves the separate X25519
    multiplication ``check_public_key`` spends, on every grant (``_SEALING_CHECKS_THE_KEY`` says
    whether the installed libsodium does this; if not, ``check_public_key`` runs first).
    """
    public_key = require_bytes(public_key, 32, "public key")
    if not _SEALING_CHECKS_THE_KEY:
        check_public_key(public_key)
    try:
        return bytes(sodium.crypto_box_seal(plaintext, public_key))
    except nacl.exceptions.RuntimeError:
        # crypto_box_seal fails on a 32-byte key only when X25519 gives the all-zero secret.
        raise MalformedInput("public key is of low order") from None


def seal_open(sealed: bytes, public_key: bytes, private_key: bytes, what: str) -> bytes:
    """Open a sealed box; raises DecryptionError naming ``what`` if it is not for this key pair."""
    try:
        return bytes(sodium.crypto_box_seal_open(sealed, public_key, private_key))
    except nacl.exceptions.CryptoError:
        raise DecryptionError(f"{what} does not open with this key pair") from None


def _check_context(name: str) -> bytes:
    raw = name.encode("ascii")
    if not 16 <= len(raw) <= 64:
        raise ValueError("context strings are 16-64 ASCII bytes (the BLAKE2b key range)")
    return raw


def subkey(ikm: bytes, context: str) -> bytes:
    """``Subkey``: BLAKE2b-256 keyed with 32 bytes of secret ``ikm`` over the context string."""
    require_bytes(ikm, 32, "key material")
    return hashlib.blake2b(_check_context(context), digest_size=HASH_SIZE, key=ikm).digest()


def context_hash(context: str, data: bytes) -> bytes:
    """``ContextHash``: BLAKE2b-256 keyed with the context string, over ``data``."""
    return hashlib.blake2b(bytes(data), digest_size=HASH_SIZE, key=_check_context(context)).digest()


CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def base32_crockford(data: bytes) -> str:
    """Crockford base32 of ``data``, most significant bits first; ``len(data)`` multiple of 5."""
    if len(data) % 5:
        raise ValueError("base32 input must be a whole number of 40-bit groups")
    bits = int.from_bytes(data, "big")
    count = len(data) * 8 // 5
    return "".join(CROCKFORD[(bits >> (5 * (count - 1 - i))) & 31] for i in range(count))
