"""The sign-in puzzle on the wire (``app/services/throttle.py``): a solution arrives as
``proof_of_work: {challenge, nonce, hash}`` in the body of a sign-in, recovery or password
change; an attempt that needs one is answered 429 ``proof_of_work_required`` with a fresh puzzle
to solve, the same way as the reporter's (crypto/SPEC.md 4.1: the named hash of the context,
challenge and an 8-byte nonce with ``bits`` leading zero bits)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, jsonify

from app.json_input import b64, bytes_field
from app.services.proof_of_work import Challenge, UnknownPuzzleHash, puzzle_hash
from app.services.staff_accounts import PuzzleNeeded
from app.services.throttle import Solution
from crypto.proof_of_work import PROOF_OF_WORK_HASHES

PROOF_OF_WORK_REQUIRED = "proof_of_work_required"


def solution(data: dict[str, Any]) -> Solution | None:
    proof = data.get("proof_of_work")
    if proof is None:
        return None
    if not isinstance(proof, dict):
        abort(400, description="The field 'proof_of_work' must be an object.")
    try:
        algorithm = puzzle_hash(proof.get("hash"))
    except UnknownPuzzleHash as error:
        abort(400, description=str(error))
    return Solution(bytes_field(proof, "challenge", max_size=64),
                    bytes_field(proof, "nonce", max_size=16), algorithm)


def puzzle_answer(needed: PuzzleNeeded) -> tuple[Response, int]:
    return puzzle_for(needed.challenge, str(needed))


def puzzle_for(challenge: Challenge, message: str) -> tuple[Response, int]:
    """429 with ``challenge`` to solve and ``message`` saying why."""
    return jsonify(error=PROOF_OF_WORK_REQUIRED, message=message, proof_of_work={
        "challenge": b64(challenge.challenge), "bits": challenge.bits,
        "expires": challenge.expires, "hashes": list(PROOF_OF_WORK_HASHES)}), 429
