"""Argon2id parameter sets and staff secrets."""

from __future__ import annotations

import pytest

from crypto import kdf
from crypto.errors import KdfParametersRejected, MalformedInput, UnsupportedVersion

SALT = bytes(range(16))
MIB = 1024 * 1024


def test_staff_password_v1_is_accepted_and_meets_owasp_minimums() -> None:
    p = kdf.STAFF_PASSWORD_V1
    p.check()
    # OWASP Password Storage Cheat Sheet: Argon2id m=19 MiB t=2 p=1, or m=46 MiB t=1 p=1.
    assert (p.memlimit >= 19 * MIB and p.opslimit >= 2) or (p.memlimit >= 46 * MIB)
    assert p.is_at_least(kdf.KdfParams(version=-1, opslimit=2, memlimit=19 * MIB))
    secrets = kdf.derive_staff_secrets("correct horse", SALT, p)
    assert len(secrets.login_secret) == 32


def test_reporter_codename_v1_meets_owasp_minimums() -> None:
    p = kdf.REPORTER_CODENAME_V1
    p.check()
    assert p.is_at_least(kdf.KdfParams(version=-1, opslimit=2, memlimit=19 * MIB))


def test_test_fast_is_the_libsodium_minimum_and_weaker_than_production() -> None:
    kdf.TEST_FAST.check()
    assert not kdf.TEST_FAST.is_at_least(kdf.STAFF_PASSWORD_V1)
    assert kdf.STAFF_PASSWORD_V1.is_at_least(kdf.TEST_FAST)


def test_reporter_codename_light_v1_is_lighter_and_kept_for_codenames() -> None:
    light = kdf.REPORTER_CODENAME_LIGHT_V1
    light.check()
    assert kdf.params_by_version(3) is light
    assert not light.is_at_least(kdf.REPORTER_CODENAME_V1)
    # Still memory-hard beyond a cache: 8 MiB, two passes (SPEC.md section 6).
    assert light.memlimit >= 8 * MIB and light.opslimit >= 2


@pytest.mark.parametrize("version", [0, 1, 2, 3])
def test_params_by_version(version: int) -> None:
    assert kdf.params_by_version(version).version == version


def test_unknown_params_version() -> None:
    with pytest.raises(UnsupportedVersion):
        kdf.params_by_version(99)


@pytest.mark.parametrize(
    ("opslimit", "memlimit"),
    [
        (0, 8192),
        (kdf.OPSLIMIT_MAX + 1, 8192),
        (1, 8191),
        (1, 9000),
        (1, kdf.MEMLIMIT_MAX + 1024),
        (True, 8192),
    ],
)
def test_params_outside_bounds_are_rejected(opslimit: int, memlimit: int) -> None:
    with pytest.raises(KdfParametersRejected):
        kdf.derive_staff_secrets("pw", SALT, kdf.KdfParams(1, opslimit, memlimit))


def test_ceilings_themselves_are_accepted() -> None:
    kdf.KdfParams(9, kdf.OPSLIMIT_MAX, kdf.MEMLIMIT_MAX).check()


def test_login_secret_and_unwrap_key_are_independent_and_salted() -> None:
    a = kdf.derive_staff_secrets("pw", SALT, kdf.TEST_FAST)
    b = kdf.derive_staff_secrets("pw", bytes(16), kdf.TEST_FAST)
    assert a.login_secret != bytes(a.unwrap_key)
    assert a.login_secret != b.login_secret
    again = kdf.derive_staff_secrets("pw", SALT, kdf.TEST_FAST)
    assert (again.login_secret, again.unwrap_key) == (a.login_secret, a.unwrap_key)
    assert "pw" not in repr(a) and a.login_secret.hex() not in repr(a)


@pytest.mark.parametrize("password", ["", "\ud800"])
def test_invalid_passwords(password: str) -> None:
    with pytest.raises(MalformedInput):
        kdf.derive_staff_secrets(password, SALT, kdf.TEST_FAST)


