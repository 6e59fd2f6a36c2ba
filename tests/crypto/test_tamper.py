"""Changing any single byte of any stored blob makes opening it fail with a CryptoError."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import directory, envelope, kdf, keys, stream
from crypto.envelope import CaseKey, GrantKind, RecordKind
from crypto.errors import CryptoError

UNWRAP_KEY = kdf.UnwrapKey.generate()
PAIR = keys.StaffKeyPair.generate()
CASE_KEY = CaseKey.generate()
FILE_KEY = stream.FileKey.generate()
ORG = directory.OrganisationSigningKey.generate()


def _open_stream(blob: bytes) -> None:
    for _ in stream.decrypt_chunks(FILE_KEY, "case-1", "att-1", [blob]):
        pass


def _stream() -> bytes:
    data = b"attachment " * 7000  # two frames
    return b"".join(stream.encrypt_chunks(FILE_KEY, "case-1", "att-1", [data]))


BLOBS: dict[str, tuple[bytes, Callable[[bytes], object]]] = {
    "wrapped key": (
        keys.wrap_private_key(PAIR, UNWRAP_KEY, "staff-1"),
        lambda b: keys.unwrap_private_key(b, UNWRAP_KEY, "staff-1"),
    ),
    "recovery challenge": (
        keys.seal_recovery_challenge(b"c" * keys.RECOVERY_CHALLENGE_SIZE, PAIR.public_key),
        lambda b: keys.open_recovery_challenge(b, PAIR),
    ),
    "grant": (
        envelope.seal_case_key(CASE_KEY, PAIR.public_key, "case-1", GrantKind.REPORTER),
        lambda b: envelope.open_grant(b, PAIR, "case-1", GrantKind.REPORTER),
    ),
    "record": (
        envelope.encrypt_record(CASE_KEY, RecordKind.MESSAGE, "case-1", "rec-1", b"hello"),
        lambda b: envelope.decrypt_record(CASE_KEY, RecordKind.MESSAGE, "case-1", "rec-1", b),
    ),
    "directory entry": (
        directory.sign_entry(
            ORG,
            directory.DirectoryEntry("staff-1", "jane", PAIR.public_key, 1, 2, ("rso",)),
        ),
        lambda b: directory.verify_entry(ORG.verify_key, b),
    ),
    "stream": (_stream(), _open_stream),
}


@pytest.mark.parametrize("name", sorted(BLOBS))
def test_untampered_blobs_open(name: str) -> None:
    blob, open_ = BLOBS[name]
    open_(blob)


@pytest.mark.parametrize("name", sorted(BLOBS))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_changed_byte_is_rejected(name: str, data: st.DataObject) -> None:
    blob, open_ = BLOBS[name]
    index = data.draw(st.integers(0, len(blob) - 1), label="index")
    delta = data.draw(st.integers(1, 255), label="xor")
    tampered = bytearray(blob)
    tampered[index] ^= delta
    with pytest.raises(CryptoError):
        open_(bytes(tampered))


@pytest.mark.parametrize("name", sorted(BLOBS))
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_any_truncation_or_extension_is_rejected(name: str, data: st.DataObject) -> None:
    blob, open_ = BLOBS[name]
    cut = data.draw(st.integers(0, len(blob) - 1), label="cut")
    extra = data.draw(st.binary(min_size=1, max_size=64), label="extra")
    for changed in (blob[:cut], blob + extra):
        with pytest.raises(CryptoError):
            open_(changed)
