"""The anti-abuse puzzle's hash (SPEC.md 4.1): what a client computes and a server checks, with
no other part of Candor involved."""

from __future__ import annotations

import hashlib
from typing import Any

# Abuse control that identifies no one: before the server accepts a report, the client finds a
# nonce whose hash with a server-issued challenge starts with ``bits`` zero bits (about 2**bits
# attempts). Candor's server issues and checks challenges (``app/services/proof_of_work.py``);
# the browser does the same hashing in ``app/static/js/proof-of-work.js``, byte for byte.
PROOF_OF_WORK_CONTEXT = b"candor/v1/proof-of-work\0"
PROOF_OF_WORK_NONCE_SIZE = 8
# The most work a server may ask for (each bit doubles it; 28 takes minutes in a browser). The
# server's configuration stops there, and a client refuses more rather than hang for hours.
PROOF_OF_WORK_MAX_BITS = 28
# The hashes a solution may use, by the name a client gives in ``proof_of_work.hash``. The
# first is assumed when none is named (clients from before there was a choice). SHA-256 is
# there for browsers without WebAssembly or JIT, which compute it natively through WebCrypto
# but BLAKE2b only in interpreted JavaScript, about 40 times slower.
PROOF_OF_WORK_HASHES = ("blake2b-256", "sha-256")
DEFAULT_PROOF_OF_WORK_HASH = PROOF_OF_WORK_HASHES[0]


def _proof_of_work_hasher(algorithm: str) -> Any:
    if algorithm == "blake2b-256":
        return hashlib.blake2b(PROOF_OF_WORK_CONTEXT, digest_size=32)
    if algorithm == "sha-256":
        return hashlib.sha256(PROOF_OF_WORK_CONTEXT)
    raise ValueError(f"unknown anti-abuse hash {algorithm!r}")


def proof_of_work_hash(challenge: bytes, nonce: bytes,
                       algorithm: str = DEFAULT_PROOF_OF_WORK_HASH) -> bytes:
    """The hash ``algorithm`` names (BLAKE2b-256 unkeyed, or SHA-256) of the context string
    (with its trailing NUL), the challenge and the nonce. ValueError for an unknown name."""
    hasher = _proof_of_work_hasher(algorithm)
    hasher.update(challenge + nonce)
    digest: bytes = hasher.digest()
    return digest


def has_leading_zero_bits(digest: bytes, bits: int) -> bool:
    """Whether the first ``bits`` bits of ``digest`` (most significant first) are all zero."""
    return int.from_bytes(digest, "big") >> (len(digest) * 8 - bits) == 0


def solve_proof_of_work(challenge: bytes, bits: int,
                        algorithm: str = DEFAULT_PROOF_OF_WORK_HASH) -> bytes:
    """The first 8-byte nonce (a big-endian counter from 0) that solves ``challenge``."""
    if not 0 <= bits <= PROOF_OF_WORK_MAX_BITS:
        raise ValueError(f"the server asks for {bits} bits of anti-abuse work; at most "
                         f"{PROOF_OF_WORK_MAX_BITS} is allowed")
    # The same hash as proof_of_work_hash, with the common prefix absorbed once.
    prefix = _proof_of_work_hasher(algorithm)
    prefix.update(challenge)
    counter = 0
    while True:
        nonce = counter.to_bytes(PROOF_OF_WORK_NONCE_SIZE, "big")
        attempt = prefix.copy()
        attempt.update(nonce)
        if has_leading_zero_bits(attempt.digest(), bits):
            return nonce
        counter += 1
