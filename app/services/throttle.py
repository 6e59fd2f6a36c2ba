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

Failures with every name together are counted too (per purpose): a flood that tries each of
many names a few times stays under every name's free attempts, yet each attempt costs the
server a password hash and an audit entry. Past ``EVERYONE_FREE_FACTOR`` times the free
attempts of one name, within the window, every attempt with any name needs a puzzle, one bit
harder for each further such batch of failures, up to the same ceiling. The owner then solves
one too: a second or two at the ceiling.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.exc import IntegrityError

from app.config import Config
from app.extensions import DbSession, savepoint
from app.models import LoginThrottle, utcnow
from app.services import proof_of_work
from app.services.proof_of_work import SpentChallenges
from crypto.proof_of_work import DEFAULT_PROOF_OF_WORK_HASH

# Each purpose has its own count: failed recoveries cannot make signing in any harder.
SIGN_IN = "sign-in"
RECOVERY = "recovery"
STEP_UP = "step-up"  # wrong TOTP codes at a step-up, by account
# The first puzzle asked for (about 256 tries: nothing for a browser); one bit more per failure.
FIRST_PUZZLE_BITS = 8
# Failures with all names together, within the window, before every attempt needs a puzzle:
# this many times one name's free attempts (100 with the default 5).
EVERYONE_FREE_FACTOR = 20


class PuzzleRequired(Exception):
    """This attempt needs a solved puzzle of ``challenge.bits`` bits; ``challenge`` is a fresh
    one, bound to this name and purpose."""

    def __init__(self, challenge: proof_of_work.Challenge) -> None:
        super().__init__(challenge.bits)
        self.challenge = challenge


@dataclass(frozen=True)
class Solution:
    """A solved puzzle sent with an attempt, with the hash it names (SPEC.md 4.1)."""

    challenge: bytes
    nonce: bytes
    algorithm: str = DEFAULT_PROOF_OF_WORK_HASH


@dataclass(frozen=True)
class ThrottleKey:
    """Where an attempt is counted: under its name (``name``, which also binds its puzzles) and
    with every name of the same purpose (``everyone``). Both are keyed hashes: the table
    holds no name."""

    name: bytes
    everyone: bytes


def throttle_key(config: Config, purpose: str, username: str) -> ThrottleKey:
    secret = config.derived_key("login-throttle")

    def keyed(message: str) -> bytes:
        return hmac.new(secret, message.encode(), hashlib.sha256).digest()

    # A NUL never occurs in a username, so no name shares the everyone count's key.
    return ThrottleKey(name=keyed(f"{purpose}\0{username}"), everyone=keyed(f"{purpose}\0\0"))


def _window(config: Config) -> timedelta:
    return timedelta(minutes=config.login_lockout_minutes)


def recent_failures(session: DbSession, key: bytes, config: Config) -> int:
    row = session.execute(select(LoginThrottle.failures, LoginThrottle.updated_at)
                          .where(LoginThrottle.key == key)).first()
    if row is None or utcnow() - row.updated_at > _window(config):
        return 0
    return int(row.failures)


def required_bits(session: DbSession, key: ThrottleKey, config: Config) -> int:
    """How hard the puzzle an attempt with this name must solve now (0: none): the harder of
    what this name's failures ask and what everyone's failures ask."""
    free = config.login_attempts_before_lockout
    for_name = recent_failures(session, key.name, config) - free
    everyone_free = free * EVERYONE_FREE_FACTOR
    for_everyone = (recent_failures(session, key.everyone, config) - everyone_free) \
        // everyone_free
    beyond = max(for_name, for_everyone)
    if beyond < 0:
        return 0
    return min(FIRST_PUZZLE_BITS + beyond, config.login_puzzle_max_bits)


def check(session: DbSession, key: ThrottleKey, config: Config, solution: Solution | None,
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
                                 now, spent, binding=key.name, algorithm=solution.algorithm)
            return
        except proof_of_work.ProofOfWorkRejected:
            pass
    raise PuzzleRequired(proof_of_work.issue(config.secret_key, bits, now, binding=key.name))


def record_failure(session: DbSession, key: ThrottleKey, config: Config) -> None:
    """Count one failure under the name and with everyone's, and commit. A count older than
    the window starts again from one."""
    now = utcnow()
    for counted in (key.name, key.everyone):
        try:
            with savepoint(session):
                session.add(LoginThrottle(key=counted, failures=0, updated_at=now))
        except IntegrityError:
            pass  # the row exists already
        stale = LoginThrottle.updated_at < now - _window(config)
        session.execute(update(LoginThrottle).where(LoginThrottle.key == counted).values(
            failures=case((stale, 1), else_=LoginThrottle.failures + 1), updated_at=now))
    session.commit()


def reset(session: DbSession, key: ThrottleKey) -> None:
    """The name's own count, after a success; everyone's count is not the owner's to clear."""
    session.execute(update(LoginThrottle).where(LoginThrottle.key == key.name)
                    .values(failures=0, updated_at=utcnow()))


def purge_forgotten(session: DbSession, now: datetime, config: Config) -> int:
    """Delete counts past the window, which ask nothing any more: the table stays as small as
    the names tried lately. Returns how many went."""
    result = session.execute(delete(LoginThrottle).where(
        LoginThrottle.updated_at < now - _window(config)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
