"""The organisation signing key, signed key-directory entries and fingerprints (SPEC.md 8.4-8.6).

Clients verify a recipient's entry under the configured organisation verify key before they seal
a case key to the recipient's public key.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

import nacl.bindings as sodium
import nacl.exceptions

from .encoding import (
    MAX_TIMESTAMP,
    VERSION,
    Reader,
    context,
    identifier,
    lp,
    require_bytes,
    role_name,
    timestamp,
    u8,
)
from .errors import MalformedInput, SignatureInvalid, UnsupportedVersion
from .primitives import base32_crockford, context_hash, random_bytes

ENTRY_CONTEXT = "candor/v1/directory-entry"
FINGERPRINT_CONTEXT = "candor/v1/fingerprint"
SIGNATURE_SIZE = 64
MAX_ROLES = 16
FINGERPRINT_BYTES = 15


class OrganisationSigningKey:
    """The organisation's Ed25519 key that signs directory entries.

    Stored as ``to_bytes()`` (``0x01 || seed``, 33 bytes). ``verify_key`` (32 bytes) is configured
    on every client; its ``fingerprint`` is shown on the landing page.

    Misuse hazard: ``to_bytes()`` is the secret. Keep it offline or in the operator's secret
    store, not in the application database.
    """

    SEED_SIZE: ClassVar[int] = 32
    SIZE: ClassVar[int] = 1 + SEED_SIZE
    __slots__ = ("_secret", "verify_key")

    verify_key: bytes

    def __init__(self, seed: bytes) -> None:
        seed = require_bytes(seed, self.SEED_SIZE, "signing key seed")
        public, secret = sodium.crypto_sign_seed_keypair(seed)
        self.verify_key = bytes(public)
        self._secret = bytes(secret)

    @classmethod
    def generate(cls) -> Self:
        return cls(random_bytes(cls.SEED_SIZE))

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        data = bytes(data)
        if not data:
            raise MalformedInput("signing key is empty")
        if data[0] != VERSION:
            raise UnsupportedVersion(f"signing key version {data[0]}")
        if len(data) != cls.SIZE:
            raise MalformedInput(f"signing key must be {cls.SIZE} bytes")
        return cls(data[1:])

    def to_bytes(self) -> bytes:
        return u8(VERSION) + self._secret[: self.SEED_SIZE]

    def sign(self, message: bytes) -> bytes:
        signature: bytes = sodium.crypto_sign(message, self._secret)[:SIGNATURE_SIZE]
        return signature

    def __repr__(self) -> str:
        return f"<OrganisationSigningKey verify_key={self.verify_key.hex()}>"


@dataclass(frozen=True)
class DirectoryEntry:
    """Which X25519 public key belongs to which staff member, with which roles, until when.

    ``roles`` may be given in any order; the entry keeps them sorted and unique.
    ``created`` and ``not_after`` are whole seconds since the Unix epoch.
    """

    staff_id: str
    username: str
    public_key: bytes
    created: int
    not_after: int
    roles: tuple[str, ...] = ()
    revoked: bool = False

    def __post_init__(self) -> None:
        for role in self.roles:  # a loop, not all(...): entries are made on every verification
            if not isinstance(role, str):
                raise MalformedInput("roles must be strings")
        object.__setattr__(self, "roles", tuple(sorted(set(self.roles))))

    def usable_at(self, now: int) -> bool:
        """True if a client may seal to this key at ``now``: not revoked and within its validity."""
        return not self.revoked and self.created <= now < self.not_after


def encode_entry(entry: DirectoryEntry) -> bytes:
    """The canonical bytes of an entry (what is signed, without the signature)."""
    roles = entry.roles
    if len(roles) > MAX_ROLES:
        raise MalformedInput(f"at most {MAX_ROLES} roles")
    if entry.not_after <= entry.created:
        raise MalformedInput("not_after must be later than created")
    if not isinstance(entry.revoked, bool):
        raise MalformedInput("revoked must be a bool")
    return (
        u8(VERSION)
        + lp(identifier(entry.staff_id, "staff id"))
        + lp(identifier(entry.username, "username"))
        + u8(len(roles))
        + b"".join(lp(role_name(r)) for r in roles)
        + require_bytes(entry.public_key, 32, "public key")
        + timestamp(entry.created)
        + timestamp(entry.not_after)
        + u8(int(entry.revoked))
    )


_ENTRY_CONTEXT_PREFIX = context(ENTRY_CONTEXT)


def _signed_message(encoded: bytes) -> bytes:
    return _ENTRY_CONTEXT_PREFIX + encoded


def sign_entry(org_key: OrganisationSigningKey, entry: DirectoryEntry) -> bytes:
    """The signed entry: ``encode_entry(entry) || signature``."""
    encoded = encode_entry(entry)
    return encoded + org_key.sign(_signed_message(encoded))


def verify_entry(org_verify_key: bytes, signed: bytes) -> DirectoryEntry:
    """Verify a signed entry and return it (SPEC.md 8.5 gives the order of the checks).

    Does not look at the clock or the revoked flag: call ``entry.usable_at(now)`` before sealing.
    """
    org_verify_key = require_bytes(org_verify_key, 32, "organisation verify key")
    signed = bytes(signed)
    if len(signed) < 1 + SIGNATURE_SIZE:
        raise MalformedInput("signed entry is too short")
    if signed[0] != VERSION:
        raise UnsupportedVersion(f"directory entry version {signed[0]}")
    encoded, signature = signed[:-SIGNATURE_SIZE], signed[-SIGNATURE_SIZE:]
    try:
        sodium.crypto_sign_open(signature + _signed_message(encoded), org_verify_key)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError):
        raise SignatureInvalid("directory entry signature does not verify") from None
    return _parse_entry(encoded)


_ENTRY_END = struct.Struct(">32sQQB")


def _parse_entry(encoded: bytes) -> DirectoryEntry:
    r = Reader(encoded)
    r.u8()  # version, checked by the caller
    staff_id = r.identifier("staff id")
    username = r.identifier("username")
    roles: list[str] = []
    for _ in range(r.u8()):
        role = r.ascii("role name")
        role_name(role)
        roles.append(role)
    if len(roles) > MAX_ROLES or roles != sorted(set(roles)):
        raise MalformedInput("roles must be at most 16, strictly ascending")
    # The fixed-size end of the entry in one read: public key, created, not_after, revoked.
    public_key, created, not_after, revoked = _ENTRY_END.unpack(r.take(_ENTRY_END.size))
    r.finish()
    if created > MAX_TIMESTAMP or not_after > MAX_TIMESTAMP:
        raise MalformedInput("timestamp is 2**53 or later")
    if not_after <= created:
        raise MalformedInput("not_after must be later than created")
    if revoked not in (0, 1):
        raise MalformedInput("revoked flag must be 0 or 1")
    return DirectoryEntry(
        staff_id=staff_id,
        username=username,
        public_key=public_key,
        created=created,
        not_after=not_after,
        roles=tuple(roles),
        revoked=bool(revoked),
    )


def fingerprint(public_bytes: bytes) -> str:
    """A short fingerprint of a 32-byte public key for people to compare: 24 Crockford base32
    symbols (120 bits) in 6 groups of 4, like ``3QZ8 K1CW 9D2E ...``."""
    digest = context_hash(FINGERPRINT_CONTEXT, require_bytes(public_bytes, 32, "public key"))
    symbols = base32_crockford(digest[:FINGERPRINT_BYTES])
    return " ".join(symbols[i : i + 4] for i in range(0, len(symbols), 4))
