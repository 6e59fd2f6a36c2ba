"""Per-account attempt costs that lock no one out and reveal nothing.

Failed attempts are counted per name and purpose (names that do not exist are counted exactly
like real ones), and every count is one atomic update, so parallel requests cannot slip extra
guesses past it. Past ``CANDOR_LOGIN_ATTEMPTS`` free failures, each attempt with that name must
first solve a puzzle (a proof of work, ``app/services/proof_of_work.py``) bound to the name and
purpose, one bit harder for every further failure, up to ``CANDOR_LOGIN_PUZZLE_MAX_BITS``.

There is no lock (issue 16, finding 6): a lock is something an attacker can hand the owner by
failing on purpose. A puzzle only costs whoever tries: the owner's browser solves one in a
second or two however many wrong attempts others make, while each further guess costs the
guesser as much, on top of the password's own Argon2id and the TOTP code. An attempt without
the puzzle it needs is refused before the password is looked at, so it is not counted and
costs the server no password hash. The count is forgotten ``CANDOR_LOGIN_LOCKOUT_MINUTES``
after the last failure.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError

from app.config import Config
from app.extensions import DbSession, savepoint
from app.models import LoginThrottle, utcnow
from app.services import proof_of_work
from app.services.proof_of_work import SpentChallenges

# Each purpose has its own count: failed recoveries cannot make signing in any harder.
SIGN_IN = "sign-in"
RECOVERY = "recovery"
# The first puzzle asked for (about 256 tries: nothing for a browser); one bit more per failure.
FIRST_PUZZLE_BITS = 8


class PuzzleRequired(Exception):
    """This attempt needs a solved puzzle of ``challenge.bits`` bits; ``challenge`` is a fresh
    one, bound to this name and purpose."""

    def __init__(self, challenge: proof_of_work.Challenge) -> None:
        super().__init__(challenge.bits)
        self.challenge = challenge


@dataclass(frozen=True)
class Solution:
    """A solved puzzle sent with an attempt."""

    challenge: bytes
    nonce: bytes


def throttle_key(config: Config, purpose: str, username: str) -> bytes:
    message = f"{purpose}\0{username}".encode()
    return hmac.new(config.derived_key("login-throttle"), message, hashlib.sha256).digest()


def _window(config: Config) -> timedelta:
    return timedelta(minutes=config.login_lockout_minutes)


def required_bits(session: DbSession, key: bytes, config: Config) -> int:
    """How hard the puzzle an attempt with this name must solve now (0: none)."""
    row = session.execute(select(LoginThrottle.failures, LoginThrottle.updated_at)
                          .where(LoginThrottle.key == key)).first()
    if row is None or utcnow() - row.updated_at > _window(config):
        return 0
    beyond = int(row.failures) - config.login_attempts_before_lockout
    if beyond < 0:
        return 0
    return min(FIRST_PUZZLE_BITS + beyond, config.login_puzzle_max_bits)


def check(session: DbSession, key: bytes, config: Config, solution: Solution | None,
          spent: SpentChallenges) -> None:
    """Pass an attempt that needs no puzzle or brings a fresh, unused solution of one hard
    enough now; raise :class:`PuzzleRequired` with a new puzzle otherwise. A solution is spent
    whatever the attempt's outcome."""
    bits = required_bits(session, key, config)
    if bits == 0:
        return
    now = time.time()
    if solution is not None:
        try:
            proof_of_work.verify(config.secret_key, bits, solution.challenge, solution.nonce,
                                 now, spent, binding=key)
            return
        except proof_of_work.ProofOfWorkRejected:
            pass
    raise PuzzleRequired(proof_of_work.issue(config.secret_key, bits, now, binding=key))


def record_failure(session: DbSession, key: bytes, config: Config) -> None:
    """Count one failure and commit. A count older than the window starts again from one."""
    now = utcnow()
    try:
        with savepoint(session):
            session.add(LoginThrottle(key=key, failures=0, updated_at=now))
    except IntegrityError:
        pass  # the row exists already
    stale = LoginThrottle.updated_at < now - _window(config)
    session.execute(update(LoginThrottle).where(LoginThrottle.key == key).values(
        failures=case((stale, 1), else_=LoginThrottle.failures + 1), updated_at=now))
    session.commit()


def reset(session: DbSession, key: bytes) -> None:
    session.execute(update(LoginThrottle).where(LoginThrottle.key == key)
                    .values(failures=0, updated_at=utcnow()))
