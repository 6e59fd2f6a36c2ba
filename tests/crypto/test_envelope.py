"""Case keys, grants, content records and padding."""

from __future__ import annotations

import pytest

from crypto import encoding, envelope, keys
from crypto.envelope import CaseKey, GrantKind, RecordKind
from crypto.errors import DecryptionError, InvalidPadding, MalformedInput

PAIR = keys.StaffKeyPair.generate()
KEY = CaseKey.generate()


@pytest.mark.parametrize("kind", list(GrantKind))
def test_grant_round_trip(kind: GrantKind) -> None:
    grant = envelope.seal_case_key(KEY, PAIR.public_key, "case-1", kind)
    assert envelope.open_grant(grant, PAIR, "case-1", kind) == KEY


def test_grant_sizes() -> None:
    short = envelope.seal_case_key(KEY, PAIR.public_key, "c", GrantKind.RECIPIENT)
    long = envelope.seal_case_key(KEY, PAIR.public_key, "c" * 128, GrantKind.RECIPIENT)
    assert (len(short), len(long)) == (envelope.GRANT_MIN_SIZE, envelope.GRANT_MAX_SIZE)


def test_grant_bound_to_case_kind_and_key() -> None:
    grant = envelope.seal_case_key(KEY, PAIR.public_key, "case-1", GrantKind.ESCROW)
    for args in [
        (PAIR, "case-2", GrantKind.ESCROW),
        (PAIR, "case-1", GrantKind.RECIPIENT),
        (keys.StaffKeyPair.generate(), "case-1", GrantKind.ESCROW),
    ]:
        with pytest.raises(DecryptionError):
            envelope.open_grant(grant, *args)


def test_unknown_grant_kind() -> None:
    with pytest.raises(MalformedInput):
        envelope.seal_case_key(KEY, PAIR.public_key, "case-1", 9)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", list(RecordKind))
@pytest.mark.parametrize("size", [0, 1, 255, 256, 5000])
def test_record_round_trip_and_bucket(kind: RecordKind, size: int) -> None:
    content = bytes(size)
    record = envelope.encrypt_record(KEY, kind, "case-1", "rec-1", content)
    assert len(record) == 1 + 24 + 16 + encoding.bucket_for(size)
    assert envelope.decrypt_record(KEY, kind, "case-1", "rec-1", record) == content


def test_records_bound_to_case_record_kind_and_key() -> None:
    record = envelope.encrypt_record(KEY, RecordKind.NOTE, "case-1", "rec-1", b"note")
    for args in [
        (KEY, RecordKind.NOTE, "case-2", "rec-1"),
        (KEY, RecordKind.NOTE, "case-1", "rec-2"),
        (KEY, RecordKind.MESSAGE, "case-1", "rec-1"),
        (CaseKey.generate(), RecordKind.NOTE, "case-1", "rec-1"),
    ]:
        with pytest.raises(DecryptionError):
            envelope.decrypt_record(*args, record)


def test_associated_data_is_unambiguous() -> None:
    a = envelope.record_associated_data(RecordKind.NOTE, "ab", "c")
    b = envelope.record_associated_data(RecordKind.NOTE, "a", "bc")
    assert a != b


def test_largest_record_and_one_byte_more() -> None:
    content = bytes(encoding.MAX_RECORD_PLAINTEXT)
    record = envelope.encrypt_record(KEY, RecordKind.REPORT, "c", "r", content)
    assert envelope.decrypt_record(KEY, RecordKind.REPORT, "c", "r", record) == content
    with pytest.raises(MalformedInput):
        envelope.encrypt_record(KEY, RecordKind.REPORT, "c", "r", content + b"x")


def test_padding_is_canonical() -> None:
    assert encoding.unpad(encoding.pad(b"abc")) == b"abc"
    assert len(encoding.pad(b"")) == 256
    with pytest.raises(InvalidPadding):
        encoding.unpad(encoding.pad_to(b"abc", 512))
    with pytest.raises(InvalidPadding):
        encoding.unpad(bytes(256))
    with pytest.raises(InvalidPadding):
        encoding.unpad(b"abc\x80" + bytes(253))


def test_case_keys_compare_in_constant_time_and_by_type() -> None:
    assert CaseKey(bytes(KEY)) == KEY
    assert CaseKey.generate() != KEY
    assert (bytes(KEY) == KEY) is False
    with pytest.raises(MalformedInput):
        CaseKey(bytes(31))


def test_sealing_to_a_low_order_key_is_refused() -> None:
    with pytest.raises(MalformedInput):
        envelope.seal_case_key(CaseKey.generate(), bytes(32), "case-1", GrantKind.RECIPIENT)
