"""Overhead of ``crypto/`` against raw PyNaCl calls doing the same work.

Usage: ``.venv/bin/python bench/crypto_overhead.py [--seconds S] [--json PATH]``

Each operation runs twice on the same sizes: through Candor's protocol library (type and length
checks, associated data, padding, framing) and as the bare ``nacl.bindings`` primitive it is
built on, with the associated data and padded plaintext already made. The figure is time per
call, Candor over raw (goal <= 1.2): what the library adds on top of the cryptography. Each side
is the best of three runs; on a shared machine the ratios move by about 0.1 from run to run.

- record: ``encrypt_record`` / ``decrypt_record`` of a 4 KiB report (an 8 KiB bucket) against
  XChaCha20-Poly1305 of the padded bytes;
- grant: ``seal_case_key`` / ``open_grant`` against a sealed box of the same length;
- stream: ``StreamEncryptor`` / ``StreamDecryptor`` over 1 MiB against secretstream push/pull of
  the same 64 KiB chunks (the decryptor is given the stream in one piece and cuts the frames out
  itself; the raw side gets the frames already cut);
- directory: ``verify_entry`` of a signed entry against ``crypto_sign_open`` of the same bytes.

Where the record overhead goes. A record costs about 4-5 µs on top of the AEAD, much the same
at any size: about a third of the AEAD of a 4 KiB report's 8 KiB bucket, so record decrypt stays
above the goal (about 1.4) and record encrypt at or just above it (1.2-1.3); both fall towards 1
for records of tens of KiB (about 1.1 at 60 KB). Every part of it is a check or an encoding the
protocol requires (SPEC.md 5.3 and 8.8), each done once and in C where the standard library
allows; the script prints what each costs on this machine (with load average about 2 on 2 cores):

- the associated data, with both identifiers checked to be canonical (about 1.5 µs);
- padding to the bucket (about 1.3 µs) or, on decryption, the canonical-padding check: the
  last 0x80 found with ``rfind``, the zeros after it compared with ``endswith``, then the bucket
  checked (about 1.3 µs);
- the record's version and padded length checked before decryption (about 0.5 µs), and the
  version and nonce put in front of the ciphertext or cut from it (about 0.5 µs: PyNaCl takes
  and gives only ``bytes``, so the ciphertext is copied once).

Sealing a grant does not add an X25519 multiplication to check that the recipient key is not of
low order (SPEC.md 8.7): ``crypto_box_seal``'s own key agreement refuses such a key, which
``crypto.primitives`` confirms once at import (and falls back to the separate check, about
35 µs per seal, on a libsodium that does not).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from _report import Report, arguments
from nacl import bindings as sodium

from crypto import directory, encoding, envelope, keys, stream

GOAL = 1.2
CASE, RECORD, ATTACHMENT = "c-" + "0" * 32, "r-" + "1" * 32, "a-" + "2" * 32


def per_call(work: Callable[[], object], seconds: float) -> float:
    """Seconds per call: the best of three runs of ``seconds / 3`` each."""
    best = float("inf")
    for _ in range(3):
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds / 3:
            work()
            count += 1
        best = min(best, elapsed / count)
    return best


def records() -> dict[str, tuple[Callable[[], object], Callable[[], object]]]:
    case_key = envelope.CaseKey.generate()
    raw_key, text = bytes(case_key), b"x" * 4096
    kind = envelope.RecordKind.REPORT
    record = envelope.encrypt_record(case_key, kind, CASE, RECORD, text)
    ad = envelope.record_associated_data(kind, CASE, RECORD)
    padded, nonce = encoding.pad(text), sodium.randombytes(24)
    raw = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(padded, ad, nonce, raw_key)
    return {
        "record encrypt, 4 KiB": (
            lambda: envelope.encrypt_record(case_key, kind, CASE, RECORD, text),
            lambda: sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
                padded, ad, sodium.randombytes(24), raw_key)),
        "record decrypt, 4 KiB": (
            lambda: envelope.decrypt_record(case_key, kind, CASE, RECORD, record),
            lambda: sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(raw, ad, nonce, raw_key)),
    }


def record_checks() -> dict[str, Callable[[], object]]:
    """The parts of ``encrypt_record`` / ``decrypt_record`` beyond the AEAD (see the docstring)."""
    kind, text = envelope.RecordKind.REPORT, b"x" * 4096
    padded = encoding.pad(text)
    record = envelope.encrypt_record(envelope.CaseKey.generate(), kind, CASE, RECORD, text)
    return {
        "associated data": lambda: envelope.record_associated_data(kind, CASE, RECORD),
        "padding": lambda: encoding.pad(text),
        "padding check": lambda: encoding.unpad(padded),
        "record shape check": lambda: envelope.check_record_shape(record),
        "nonce and ciphertext cut out": lambda: (record[1:25], record[25:]),
    }


def grants() -> dict[str, tuple[Callable[[], object], Callable[[], object]]]:
    case_key = envelope.CaseKey.generate()
    pair = keys.BoxKeyPair.generate()
    grant_kind = envelope.GrantKind.RECIPIENT
    grant = envelope.seal_case_key(case_key, pair.public_key, CASE, grant_kind)
    plain = bytes(len(grant) - 1 - sodium.crypto_box_SEALBYTES)
    raw = sodium.crypto_box_seal(plain, pair.public_key)
    return {
        "grant seal": (
            lambda: envelope.seal_case_key(case_key, pair.public_key, CASE, grant_kind),
            lambda: sodium.crypto_box_seal(plain, pair.public_key)),
        "grant open": (
            lambda: envelope.open_grant(grant, pair, CASE, grant_kind),
            lambda: sodium.crypto_box_seal_open(raw, pair.public_key, pair.private_key)),
    }


def streams() -> dict[str, tuple[Callable[[], object], Callable[[], object]]]:
    file_key = stream.FileKey.generate()
    raw_key = bytes(file_key)
    ad = stream.attachment_associated_data(CASE, ATTACHMENT)
    data = sodium.randombytes(1024 * 1024)
    pieces = [data[i:i + stream.CHUNK_SIZE] for i in range(0, len(data), stream.CHUNK_SIZE)]
    message, final = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE, \
        sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL

    def candor_encrypt() -> list[bytes]:
        encryptor = stream.StreamEncryptor(file_key, CASE, ATTACHMENT)
        frames = [encryptor.header]
        for piece in pieces:
            frames += encryptor.update(piece)
        frames.append(encryptor.finish())
        return frames

    def raw_encrypt() -> list[bytes]:
        state = sodium.crypto_secretstream_xchacha20poly1305_state()
        frames = [sodium.crypto_secretstream_xchacha20poly1305_init_push(state, raw_key)]
        frames += [sodium.crypto_secretstream_xchacha20poly1305_push(state, piece, ad, message)
                   for piece in pieces]
        frames.append(sodium.crypto_secretstream_xchacha20poly1305_push(
            state, bytes(stream.CHUNK_SIZE), ad, final))
        return frames

    encrypted = b"".join(candor_encrypt())
    raw_frames = raw_encrypt()

    def candor_decrypt() -> None:
        decryptor = stream.StreamDecryptor(file_key, CASE, ATTACHMENT)
        decryptor.update(encrypted)
        decryptor.finish()

    def raw_decrypt() -> None:
        state = sodium.crypto_secretstream_xchacha20poly1305_state()
        sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, raw_frames[0], raw_key)
        for frame in raw_frames[1:]:
            sodium.crypto_secretstream_xchacha20poly1305_pull(state, frame, ad)

    return {"stream encrypt, 1 MiB": (candor_encrypt, raw_encrypt),
            "stream decrypt, 1 MiB": (candor_decrypt, raw_decrypt)}


def directory_entries() -> dict[str, tuple[Callable[[], object], Callable[[], object]]]:
    org = directory.OrganisationSigningKey.generate()
    entry = directory.DirectoryEntry(staff_id="7", username="rso1",
                                     public_key=keys.BoxKeyPair.generate().public_key,
                                     created=1_700_000_000, not_after=1_900_000_000,
                                     roles=("rso",))
    signed = directory.sign_entry(org, entry)
    encoded, signature = signed[:-64], signed[-64:]
    message = signature + directory._signed_message(encoded)
    return {"directory entry verify": (
        lambda: directory.verify_entry(org.verify_key, signed),
        lambda: sodium.crypto_sign_open(message, org.verify_key))}


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per operation and side")
    options = parser.parse_args()
    report = Report("crypto_overhead", "crypto/ against raw PyNaCl for the same work")
    for group in (records, grants, streams, directory_entries):
        for name, (candor, raw) in group().items():
            ours, theirs = per_call(candor, options.seconds), per_call(raw, options.seconds)
            ratio = ours / theirs
            report.figure(f"{name}: Candor/raw time", ratio, "", goal=f"<= {GOAL}",
                          met=ratio <= GOAL, fmt="{:.2f}",
                          note=f"{ours * 1e6:.1f} µs against {theirs * 1e6:.1f} µs per call")
    costs = ", ".join(f"{name} {per_call(work, options.seconds / 3) * 1e6:.2f} µs"
                      for name, work in record_checks().items())
    report.note(f"What a 4 KiB record adds to the AEAD, per call: {costs}")
    report.write(options.json)


if __name__ == "__main__":
    main()
