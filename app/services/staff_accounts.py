"""Staff accounts: creation, login, TOTP enrolment, password change, disabling.

The server never sees a staff password: the client derives a login secret and a separate
unwrapping key from it (``crypto.kdf.derive_staff_secrets``) and sends only the login secret,
of which the server keeps a slow hash. The private key is stored wrapped under the unwrapping key.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import nacl.exceptions
import nacl.pwhash
import pyotp
from sqlalchemy import select

from app.config import Config
from app.extensions import DbSession
from app.models import StaffRole, StaffUser, utcnow
from app.roles import Role
from crypto import kdf, keys
from crypto.directory import OrganisationSigningKey
from crypto.encoding import VERSION

USERNAME_PATTERN = r"[a-z][a-z0-9._-]{1,63}"
LOGIN_SECRET_SIZE = 32
TOTP_ISSUER = "Candor"


class AccountError(Exception):
    """A user-facing failure; ``str(error)`` is safe to show."""


class LoginFailed(AccountError):
    def __init__(self) -> None:
        # One message for every cause, so a failure says nothing about which part was wrong.
        super().__init__("The username, password or code is not right.")


class AccountLocked(AccountError):
    def __init__(self, until: datetime) -> None:
        super().__init__(
            "Too many failed attempts: this account is locked until "
            f"{until:%H:%M} UTC. Try again then, or ask an administrator."
        )


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
        config.secret_key.encode(), b"candor/prelogin-salt\x00" + username.encode(), hashlib.sha256
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


def authenticate(
    session: DbSession, username: str, login_secret: bytes, totp_code: str, config: Config
) -> StaffUser:
    """Check the login secret and, once enrolled, the TOTP code. Counts failures per account."""
    staff = _enabled_staff(session, username, login_secret, config)
    ok = len(login_secret) == LOGIN_SECRET_SIZE and _login_secret_matches(
        staff.login_hash, login_secret
    )
    if ok and staff.totp_enrolled_at is not None:
        ok = _accept_totp(staff, totp_code, utcnow())
    _record_attempt(session, staff, ok, config)
    return staff


def _enabled_staff(
    session: DbSession, username: str, login_secret: bytes, config: Config
) -> StaffUser:
    """The enabled, unlocked account of that name, or the same failure as a wrong password."""
    staff = find_staff(session, username)
    if staff is None or staff.disabled_at is not None or staff.activated_at is None:
        # Spend the same time as a real check so a timing difference does not reveal accounts.
        _login_secret_matches(_dummy_hash(*_hash_params(config)), login_secret)
        raise LoginFailed()
    if staff.locked_until is not None and staff.locked_until > utcnow():
        raise AccountLocked(staff.locked_until)
    return staff


def _record_attempt(session: DbSession, staff: StaffUser, ok: bool, config: Config) -> None:
    """Reset the failure count on success; count a failure, locking at the limit, and raise."""
    if ok:
        staff.failed_logins = 0
        staff.locked_until = None
        return
    staff.failed_logins += 1
    if staff.failed_logins >= config.login_attempts_before_lockout:
        staff.locked_until = utcnow() + timedelta(minutes=config.login_lockout_minutes)
        staff.failed_logins = 0
        session.commit()
        raise AccountLocked(staff.locked_until)
    session.commit()
    raise LoginFailed()


@dataclass(frozen=True)
class RecoveryChallenge:
    """What a client needs to prove it holds the private key: the recovery-wrapped copy, and a
    random challenge sealed to the account's public key (crypto/SPEC.md, recovery)."""

    staff: StaffUser
    sealed_challenge: bytes
    challenge_digest: bytes


def begin_recovery(
    session: DbSession, username: str, totp_code: str, config: Config
) -> RecoveryChallenge:
    """First step of a forgotten-password recovery: a valid TOTP code, counted like a login."""
    staff = _enabled_staff(session, username, b"", config)
    ok = staff.recovery_wrapped_private_key is not None and _accept_totp(
        staff, totp_code, utcnow()
    )
    _record_attempt(session, staff, ok, config)
    challenge = keys.generate_recovery_challenge()
    return RecoveryChallenge(
        staff=staff,
        sealed_challenge=keys.seal_recovery_challenge(challenge, staff.public_key),
        challenge_digest=hashlib.sha256(challenge).digest(),
    )


def complete_recovery(
    staff: StaffUser, *, challenge: bytes, expected_digest: bytes, new: PasswordMaterial,
    config: Config,
) -> None:
    """Set a new password once the client has opened the challenge with the recovered key."""
    if not hmac.compare_digest(hashlib.sha256(challenge).digest(), expected_digest):
        raise AccountError("The recovery code did not unlock this account's key.")
    set_password(staff, new, config)
    staff.failed_logins = 0
    staff.locked_until = None


def _accept_totp(staff: StaffUser, code: str, now: datetime) -> bool:
    """Accept a code from this or an adjacent 30-second step, never the same step twice."""
    if staff.totp_secret is None or not code.isdigit() or len(code) != 6:
        return False
    totp = pyotp.TOTP(staff.totp_secret)
    for offset in (-1, 0, 1):
        moment = now + timedelta(seconds=30 * offset)
        step = totp.timecode(moment)
        if hmac.compare_digest(totp.at(moment), code):
            if staff.last_totp_step is not None and step <= staff.last_totp_step:
                return False
            staff.last_totp_step = step
            return True
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
    staff: StaffUser, code: str, recovery_salt: bytes, recovery_wrapped: bytes
) -> None:
    """Finish first login: a working TOTP code, and the private key wrapped under the recovery
    code the browser generated and showed once."""
    if staff.totp_enrolled_at is not None:
        raise AccountError("two-factor authentication is already set up for this account")
    if not _accept_totp(staff, code, utcnow()):
        raise AccountError("That code is not right. Check the time on your device and try again.")
    _check_wrapped_key(recovery_wrapped)
    if len(recovery_salt) != kdf.SALT_SIZE:
        raise AccountError("The recovery material is malformed.")
    staff.recovery_salt = recovery_salt
    staff.recovery_wrapped_private_key = recovery_wrapped
    staff.totp_enrolled_at = utcnow()


def change_password(
    staff: StaffUser, *, current_login_secret: bytes, new: PasswordMaterial, config: Config
) -> None:
    """Replace the login secret and the password-wrapped key, both made in the browser."""
    if not _login_secret_matches(staff.login_hash, current_login_secret):
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
    from app.auth.sessions import close_all_sessions

    staff.disabled_at = utcnow()
    staff.directory_entry = None
    close_all_sessions(staff)
