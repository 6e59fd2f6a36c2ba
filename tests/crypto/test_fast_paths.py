"""The cheaper ways the library makes its checks still make exactly the checks SPEC.md states.

Each test compares a fast path with the rule written out the slow, obvious way: padding
(SPEC.md 5.3), the low-order key refusal when sealing (8.7), the strict parse of an opened grant
(8.7) and attachment streams fed in pieces of any size (8.9).
"""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto import encoding, envelope, keys, primitives, stream
from crypto.envelope import CaseKey, GrantKind
from crypto.errors import DecryptionError, InvalidPadding, MalformedInput, UnsupportedVersion
from crypto.stream import CHUNK_SIZE, FRAME_SIZE, HEADER_SIZE, FileKey

PAIR = keys.StaffKeyPair.generate()
CASE_KEY = CaseKey.generate()
FILE_KEY = FileKey.generate()


# --- padding ------------------------------------------------------------------------------------
def spec_strip(padded: bytes) -> bytes | None:
    """SPEC.md 5.3 as written: strip trailing zero bytes; the last byte left must be 0x80."""
    stripped = padded.rstrip(b"\x00")
    return stripped[:-1] if stripped.endswith(b"\x80") else None


def spec_bucket(length: int) -> int | None:
    return next((b for b in encoding.BUCKETS if b >= length + 1), None)


# Padded-looking buffers: content, then maybe a marker, then zeros, then maybe stray bytes.
paddings = st.builds(
    lambda content, marker, zeros, stray: content + marker + bytes(zeros) + stray,
    st.binary(max_size=40),
    st.sampled_from([b"", b"\x80", b"\x01", b"\x80\x80"]),
    st.integers(0, 70_000),
    st.sampled_from([b"", b"\x80", b"\x00\x80", b"\x01", b"\x80\x00\x01"]),
)


@given(paddings)
def test_strip_padding_follows_the_spec(padded: bytes) -> None:
    expected = spec_strip(padded)
    if expected is None:
        with pytest.raises(InvalidPadding):
            encoding.strip_padding(padded)
    else:
        assert encoding.strip_padding(padded) == expected


def test_strip_padding_of_a_whole_chunk_and_a_whole_largest_bucket() -> None:
    assert encoding.strip_padding(b"\x80" + bytes(CHUNK_SIZE - 1)) == b""
    largest = b"\x80" + bytes(encoding.MAX_BUCKET - 1)  # a tail longer than the zeros kept
    assert encoding.strip_padding(largest) == b""
    with pytest.raises(InvalidPadding):
        encoding.strip_padding(largest[:-1] + b"\x01")
    with pytest.raises(InvalidPadding):
        encoding.strip_padding(bytes(encoding.MAX_BUCKET))


@pytest.mark.parametrize(
    "length",
    sorted({0, 1, 254, 255, 256, 257, encoding.MAX_RECORD_PLAINTEXT, encoding.MAX_BUCKET}
           | {b + d for b in encoding.BUCKETS for d in (-2, -1, 0)}),
)
def test_bucket_for_follows_the_spec(length: int) -> None:
    expected = spec_bucket(length)
    if expected is None:
        with pytest.raises(MalformedInput):
            encoding.bucket_for(length)
    else:
        assert encoding.bucket_for(length) == expected


def test_unpad_rejects_a_bucket_larger_than_needed_at_every_size() -> None:
    for small, large in zip(encoding.BUCKETS, encoding.BUCKETS[1:], strict=False):
        content = b"c" * (small - 1)  # fits the smaller bucket exactly
        assert encoding.unpad(encoding.pad_to(content, small)) == content
        with pytest.raises(InvalidPadding):
            encoding.unpad(encoding.pad_to(content, large))


# --- sealing to a low-order key -----------------------------------------------------------------
LOW_ORDER_KEYS = [
    key
    for point in primitives.LOW_ORDER_POINTS
    for key in (point, point[:31] + bytes([point[31] | 0x80]))
]


def test_this_libsodium_refuses_to_seal_to_low_order_keys() -> None:
    """The property the library relies on to skip a separate multiplication per seal."""
    assert primitives._SEALING_CHECKS_THE_KEY


@pytest.mark.parametrize("fallback", [False, True], ids=["sealing checks", "explicit check"])
@pytest.mark.parametrize("key", LOW_ORDER_KEYS, ids=lambda k: k.hex()[:8] + "…" + k.hex()[-2:])
def test_every_low_order_key_is_refused_for_grants_and_challenges(
    key: bytes, fallback: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if fallback:  # as with a libsodium whose seal would accept the key
        monkeypatch.setattr(primitives, "_SEALING_CHECKS_THE_KEY", False)
    with pytest.raises(MalformedInput, match="low order"):
        primitives.check_public_key(key)
    with pytest.raises(MalformedInput, match="low order"):
        envelope.seal_case_key(CASE_KEY, key, "case-1", GrantKind.RECIPIENT)
    with pytest.raises(MalformedInput, match="low order"):
        keys.seal_recovery_challenge(bytes(keys.RECOVERY_CHALLENGE_SIZE), key)


@pytest.mark.parametrize("fallback", [False, True])
def test_sealing_to_a_full_order_key_works_either_way(
    fallback: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(primitives, "_SEALING_CHECKS_THE_KEY", not fallback)
    grant = envelope.seal_case_key(CASE_KEY, PAIR.public_key, "case-1", GrantKind.ESCROW)
    assert envelope.open_grant(grant, PAIR, "case-1", GrantKind.ESCROW) == CASE_KEY
    with pytest.raises(MalformedInput, match="32 bytes"):
        envelope.seal_case_key(CASE_KEY, PAIR.public_key[:31], "case-1", GrantKind.ESCROW)


# --- the strict parse of an opened grant --------------------------------------------------------
def grant_of(inner: bytes) -> bytes:
    return bytes([encoding.VERSION]) + primitives.seal(inner, PAIR.public_key)


def inner(case: bytes = b"case-1", *, version: int = 1, kind: int = 1, length: int | None = None,
          key: bytes = bytes(CASE_KEY)) -> bytes:
    return (bytes([version, kind]) + encoding.u32(len(case) if length is None else length)
            + case + key)


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (inner(version=2), UnsupportedVersion),
        (inner(version=2, length=999), UnsupportedVersion),  # the version is read first
        (inner(length=7), MalformedInput),  # the prefix runs into the key
        (inner(length=5), MalformedInput),  # bytes left over
        (inner(key=bytes(CASE_KEY)[:31]), MalformedInput),
        (inner(key=bytes(CASE_KEY) + b"\x00"), MalformedInput),
        (inner(b"case 1"), MalformedInput),  # a space is not an identifier character
        (inner(b"case-\xe9"), MalformedInput),  # not ASCII
        (inner(b"c" * 129), MalformedInput),  # longer than an identifier
    ],
)
def test_opened_grants_are_parsed_strictly(content: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        envelope.open_grant(grant_of(content), PAIR, "case-1", GrantKind.RECIPIENT)


def test_a_hand_made_grant_opens_and_is_bound_to_its_case_and_kind() -> None:
    grant = grant_of(inner())
    assert envelope.open_grant(grant, PAIR, "case-1", GrantKind.RECIPIENT) == CASE_KEY
    for case_ref, kind in [("case-2", GrantKind.RECIPIENT), ("case-1", GrantKind.REPORTER)]:
        with pytest.raises(DecryptionError):
            envelope.open_grant(grant, PAIR, case_ref, kind)


@pytest.mark.parametrize("kind", [0, 10, "1", None, [1]])
def test_unknown_kinds_are_refused_by_value(kind: object) -> None:
    with pytest.raises(MalformedInput):
        envelope.seal_case_key(CASE_KEY, PAIR.public_key, "case-1", kind)  # type: ignore[arg-type]
    with pytest.raises(MalformedInput):
        envelope.record_associated_data(kind, "case-1", "rec-1")  # type: ignore[arg-type]


def test_kinds_given_as_plain_numbers_encode_like_members() -> None:
    for kind in envelope.RecordKind:
        assert (envelope.record_associated_data(int(kind), "c", "r")  # type: ignore[arg-type]
                == envelope.record_associated_data(kind, "c", "r"))


# --- streams in pieces of any size --------------------------------------------------------------
DATA = bytes(range(256)) * (3 * CHUNK_SIZE // 256) + b"tail"  # three chunks and four bytes


def split(blob: bytes, sizes: list[int]) -> list[bytes]:
    """``blob`` cut into pieces of the given sizes, used in turn, until it is used up."""
    pieces, start, turn = [], 0, 0
    while start < len(blob):
        size = sizes[turn % len(sizes)]
        pieces.append(blob[start : start + size])
        start, turn = start + size, turn + 1
    return pieces


PIECE_SIZES = [[HEADER_SIZE, FRAME_SIZE], [HEADER_SIZE - 1, FRAME_SIZE + 2, 3],
               [FRAME_SIZE - 1], [CHUNK_SIZE], [2 * FRAME_SIZE + 7], [10**7]]


@pytest.mark.parametrize("sizes", PIECE_SIZES, ids=str)
def test_encrypting_in_any_pieces_gives_the_same_frames(sizes: list[int]) -> None:
    encrypted = b"".join(stream.encrypt_chunks(FILE_KEY, "case-1", "att-1", split(DATA, sizes)))
    assert len(encrypted) == HEADER_SIZE + 4 * FRAME_SIZE
    assert b"".join(stream.decrypt_chunks(FILE_KEY, "case-1", "att-1", [encrypted])) == DATA


@pytest.mark.parametrize("sizes", PIECE_SIZES, ids=str)
def test_decrypting_in_any_pieces_and_buffer_types(sizes: list[int]) -> None:
    encrypted = b"".join(stream.encrypt_chunks(FILE_KEY, "case-1", "att-1", [DATA]))
    for kind in (bytes, bytearray, memoryview):
        pieces = [kind(piece) for piece in split(encrypted, sizes)]
        decrypted = stream.decrypt_chunks(FILE_KEY, "case-1", "att-1", pieces)
        assert b"".join(decrypted) == DATA


def test_a_header_given_byte_by_byte_checks_the_version_at_once() -> None:
    encrypted = b"".join(stream.encrypt_chunks(FILE_KEY, "case-1", "att-1", [b"x"]))
    decryptor = stream.StreamDecryptor(FILE_KEY, "case-1", "att-1")
    for byte in split(encrypted[:HEADER_SIZE], [1]):
        assert decryptor.update(byte) == []
    assert decryptor.update(encrypted[HEADER_SIZE:]) == [b"x"]
    decryptor.finish()
    wrong = stream.StreamDecryptor(FILE_KEY, "case-1", "att-1")
    with pytest.raises(UnsupportedVersion):
        wrong.update(b"\x02")


@pytest.mark.parametrize("extra", [b"\x00", bytes(FRAME_SIZE), bytes(FRAME_SIZE + 1)])
@pytest.mark.parametrize("together", [True, False], ids=["same piece", "next piece"])
def test_anything_after_the_final_frame_is_refused(extra: bytes, together: bool) -> None:
    encrypted = b"".join(stream.encrypt_chunks(FILE_KEY, "case-1", "att-1", [DATA]))
    pieces = [encrypted + extra] if together else [encrypted, extra]
    with pytest.raises(MalformedInput, match="after the final frame"):
        b"".join(stream.decrypt_chunks(FILE_KEY, "case-1", "att-1", pieces))
    split_final = [encrypted[:-10], encrypted[-10:] + extra]  # the final frame completed late
    with pytest.raises(MalformedInput, match="after the final frame"):
        b"".join(stream.decrypt_chunks(FILE_KEY, "case-1", "att-1", split_final))


def test_decrypt_file_reads_on_frame_boundaries() -> None:
    encrypted = io.BytesIO()
    stream.encrypt_file(FILE_KEY, "case-1", "att-1", io.BytesIO(DATA), encrypted)
    reads: list[int] = []

    class CountingReader(io.BytesIO):
        def read(self, size: int | None = -1, /) -> bytes:
            piece = super().read(size)
            reads.append(len(piece))
            return piece

    decrypted = io.BytesIO()
    stream.decrypt_file(FILE_KEY, "case-1", "att-1", CountingReader(encrypted.getvalue()),
                        decrypted)
    assert decrypted.getvalue() == DATA
    assert reads == [HEADER_SIZE] + [FRAME_SIZE] * 4 + [0]
