"""Argon2id parameter sets and the staff password derivation (SPEC.md sections 6 and 8.1)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import nacl.bindings as sodium

from .encoding import require_bytes
from .errors import KdfParametersRejected, MalformedInput, UnsupportedVersion
from .primitives import SymmetricKey, random_bytes, subkey

SALT_SIZE = 16
OPSLIMIT_MIN = 1
MEMLIMIT_MIN = 8192
OPSLIMIT_MAX = 8
MEMLIMIT_MAX = 256 * 1024 * 1024

# Context strings, not secrets.
LOGIN_SECRET_CONTEXT = "candor/v1/login-secret"  # noqa: S105 - a context string  # nosec B105
PASSWORD_UNWRAP_CONTEXT = "candor/v1/password-unwrap-key"  # noqa: S105 - a context string  # nosec B105


@dataclass(frozen=True)
class KdfParams:
    """One Argon2id parameter set: ``version`` names it; ``opslimit`` and ``memlimit`` (bytes) are
    authoritative.

    Stored next to the salt it was used with, and sent to clients as
    ``{"version", "opslimit", "memlimit"}``. Every derivation calls ``check`` first.
    """

    version: int
    opslimit: int
    memlimit: int

    def check(self) -> None:
        """Raise KdfParametersRejected unless the numbers are within the floor and the ceiling."""
        for value in (self.version, self.opslimit, self.memlimit):
            if isinstance(value, bool) or not isinstance(value, int):
                raise KdfParametersRejected("parameters must be integers")
        if not OPSLIMIT_MIN <= self.opslimit <= OPSLIMIT_MAX:
            raise KdfParametersRejected(f"opslimit must be {OPSLIMIT_MIN}-{OPSLIMIT_MAX}")
        if not MEMLIMIT_MIN <= self.memlimit <= MEMLIMIT_MAX:
            raise KdfParametersRejected(f"memlimit must be {MEMLIMIT_MIN}-{MEMLIMIT_MAX} bytes")
        if self.memlimit % 1024:
            raise KdfParametersRejected("memlimit must be a whole number of KiB")

    def is_at_least(self, other: KdfParams) -> bool:
        """True if these parameters cost at least as much as ``other`` in both dimensions.

        Clients that do not trust the server (the CLI) check received parameters against
        ``STAFF_PASSWORD_V1`` with this, so a server cannot make password guessing cheap.
        """
        return self.opslimit >= other.opslimit and self.memlimit >= other.memlimit


TEST_FAST = KdfParams(version=0, opslimit=OPSLIMIT_MIN, memlimit=MEMLIMIT_MIN)
"""For tests only: the libsodium minimum. Accepted so that test suites run fast; never use it for a
real account or case."""

STAFF_PASSWORD_V1 = KdfParams(version=1, opslimit=3, memlimit=128 * 1024 * 1024)
REPORTER_CODENAME_V1 = KdfParams(version=2, opslimit=3, memlimit=64 * 1024 * 1024)
REPORTER_CODENAME_LIGHT_V1 = KdfParams(version=3, opslimit=2, memlimit=8 * 1024 * 1024)
"""For the codename of a case filed from a browser without WebAssembly, where Argon2id runs in
pure JavaScript about 200 times slower (SPEC.md section 6 gives the argument)."""

_BY_VERSION = {
    p.version: p
    for p in (TEST_FAST, STAFF_PASSWORD_V1, REPORTER_CODENAME_V1, REPORTER_CODENAME_LIGHT_V1)
}


def params_by_version(version: int) -> KdfParams:
    """The named parameter set with this version; raise UnsupportedVersion for an unknown one."""
    try:
        return _BY_VERSION[version]
    except (KeyError, TypeError):
        raise UnsupportedVersion(f"unknown Argon2id parameter set {version!r}") from None


def generate_salt() -> bytes:
    """A fresh random salt (per staff member, per recovery copy, per case)."""
    return random_bytes(SALT_SIZE)


def argon2id(secret: bytes, salt: bytes, params: KdfParams) -> bytes:
    """32 bytes of Argon2id v1.3 output, after checking the parameters and the salt."""
    params.check()
    require_bytes(salt, SALT_SIZE, "salt")
    result: bytes = sodium.crypto_pwhash_alg(
        32, secret, salt, params.opslimit, params.memlimit, sodium.crypto_pwhash_ALG_ARGON2ID13
    )
    return result


class UnwrapKey(SymmetricKey):
    """Key that wraps and unwraps a staff private key. Never leaves the client."""


@dataclass(frozen=True, repr=False, eq=False)
class StaffSecrets:
    """What one password derivation yields: ``login_secret`` (send it to the server) and
    ``unwrap_key`` (keep it in the client).

    Misuse hazard: compare a presented login secret only with ``verify_login_secret``.
    """

    login_secret: bytes
    unwrap_key: UnwrapKey

    def __repr__(self) -> str:
        return "<StaffSecrets>"


def password_bytes(password: str) -> bytes:
    """The UTF-8 bytes of the NFC form of a password; reject empty or invalid text."""
    if not isinstance(password, str) or not password:
        raise MalformedInput("password must be a non-empty string")
    try:
        return unicodedata.normalize("NFC", password).encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedInput("password is not valid Unicode") from None


def derive_staff_secrets(password: str, salt: bytes, params: KdfParams) -> StaffSecrets:
    """One Argon2id derivation over the password, split into a login secret and an unwrap key.

    Misuse hazard: ``params`` and ``salt`` come from the server. A client that does not trust the
    server must also check ``params.is_at_least(STAFF_PASSWORD_V1)``.
    """
    master = argon2id(password_bytes(password), salt, params)
    return StaffSecrets(
        login_secret=subkey(master, LOGIN_SECRET_CONTEXT),
        unwrap_key=UnwrapKey(subkey(master, PASSWORD_UNWRAP_CONTEXT)),
    )
