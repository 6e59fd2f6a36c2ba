"""Proof of work on report submission: abuse control that identifies no one.

Before ``POST /api/v1/reports`` stores a report, the client must solve a fresh challenge from
``GET /api/v1/proof-of-work``: find an 8-byte nonce whose hash with the challenge starts with
``bits`` zero bits (crypto/SPEC.md 4.1; ``candor_reporter/protocol.py`` defines the hashes, which
the solution names; about 2**bits attempts). A
flood of reports then costs the sender real computing time, while nothing about any sender is
asked for or kept.

A challenge is ``expires (u64, big-endian unix seconds) || random (16) || tag (16)``, where the
tag is the first 16 bytes of HMAC-SHA256 under a key derived from the app's secret key over the
context string, ``expires`` and ``random``. The server therefore keeps nothing per challenge it
issues; it remembers only the challenges already spent, until they expire
(:class:`SpentChallenges`).

The no-JavaScript path (``app/reporter/plain.py``) cannot compute a proof: it is protected by
the global submission rate limit alone (``app/rate_limit.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass

from app.config import derive_key
from candor_reporter.protocol import (
    DEFAULT_PROOF_OF_WORK_HASH,
    PROOF_OF_WORK_HASHES,
    PROOF_OF_WORK_NONCE_SIZE,
    has_leading_zero_bits,
    proof_of_work_hash,
)

TAG_CONTEXT = b"candor/v1/proof-of-work"
LIFETIME_SECONDS = 10 * 60
EXPIRES_SIZE, RANDOM_SIZE, TAG_SIZE = 8, 16, 16
CHALLENGE_SIZE = EXPIRES_SIZE + RANDOM_SIZE + TAG_SIZE


class ProofOfWorkRejected(Exception):
    """The proof is malformed, forged, expired, insufficient or already used; ``str(error)``
    says which. Clients are told only that the check failed and to send again."""


class UnknownPuzzleHash(ProofOfWorkRejected):
    """The proof names a hash this server does not take; ``str(error)`` says so in words a
    client can show (the one rejection that is the client's to fix, not a retry's)."""

    def __init__(self, name: object) -> None:
        shown = name if isinstance(name, str) and name.isprintable() and len(name) <= 32 \
            else "?"
        super().__init__(
            f"The anti-abuse check was solved with a hash this server does not take "
            f"({shown}); it takes {', '.join(PROOF_OF_WORK_HASHES)}. Nothing was stored.")


def puzzle_hash(name: object) -> str:
    """The hash a solution names (``proof_of_work.hash``), BLAKE2b-256 when it names none.
    Raises :class:`UnknownPuzzleHash`."""
    if name is None:
        return DEFAULT_PROOF_OF_WORK_HASH
    if not isinstance(name, str) or name not in PROOF_OF_WORK_HASHES:
        raise UnknownPuzzleHash(name)
    return name


@dataclass(frozen=True)
class Challenge:
    challenge: bytes
    bits: int
    expires: int


def _key(secret: str) -> bytes:
    return derive_key(secret, "proof-of-work")


def _tag(secret: str, expires_and_random: bytes, binding: bytes) -> bytes:
    # A bound challenge's tag covers a digest of its binding after the body: unbound
    # challenges (an empty binding) keep the tag they always had.
    bound = hashlib.sha256(binding).digest() if binding else b""
    return hmac.new(_key(secret), TAG_CONTEXT + expires_and_random + bound,
                    hashlib.sha256).digest()[:TAG_SIZE]


def issue(secret: str, bits: int, now: float, binding: bytes = b"") -> Challenge:
    """A new challenge, valid for ten minutes from ``now``. A ``binding`` (sign-in puzzles
    bind the name and purpose they are for) makes it valid only where verified with the
    same binding."""
    expires = int(now) + LIFETIME_SECONDS
    body = expires.to_bytes(EXPIRES_SIZE, "big") + secrets.token_bytes(RANDOM_SIZE)
    return Challenge(body + _tag(secret, body, binding), bits, expires)


class SpentChallenges:
    """Challenges already used, each forgotten once it has expired.

    Kept in this process's memory only, like the rate limits: nothing is stored, so nothing
    records when a reporter acted. With several worker processes a challenge could be spent
    once in each; the global rate limit still bounds what that allows. Entries are digests of
    challenges, never anything about who sent them.
    """

    def __init__(self) -> None:
        self._spent: dict[bytes, int] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _digest(challenge: bytes) -> bytes:
        return hashlib.blake2b(challenge, digest_size=16).digest()

    def claim(self, challenge: bytes, expires: int, now: float) -> bool:
        """Mark ``challenge`` spent; False if it already was. Checking and marking are one
        step, so two requests racing with the same solution cannot both pass."""
        digest = self._digest(challenge)
        with self._lock:
            for old in [d for d, until in self._spent.items() if until <= now]:
                del self._spent[old]
            if digest in self._spent:
                return False
            self._spent[digest] = expires
            return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._spent)


def verify(secret: str, bits: int, challenge: bytes, nonce: bytes, now: float,
           spent: SpentChallenges, binding: bytes = b"",
           algorithm: str = DEFAULT_PROOF_OF_WORK_HASH) -> None:
    """Accept a solved challenge and mark it spent, or raise :class:`ProofOfWorkRejected`.
    ``algorithm`` is the hash the solution names (``puzzle_hash``); each is accepted at the
    same number of bits, so the cheapest for an attacker (BLAKE2b-256 in native code) sets
    what a flood costs.

    A spent challenge stays spent whatever the submission's fate: one solution, one answer.
    """
    algorithm = puzzle_hash(algorithm)
    if len(challenge) != CHALLENGE_SIZE or len(nonce) != PROOF_OF_WORK_NONCE_SIZE:
        raise ProofOfWorkRejected("malformed")
    body, tag = challenge[:-TAG_SIZE], challenge[-TAG_SIZE:]
    if not hmac.compare_digest(tag, _tag(secret, body, binding)):
        raise ProofOfWorkRejected("not issued by this server")
    expires = int.from_bytes(body[:EXPIRES_SIZE], "big")
    if expires <= now:
        raise ProofOfWorkRejected("expired")
    if not has_leading_zero_bits(proof_of_work_hash(challenge, nonce, algorithm), bits):
        raise ProofOfWorkRejected("insufficient work")
    if not spent.claim(challenge, expires, now):
        raise ProofOfWorkRejected("already used")
