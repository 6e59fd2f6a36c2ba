"""Staff key pairs, wrapped private keys and recovery codes."""

from __future__ import annotations

import re

import pytest

from crypto import kdf, keys
from crypto.errors import DecryptionError, MalformedInput, UnsupportedVersion

KEY = kdf.UnwrapKey(bytes(range(32)))


def test_wrap_round_trip_accepts_key_pair_or_private_bytes() -> None:
    pair = keys.StaffKeyPair.generate()
    for source in (pair, pair.private_key):
        blob = keys.wrap_private_key(source, KEY, "staff-1")
        assert len(blob) == keys.WRAPPED_KEY_SIZE == 73
        assert keys.unwrap_private_key(blob, KEY, "staff-1") == pair


def test_wrap_uses_a_fresh_nonce() -> None:
    pair = keys.StaffKeyPair.generate()
    assert keys.wrap_private_key(pair, KEY, "s") != keys.wrap_private_key(pair, KEY, "s")


def test_unwrap_rejects_other_staff_and_key() -> None:
    blob = keys.wrap_private_key(keys.StaffKeyPair.generate(), KEY, "staff-1")
    with pytest.raises(DecryptionError):
        keys.unwrap_private_key(blob, KEY, "staff-2")
    with pytest.raises(DecryptionError):
        keys.unwrap_private_key(blob, kdf.UnwrapKey(bytes(32)), "staff-1")


def test_unwrap_rejects_version_and_length() -> None:
    blob = keys.wrap_private_key(keys.StaffKeyPair.generate(), KEY, "staff-1")
    with pytest.raises(UnsupportedVersion):
        keys.unwrap_private_key(b"\x00" + blob[1:], KEY, "staff-1")
    for bad in (b"", blob + b"\x00", blob[:-1]):
        with pytest.raises(MalformedInput):
            keys.unwrap_private_key(bad, KEY, "staff-1")


@pytest.mark.parametrize("staff_id", ["", "a b", "é", "x" * 129])
def test_staff_id_must_be_an_identifier(staff_id: str) -> None:
    with pytest.raises(MalformedInput):
        keys.wrap_private_key(keys.StaffKeyPair.generate(), KEY, staff_id)


def test_password_derived_unwrap_key_round_trip() -> None:
    secrets = kdf.derive_staff_secrets("hunter2", bytes(16), kdf.TEST_FAST)
    pair = keys.StaffKeyPair.generate()
    blob = keys.wrap_private_key(pair, secrets.unwrap_key, "staff-1")
    again = kdf.derive_staff_secrets("hunter2", bytes(16), kdf.TEST_FAST)
    assert keys.unwrap_private_key(blob, again.unwrap_key, "staff-1").public_key == pair.public_key


def test_key_pair_repr_hides_private_key() -> None:
    pair = keys.StaffKeyPair.generate()
    assert pair.private_key.hex() not in repr(pair)
    assert repr(KEY) == "<UnwrapKey>"


def test_recovery_code_shape_and_round_trip() -> None:
    code = keys.generate_recovery_code()
    assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){6}[0-9A-HJKMNP-TV-Z]{4}", code)
    salt = kdf.generate_salt()
    key = keys.recovery_unwrap_key(code, salt)
    assert key == keys.recovery_unwrap_key(code.lower().replace("-", " "), salt)
    assert key != keys.recovery_unwrap_key(code, kdf.generate_salt())
    pair = keys.StaffKeyPair.generate()
    blob = keys.wrap_private_key(pair, key, "staff-1")
    assert keys.unwrap_private_key(blob, keys.recovery_unwrap_key(code, salt), "staff-1") == pair


def test_recovery_codes_differ() -> None:
    assert len({keys.generate_recovery_code() for _ in range(50)}) == 50


@pytest.mark.parametrize("code", ["", "0" * 27, "0" * 29, "U" + "0" * 27, "\uff10" * 28])
def test_malformed_recovery_codes(code: str) -> None:
    with pytest.raises(MalformedInput):
        keys.normalise_recovery_code(code)


def test_recovery_challenge_round_trip_and_binding() -> None:
    pair, other = keys.StaffKeyPair.generate(), keys.StaffKeyPair.generate()
    challenge = keys.generate_recovery_challenge()
    sealed = keys.seal_recovery_challenge(challenge, pair.public_key)
    assert len(sealed) == keys.SEALED_CHALLENGE_SIZE
    assert keys.open_recovery_challenge(sealed, pair) == challenge
    with pytest.raises(DecryptionError):
        keys.open_recovery_challenge(sealed, other)
