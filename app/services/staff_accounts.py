"""Staff accounts: creation, login, TOTP enrolment, password change, disabling.

The server never sees a staff password: the client derives a login secret and a separate
unwrapping key from it (``crypto.kdf.derive_staff_secrets``) and sends only the login secret,
of which the server keeps a slow hash. The private key is stored wrapped under the unwrapping key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

import nacl.exceptions
import nacl.pwhash
import pyotp
from sqlalchemy import or_, select, update

from app.config import Config
from app.extensions import DbSession
from app.models import StaffRole, StaffUser, utcnow
from app.roles import Role
from app.services import proof_of_work, staff_sessions, throttle
from app.services.proof_of_work import SpentChallenges
from crypto import kdf, keys
from crypto.directory import OrganisationSigningKey
from crypto.encoding import VERSION

USERNAME_PATTERN = r"[a-z][a-z0-9._-]{1,63}"
_TOTP_CODE = re.compile(r"[0-9]{6}")
LOGIN_SECRET_SIZE = 32
TOTP_ISSUER = "Candor"


class AccountError(Exception):
    """A user-facing failure; ``str(error)`` is safe to show."""


# The hint about reuse is part of the one message: a code works once, so signing in again with
# the code just used (after signing out, say) fails until the app shows the next one.
LOGIN_FAILED = ("The username, password or code is not right. A code works only once: if you "
                "just used this one, wait for your app to show the next.")
TOTP_REJECTED = ("That code is not right, or it was already used: a code works only once. "
                 "Wait for your app to show the next code, check the time on your device, and "
                 "try again.")


class LoginFailed(AccountError):
    def __init__(self) -> None:
        # One message for every cause, so a failure says nothing about which part was wrong.
        super().__init__(LOGIN_FAILED)


class PuzzleNeeded(AccountError):
    """Many attempts with this name failed, so this one must bring a solved puzzle first
    (``app/services/throttle.py``); ``challenge`` is a fresh one. Nothing was checked."""

    def __init__(self, challenge: proof_of_work.Challenge) -> None:
        super().__init__(
            "Many failed attempts were made with this username, so each attempt must first "
            "solve a small puzzle. This page solves it for you and sends again.")
        self.challenge = challenge


@dataclass(frozen=True)
class PasswordMaterial:
    """What a browser makes for a new password, never the password itself: the login secret,
    the salt and parameter set it was derived with, and the private key wrapped under the
    unwrapping key derived alongside it."""

    login_secret: bytes
    salt: bytes
    kdf_version: int
    wrapped_private_key: bytes


@dataclass(frozen=True)
class PreloginParameters:
    salt: bytes
    params: kdf.KdfParams


def _hash_params(config: Config) -> tuple[int, int]:
    if config.fast_kdf_for_tests:
        return nacl.pwhash.argon2id.OPSLIMIT_MIN, nacl.pwhash.argon2id.MEMLIMIT_MIN
    return nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE, nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE


def staff_kdf_params(config: Config) -> kdf.KdfParams:
    return kdf.TEST_FAST if config.fast_kdf_for_tests else kdf.STAFF_PASSWORD_V1


def hash_login_secret(login_secret: bytes, config: Config) -> str:
    ops, mem = _hash_params(config)
    return nacl.pwhash.argon2id.str(login_secret, opslimit=ops, memlimit=mem).decode("ascii")


def _login_secret_matches(stored: str, login_secret: bytes) -> bool:
    try:
        return bool(nacl.pwhash.verify(stored.encode("ascii"), login_secret))
    except nacl.exceptions.CryptoError:  # a wrong secret, or an unusable (invited) hash
        return False


@cache
def _dummy_hash(opslimit: int, memlimit: int) -> str:
    return nacl.pwhash.argon2id.str(
        b"\x00" * LOGIN_SECRET_SIZE, opslimit=opslimit, memlimit=memlimit
    ).decode("ascii")


def find_staff(session: DbSession, username: str) -> StaffUser | None:
    return session.scalars(select(StaffUser).where(StaffUser.username == username)).first()


def prelogin_parameters(
    session: DbSession, username: str, config: Config
) -> PreloginParameters:
    """The salt and KDF parameters a client needs to derive its login secret.

    An unknown username gets a stable made-up salt, so this answer does not reveal who exists.
    """
    staff = find_staff(session, username)
    if staff is not None:
        return PreloginParameters(staff.kdf_salt, kdf.params_by_version(staff.kdf_version))
    fake_salt = hmac.new(
        config.derived_key("prelogin-salt"), username.encode(), hashlib.sha256
    ).digest()[: kdf.SALT_SIZE]
    return PreloginParameters(fake_salt, staff_kdf_params(config))


def create_staff(
    session: DbSession,
    *,
    username: str,
    roles: list[Role],
    password: str,
    config: Config,
    signing_key: OrganisationSigningKey,
) -> StaffUser:
    """Create an account whose key pair is generated and wrapped here (operator CLI path)."""
    from app.services.directory import sign_staff_entry

    if find_staff(session, username) is not None:
        raise AccountError(f"a staff member named {username!r} already exists")
    if not roles:
        raise AccountError("give at least one role")
    params = staff_kdf_params(config)
    salt = kdf.generate_salt()
    secrets_ = kdf.derive_staff_secrets(password, salt, params)
    keypair = keys.StaffKeyPair.generate()
    staff = StaffUser(
        username=username,
        login_hash=hash_login_secret(secrets_.login_secret, config),
        kdf_salt=salt,
        kdf_version=params.version,
        public_key=keypair.public_key,
        wrapped_private_key=b"",
        activated_at=utcnow(),
    )
    staff.role_rows = [StaffRole(role=role.value) for role in sorted(set(roles))]
    session.add(staff)
    session.flush()  # the id is part of the wrapping's associated data and the entry
    staff.wrapped_private_key = keys.wrap_private_key(
        keypair, secrets_.unwrap_key, str(staff.id)
    )
    sign_staff_entry(staff, signing_key)
    return staff


PASSKEY_NEEDED = ("Your role signs in with a passkey: enter your username and password, then "
                  "press 'Sign in with a passkey'.")


class PasskeyNeeded(AccountError):
    """The password and the code were right, but this account must use its passkey."""

    def __init__(self) -> None:
        super().__init__(PASSKEY_NEEDED)


@dataclass(frozen=True)
class SecondFactor:
    """What a sign-in brings besides the password: a TOTP code, or a check of a passkey
    assertion (``passkey(staff)`` is True if one of that account's passkeys made it), and
    whether this account may still use TOTP (``totp_allowed(staff)``)."""

    totp_code: str
    passkey: Callable[[StaffUser], bool] | None = None
    totp_allowed: Callable[[StaffUser], bool] = lambda _staff: True


def authenticate(
    session: DbSession, username: str, login_secret: bytes, factor: SecondFactor | str,
    config: Config, solution: throttle.Solution | None, spent: SpentChallenges,
) -> StaffUser:
    """Check the login secret and, once enrolled, the second factor (a TOTP code or a passkey).
    Failures count per name (existing or not), and past the free ones each attempt needs a
    solved puzzle (raises PuzzleNeeded); every failure looks the same, except PasskeyNeeded,
    which only someone who gave the right password and a right code sees."""
    if isinstance(factor, str):
        factor = SecondFactor(factor)
    key = throttle.throttle_key(config, throttle.SIGN_IN, username)
    with _puzzle_as_error():
        throttle.check(session, key, config, solution, spent)
        staff = _signable_staff(session, username)
        if staff is None:
            # Spend the same time as a real check so a timing difference does not reveal accounts.
            _login_secret_matches(_dummy_hash(*_hash_params(config)), login_secret)
            throttle.record_failure(session, key, config)
            raise LoginFailed()
        ok = len(login_secret) == LOGIN_SECRET_SIZE and _login_secret_matches(
            staff.login_hash, login_secret
        )
        if ok and staff.totp_enrolled_at is not None:
            if factor.passkey is not None:
                ok = factor.passkey(staff)
            elif not factor.totp_allowed(staff):
                # Said only to someone who also gave a right code: without one, this attempt
                # looks like any failure, so it does not confirm a guessed password.
                if _claim_totp(session, staff, factor.totp_code):
                    throttle.record_failure(session, key, config)
                    raise PasskeyNeeded()
                ok = False
            else:
                ok = _claim_totp(session, staff, factor.totp_code)
        if not ok:
            throttle.record_failure(session, key, config)
            raise LoginFailed()
    throttle.reset(session, key)
    return staff


@contextmanager
def _puzzle_as_error() -> Iterator[None]:
    try:
        yield
    except throttle.PuzzleRequired as required:
        raise PuzzleNeeded(required.challenge) from None


def _signable_staff(session: DbSession, username: str) -> StaffUser | None:
    """The enabled, activated account of that name."""
    staff = find_staff(session, username)
    if staff is None or staff.disabled_at is not None or staff.activated_at is None:
        return None
    return staff


@dataclass(frozen=True)
class RecoveryChallenge:
    """What a client needs to prove it holds the private key: the recovery-wrapped copy, and a
    random challenge sealed to the account's public key (crypto/SPEC.md 8.3)."""

    staff: StaffUser
    sealed_challenge: bytes
    challenge_digest: bytes


def begin_recovery(
    session: DbSession, username: str, totp_code: str, config: Config,
    solution: throttle.Solution | None, spent: SpentChallenges,
) -> RecoveryChallenge:
    """First step of a forgotten-password recovery: a valid TOTP code. Failures count on their
    own per name, so guessing codes here cannot make signing in any harder."""
    key = throttle.throttle_key(config, throttle.RECOVERY, username)
    with _puzzle_as_error():
        throttle.check(session, key, config, solution, spent)
        staff = _signable_staff(session, username)
        ok = (staff is not None and staff.recovery_wrapped_private_key is not None
              and _claim_totp(session, staff, totp_code))
        if not ok or staff is None:
            throttle.record_failure(session, key, config)
            raise LoginFailed()
    throttle.reset(session, key)
    challenge = keys.generate_recovery_challenge()
    return RecoveryChallenge(
        staff=staff,
        sealed_challenge=keys.seal_recovery_challenge(challenge, staff.public_key),
        challenge_digest=hashlib.sha256(challenge).digest(),
    )


def complete_recovery(
    session: DbSession, staff: StaffUser, *, challenge: bytes, expected_digest: bytes,
    new: PasswordMaterial, config: Config,
) -> None:
    """Set a new password once the client has opened the challenge with the recovered key."""
    if not hmac.compare_digest(hashlib.sha256(challenge).digest(), expected_digest):
        raise AccountError("The recovery code did not unlock this account's key.")
    set_password(staff, new, config)
    throttle.reset(session, throttle.throttle_key(config, throttle.SIGN_IN, staff.username))


def claim_totp(session: DbSession, staff: StaffUser, code: str) -> bool:
    """A step-up with a TOTP code: True if it is right and its step unused (then it is used)."""
    return _claim_totp(session, staff, code)


def _claim_totp(session: DbSession, staff: StaffUser, code: str) -> bool:
    """Accept a code from this or an adjacent 30-second step, and never a step already used:
    the step is claimed by one conditional update, so two requests cannot both use it."""
    # ASCII digits only: str.isdigit() also accepts other scripts' digits.
    if staff.totp_secret is None or not _TOTP_CODE.fullmatch(code):
        return False
    totp = pyotp.TOTP(staff.totp_secret)
    now = utcnow()
    for offset in (-1, 0, 1):
        moment = now + timedelta(seconds=30 * offset)
        if hmac.compare_digest(totp.at(moment), code):
            step = totp.timecode(moment)
            claimed = session.execute(
                update(StaffUser)
                .where(StaffUser.id == staff.id,
                       or_(StaffUser.last_totp_step.is_(None), StaffUser.last_totp_step < step))
                .values(last_totp_step=step)
                .execution_options(synchronize_session=False)
            )
            session.refresh(staff, ["last_totp_step"])
            return bool(claimed.rowcount)  # type: ignore[attr-defined]
    return False


def _check_wrapped_key(blob: bytes) -> None:
    """The server cannot unwrap the key, but it can refuse anything not shaped like one."""
    if len(blob) != keys.WRAPPED_KEY_SIZE or blob[0] != VERSION:
        raise AccountError("The wrapped key is malformed.")


def totp_provisioning(staff: StaffUser) -> tuple[str, str]:
    """The TOTP secret being enrolled (made on first call) and its otpauth:// URI."""
    if staff.totp_enrolled_at is not None:
        raise AccountError("two-factor authentication is already set up for this account")
    if staff.totp_secret is None:
        staff.totp_secret = pyotp.random_base32()
    totp = pyotp.TOTP(staff.totp_secret)
    uri = totp.provisioning_uri(name=staff.username, issuer_name=TOTP_ISSUER)
    return staff.totp_secret, uri


def complete_enrolment(
    session: DbSession, staff: StaffUser, code: str, recovery_salt: bytes,
    recovery_wrapped: bytes,
) -> None:
    """Finish first login: a working TOTP code, and the private key wrapped under the recovery
    code the browser generated and showed once."""
    if staff.totp_enrolled_at is not None:
        raise AccountError("two-factor authentication is already set up for this account")
    if not _claim_totp(session, staff, code):
        raise AccountError(TOTP_REJECTED)
    _check_wrapped_key(recovery_wrapped)
    if len(recovery_salt) != kdf.SALT_SIZE:
        raise AccountError("The recovery material is malformed.")
    staff.recovery_salt = recovery_salt
    staff.recovery_wrapped_private_key = recovery_wrapped
    staff.totp_enrolled_at = utcnow()


def change_password(
    session: DbSession, staff: StaffUser, *, current_login_secret: bytes,
    new: PasswordMaterial, config: Config, solution: throttle.Solution | None,
    spent: SpentChallenges,
) -> None:
    """Replace the login secret and the password-wrapped key, both made in the browser. A
    wrong current password counts as a failed sign-in, so a stolen session guesses no faster
    than anyone else."""
    key = throttle.throttle_key(config, throttle.SIGN_IN, staff.username)
    with _puzzle_as_error():
        throttle.check(session, key, config, solution, spent)
        if not _login_secret_matches(staff.login_hash, current_login_secret):
            throttle.record_failure(session, key, config)
            raise AccountError("The current password is not right.")
    set_password(staff, new, config)


def set_password(staff: StaffUser, new: PasswordMaterial, config: Config) -> None:
    if len(new.login_secret) != LOGIN_SECRET_SIZE or len(new.salt) != kdf.SALT_SIZE:
        raise AccountError("The new password material is malformed.")
    if new.kdf_version != staff_kdf_params(config).version:
        # A client may not choose cheaper key derivation than this installation requires.
        raise AccountError("The new password was derived with the wrong parameters.")
    _check_wrapped_key(new.wrapped_private_key)
    staff.login_hash = hash_login_secret(new.login_secret, config)
    staff.kdf_salt = new.salt
    staff.kdf_version = new.kdf_version
    staff.wrapped_private_key = new.wrapped_private_key


def disable_staff(session: DbSession, staff: StaffUser) -> None:
    """Disable the account: its sessions end and its key leaves the directory."""
    staff.disabled_at = utcnow()
    staff.directory_entry = None
    staff_sessions.close_all_sessions(session, staff)
