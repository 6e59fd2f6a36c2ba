"""Chunked attachment streams."""

from __future__ import annotations

import io

import pytest

from crypto import envelope, stream
from crypto.errors import DecryptionError, MalformedInput, TruncatedStream
from crypto.stream import CHUNK_SIZE, FRAME_SIZE, HEADER_SIZE, FileKey

KEY = FileKey.generate()


def encrypt(data: bytes, piece: int = 10_000) -> bytes:
    pieces = (data[i : i + piece] for i in range(0, len(data), piece))
    return b"".join(stream.encrypt_chunks(KEY, "case-1", "att-1", pieces))


def decrypt(blob: bytes, piece: int = 7_777, attachment_ref: str = "att-1") -> bytes:
    pieces = [blob[i : i + piece] for i in range(0, len(blob), piece)]
    return b"".join(stream.decrypt_chunks(KEY, "case-1", attachment_ref, pieces))


@pytest.mark.parametrize(
    "size", [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 5]
)
def test_round_trip_and_frame_count(size: int) -> None:
    data = bytes(i % 256 for i in range(size))
    blob = encrypt(data)
    assert len(blob) == HEADER_SIZE + (size // CHUNK_SIZE + 1) * FRAME_SIZE
    assert decrypt(blob) == data
    assert decrypt(blob, piece=FRAME_SIZE + 1) == data


def test_file_objects_round_trip() -> None:
    data = b"x" * (2 * CHUNK_SIZE + 17)
    encrypted, decrypted = io.BytesIO(), io.BytesIO()
    stream.encrypt_file(KEY, "case-1", "att-1", io.BytesIO(data), encrypted)
    encrypted.seek(0)
    stream.decrypt_file(KEY, "case-1", "att-1", encrypted, decrypted)
    assert decrypted.getvalue() == data


def test_every_truncation_is_rejected() -> None:
    blob = encrypt(b"y" * (CHUNK_SIZE + 3))
    for cut in [0, 1, HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + FRAME_SIZE, len(blob) - 1]:
        with pytest.raises(TruncatedStream):
            decrypt(blob[:cut])


def test_extra_data_and_reordering_are_rejected() -> None:
    blob = encrypt(b"z" * (CHUNK_SIZE + 3))
    with pytest.raises(MalformedInput):
        decrypt(blob + blob[HEADER_SIZE:])
    frames = blob[HEADER_SIZE:]
    swapped = blob[:HEADER_SIZE] + frames[FRAME_SIZE:] + frames[:FRAME_SIZE]
    with pytest.raises(DecryptionError):
        decrypt(swapped)


def test_bound_to_attachment_and_key() -> None:
    blob = encrypt(b"secret")
    with pytest.raises(DecryptionError):
        decrypt(blob, attachment_ref="att-2")
    with pytest.raises(DecryptionError):
        b"".join(stream.decrypt_chunks(FileKey.generate(), "case-1", "att-1", [blob]))


def test_headers_are_random() -> None:
    assert encrypt(b"same")[:HEADER_SIZE] != encrypt(b"same")[:HEADER_SIZE]


def test_encryptor_cannot_be_used_after_finish() -> None:
    encryptor = stream.StreamEncryptor(KEY, "case-1", "att-1")
    encryptor.finish()
    with pytest.raises(ValueError):
        encryptor.update(b"more")


def test_file_key_record_round_trip() -> None:
    case_key = envelope.CaseKey.generate()
    record = stream.encrypt_file_key(case_key, "case-1", "rec-1", KEY)
    assert stream.decrypt_file_key(case_key, "case-1", "rec-1", record) == KEY
    wrong = envelope.encrypt_record(case_key, envelope.RecordKind.FILE_KEY, "case-1", "r", b"x")
    with pytest.raises(MalformedInput):
        stream.decrypt_file_key(case_key, "case-1", "r", wrong)
