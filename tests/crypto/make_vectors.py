"""Regenerate the language-neutral test vectors in tests/crypto/vectors/ (SPEC.md section 11).

Run from the repository root: ``python tests/crypto/make_vectors.py``. The output is deterministic:
every key, salt and nonce comes from ``fixed(label)``; sealed boxes use a fixed ephemeral key and
secretstream a fixed header (both built here from libsodium primitives, test-only), so rerunning
the script reproduces the same files byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import nacl.bindings as sodium

from crypto import codename, directory, encoding, envelope, kdf, keys, stream
from crypto.encoding import VERSION, lp, pad_to, u8
from crypto.envelope import CaseKey, GrantKind, RecordKind
from crypto.kdf import KdfParams
from crypto.proof_of_work import (
    PROOF_OF_WORK_HASHES,
    has_leading_zero_bits,
    proof_of_work_hash,
    solve_proof_of_work,
)
from crypto.stream import CHUNK_SIZE, TAG_FINAL, TAG_MESSAGE, FileKey

OUT = Path(__file__).resolve().parent / "vectors"
CASE = "case-7f3a9c"
OTHER_CASE = "case-7f3a9d"
RECORD = "rec-0001"
ATTACHMENT = "att-0001"
STAFF = "staff-42"
CODENAME = "abacus mutation skirt thimble graceful quench dropper"


def fixed(label: str, size: int = 32) -> bytes:
    """Deterministic test bytes for ``label``."""
    return hashlib.blake2b(label.encode(), digest_size=size, person=b"candor-vectors").digest()


def params_json(p: KdfParams) -> dict[str, int]:
    return {"version": p.version, "opslimit": p.opslimit, "memlimit": p.memlimit}


def entry_json(e: directory.DirectoryEntry) -> dict[str, Any]:
    return {
        "staff_id": e.staff_id,
        "username": e.username,
        "roles": list(e.roles),
        "public_key": e.public_key.hex(),
        "created": e.created,
        "not_after": e.not_after,
        "revoked": e.revoked,
    }


VECTORS: dict[str, dict[str, Any]] = {}


def vector(
    name: str,
    description: str,
    operation: str,
    inputs: dict[str, Any],
    output: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    assert name not in VECTORS, name
    VECTORS[name] = {
        "description": description,
        "operation": operation,
        "input": inputs,
        "output": output or {},
        "expect": {"error": error} if error else "ok",
    }


def deterministic_seal(message: bytes, recipient_public: bytes, label: str) -> bytes:
    """Test-only sealed box with a fixed ephemeral key: the same bytes ``crypto_box_seal`` makes
    with that ephemeral key (ephemeral public key || box with nonce BLAKE2b-192(epk || pk))."""
    ephemeral_secret = fixed(label)
    ephemeral_public = sodium.crypto_scalarmult_base(ephemeral_secret)
    nonce = hashlib.blake2b(ephemeral_public + recipient_public, digest_size=24).digest()
    boxed = sodium.crypto_box(message, nonce, recipient_public, ephemeral_secret)
    return bytes(ephemeral_public + boxed)


def deterministic_stream(
    file_key: FileKey, case_ref: str, attachment_ref: str, content: bytes, label: str
) -> tuple[bytes, list[bytes]]:
    """Test-only stream with a fixed secretstream header. libsodium derives the same state from
    a header in ``init_pull`` as ``init_push`` does from its random one, so pushing on a state
    made by ``init_pull`` gives the frames ``StreamEncryptor`` would give with that header."""
    header = fixed(label, 24)
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, header, bytes(file_key))
    ad = stream.attachment_associated_data(case_ref, attachment_ref)
    frames = []
    whole = len(content) // CHUNK_SIZE * CHUNK_SIZE
    for i in range(0, whole, CHUNK_SIZE):
        chunk = content[i : i + CHUNK_SIZE]
        frames.append(
            sodium.crypto_secretstream_xchacha20poly1305_push(state, chunk, ad, TAG_MESSAGE)
        )
    last = pad_to(content[whole:], CHUNK_SIZE)
    frames.append(sodium.crypto_secretstream_xchacha20poly1305_push(state, last, ad, TAG_FINAL))
    return u8(VERSION) + header, frames


def push_raw(file_key: FileKey, header: bytes, chunks: list[tuple[bytes, int]]) -> bytes:
    """Test-only: frames of arbitrary (chunk, tag) pairs under a fixed header."""
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, header[1:], bytes(file_key))
    ad = stream.attachment_associated_data(CASE, ATTACHMENT)
    return header + b"".join(
        sodium.crypto_secretstream_xchacha20poly1305_push(state, c, ad, t) for c, t in chunks
    )


def kdf_vectors() -> None:
    salt = fixed("staff salt", 16)

    def staff(name: str, description: str, password: str, params: KdfParams) -> None:
        s = kdf.derive_staff_secrets(password, salt, params)
        vector(
            name,
            description,
            "derive_staff_secrets",
            {"password": password, "salt": salt.hex(), "params": params_json(params)},
            {
                "login_secret": s.login_secret.hex(),
                "unwrap_key": bytes(s.unwrap_key).hex(),
            },
        )

    staff(
        "kdf-staff-ok",
        "Login secret and unwrap key, TEST_FAST parameters.",
        "correct horse battery staple",
        kdf.TEST_FAST,
    )
    staff(
        "kdf-staff-nfd-password",
        "A password typed in NFD is normalised to NFC first; "
        "the output equals that of 'Am\u00e9lie'.",
        "Ame\u0301lie",
        kdf.TEST_FAST,
    )
    staff(
        "kdf-staff-password-v1",
        "The production STAFF_PASSWORD_V1 parameters.",
        "correct horse battery staple",
        kdf.STAFF_PASSWORD_V1,
    )

    def rejected(
        name: str,
        description: str,
        params: dict[str, int],
        error: str,
        password: str = "pw",
        salt_bytes: bytes = salt,
    ) -> None:
        vector(
            name,
            description,
            "derive_staff_secrets",
            {"password": password, "salt": salt_bytes.hex(), "params": params},
            error=error,
        )

    fast = params_json(kdf.TEST_FAST)
    rejected(
        "kdf-params-over-ceiling",
        "opslimit above OPSLIMIT_MAX (8).",
        {**fast, "opslimit": 9},
        "KdfParametersRejected",
    )
    rejected(
        "kdf-params-memlimit-over-ceiling",
        "memlimit above MEMLIMIT_MAX (256 MiB).",
        {**fast, "memlimit": 512 * 1024 * 1024},
        "KdfParametersRejected",
    )
    rejected(
        "kdf-params-below-floor",
        "memlimit below the libsodium minimum of 8192 bytes.",
        {**fast, "memlimit": 4096},
        "KdfParametersRejected",
    )
    rejected(
        "kdf-params-opslimit-zero", "opslimit 0.", {**fast, "opslimit": 0}, "KdfParametersRejected"
    )
    rejected(
        "kdf-params-not-kib",
        "memlimit not a whole number of KiB.",
        {**fast, "memlimit": 8193},
        "KdfParametersRejected",
    )
    rejected("kdf-empty-password", "An empty password.", fast, "MalformedInput", password="")
    rejected("kdf-bad-salt-length", "A 15-byte salt.", fast, "MalformedInput", salt_bytes=salt[:15])


def wrap_vectors() -> None:
    private = fixed("staff private key")
    pair = keys.StaffKeyPair(private)
    unwrap_key = kdf.UnwrapKey(fixed("unwrap key"))
    nonce = fixed("wrap nonce", 24)
    wrapped = keys._wrap_private_key_with_nonce(pair, unwrap_key, STAFF, nonce)
    vector(
        "wrap-ok",
        "Wrap a staff private key under an unwrap key with a fixed nonce.",
        "wrap_private_key",
        {
            "private_key": private.hex(),
            "unwrap_key": bytes(unwrap_key).hex(),
            "staff_id": STAFF,
            "nonce": nonce.hex(),
        },
        {"wrapped": wrapped.hex(), "public_key": pair.public_key.hex()},
    )

    def unwrap(
        name: str,
        description: str,
        blob: bytes,
        error: str | None,
        key: bytes = bytes(unwrap_key),
        staff_id: str = STAFF,
    ) -> None:
        output = None
        if error is None:
            output = {"private_key": private.hex(), "public_key": pair.public_key.hex()}
        vector(
            name,
            description,
            "unwrap_private_key",
            {"wrapped": blob.hex(), "unwrap_key": key.hex(), "staff_id": staff_id},
            output,
            error,
        )

    unwrap("unwrap-ok", "Unwrap the key from wrap-ok.", wrapped, None)
    unwrap(
        "wrap-wrong-staff-id",
        "The wrapped key of staff-42 offered for staff-43.",
        wrapped,
        "DecryptionError",
        staff_id="staff-43",
    )
    unwrap(
        "wrap-wrong-key",
        "Unwrap with another key.",
        wrapped,
        "DecryptionError",
        key=fixed("another unwrap key"),
    )
    unwrap("wrap-unknown-version", "Version byte 2.", b"\x02" + wrapped[1:], "UnsupportedVersion")
    unwrap("wrap-truncated", "Last byte missing.", wrapped[:-1], "MalformedInput")
    # The order of the checks (SPEC 8.2): empty, then the version, then the length.
    unwrap("wrap-empty", "No bytes at all.", b"", "MalformedInput")
    unwrap("wrap-short-unknown-version", "Version byte 2 and ten bytes: the version is "
           "checked before the length.", b"\x02" + wrapped[1:11], "UnsupportedVersion")
    tampered = bytearray(wrapped)
    tampered[40] ^= 1
    unwrap("wrap-tampered", "One ciphertext bit flipped.", bytes(tampered), "DecryptionError")


def passkey_vectors() -> None:
    credential = fixed("passkey credential id", 16)
    prf_output = fixed("passkey prf output")
    key = keys.passkey_unwrap_key(credential, prf_output)

    def derive(name: str, description: str, credential_id: bytes, output: bytes,
               error: str | None = None) -> None:
        result = None
        if error is None:
            result = {"prf_input": keys.PASSKEY_PRF_INPUT.hex(),
                      "unwrap_key": bytes(keys.passkey_unwrap_key(credential_id, output)).hex()}
        vector(name, description, "passkey_unwrap_key",
               {"credential_id": credential_id.hex(), "prf_output": output.hex()}, result, error)

    derive("passkey-key-ok", "The unwrap key of a 16-byte credential id and its PRF output.",
           credential, prf_output)
    derive("passkey-key-long-credential-ok", "A credential id of the largest size, 1023 bytes.",
           fixed("passkey long credential", 64) * 15 + fixed("passkey tail", 63), prf_output)
    derive("passkey-key-short-credential", "A 15-byte credential id.", credential[:15],
           prf_output, "MalformedInput")
    derive("passkey-key-long-credential", "A 1024-byte credential id.",
           fixed("passkey long credential", 64) * 16, prf_output, "MalformedInput")
    derive("passkey-key-short-output", "A PRF output of 31 bytes.", credential,
           prf_output[:31], "MalformedInput")

    private = fixed("passkey staff private key")
    pair = keys.StaffKeyPair(private)
    wrapped = keys._wrap_private_key_with_nonce(pair, key, STAFF, fixed("passkey wrap nonce", 24))

    def unwrap(name: str, description: str, credential_id: bytes, output: bytes,
               staff_id: str = STAFF, error: str | None = None) -> None:
        result = None
        if error is None:
            result = {"private_key": private.hex(), "public_key": pair.public_key.hex()}
        vector(name, description, "passkey_unwrap_private_key",
               {"wrapped": wrapped.hex(), "credential_id": credential_id.hex(),
                "prf_output": output.hex(), "staff_id": staff_id}, result, error)

    unwrap("passkey-unwrap-ok", "The copy wrapped under a passkey's PRF output (8.2 format) "
           "unwraps with the same credential id and output.", credential, prf_output)
    unwrap("passkey-unwrap-other-credential", "The same PRF output with another credential id.",
           fixed("passkey other credential", 16), prf_output, error="DecryptionError")
    unwrap("passkey-unwrap-other-output", "Another PRF output (another passkey, or another "
           "input).", credential, fixed("passkey other output"), error="DecryptionError")
    unwrap("passkey-unwrap-other-staff", "The copy of staff-42 offered for staff-43.",
           credential, prf_output, staff_id="staff-43", error="DecryptionError")


def recovery_vectors() -> None:
    salt = fixed("recovery salt", 16)
    canonical = "7K2MQ0XZ4D9RTVWY1B3C5E6F8GHJ"
    typed = " 7k2m-qoxz 4d9r-tvwy-ib3c-5e6f-8ghj\n"
    key = keys.recovery_unwrap_key(canonical, salt)
    vector(
        "recovery-ok",
        "A typed recovery code: lower case, spaces, O for 0 and I for 1.",
        "recovery_unwrap_key",
        {"code": typed, "salt": salt.hex()},
        {"normalised": canonical, "unwrap_key": bytes(key).hex()},
    )
    vector(
        "recovery-too-short",
        "27 symbols.",
        "recovery_unwrap_key",
        {"code": canonical[:-1], "salt": salt.hex()},
        error="MalformedInput",
    )
    vector(
        "recovery-line-endings-ok",
        "CR, LF, tabs and spaces between groups are all removed (SPEC 8.3).",
        "recovery_unwrap_key",
        {"code": "7K2M-Q0XZ\r\n4D9R-TVWY\t1B3C-5E6F 8GHJ\r\n", "salt": salt.hex()},
        {"normalised": canonical, "unwrap_key": bytes(key).hex()},
    )
    for name, description, code in (
        ("recovery-vertical-tab", "A vertical tab is not a separator.",
         canonical[:4] + "\v" + canonical[4:]),
        ("recovery-no-break-space", "A no-break space (U+00A0) is not a separator.",
         canonical[:4] + "\u00a0" + canonical[4:]),
    ):
        vector(name, description, "recovery_unwrap_key", {"code": code, "salt": salt.hex()},
               error="MalformedInput")
    vector(
        "recovery-bad-symbol",
        "U is not in the alphabet.",
        "recovery_unwrap_key",
        {"code": "U" + canonical[1:], "salt": salt.hex()},
        error="MalformedInput",
    )


def recovery_challenge_vectors() -> None:
    staff = keys.StaffKeyPair(fixed("recovery challenge staff private key"))
    other = keys.StaffKeyPair(fixed("recovery challenge other private key"))
    challenge = fixed("recovery challenge")
    prefix = encoding.context(keys.RECOVERY_CHALLENGE_CONTEXT)
    sealed = u8(VERSION) + deterministic_seal(prefix + challenge, staff.public_key, "challenge")

    def open_(name: str, description: str, blob: bytes, private: bytes,
              error: str | None = None) -> None:
        vector(name, description, "open_recovery_challenge",
               {"sealed": blob.hex(), "private_key": private.hex()},
               None if error else {"challenge": challenge.hex()}, error)

    open_("recovery-challenge-ok", "A challenge sealed to the staff key opens to the challenge.",
          sealed, staff.private_key)
    open_("recovery-challenge-wrong-key", "Another key pair cannot open it.", sealed,
          other.private_key, "DecryptionError")
    wrong_context = encoding.context("candor/v1/recovery-challengE")
    open_("recovery-challenge-wrong-context",
          "A sealed box of the right size whose plaintext lacks the challenge context.",
          u8(VERSION) + deterministic_seal(wrong_context + challenge, staff.public_key, "ctx"),
          staff.private_key, "DecryptionError")
    open_("recovery-challenge-truncated", "One byte short.", sealed[:-1], staff.private_key,
          "MalformedInput")
    open_("recovery-challenge-unknown-version", "Version byte 2.", b"\x02" + sealed[1:],
          staff.private_key, "UnsupportedVersion")


def grant_vectors() -> None:
    case_key = CaseKey(fixed("case key"))
    recipient = keys.StaffKeyPair(fixed("recipient private key"))

    def inner(kind: int, case_ref: str, version: int = VERSION) -> bytes:
        return u8(version) + u8(kind) + lp(case_ref.encode()) + bytes(case_key)

    def grant(kind: int, case_ref: str = CASE, version: int = VERSION) -> bytes:
        return u8(VERSION) + deterministic_seal(
            inner(kind, case_ref, version), recipient.public_key, f"ephemeral {kind} {case_ref}"
        )

    def open_(
        name: str,
        description: str,
        blob: bytes,
        kind: str,
        error: str | None = None,
        case_ref: str = CASE,
        private: bytes = recipient.private_key,
    ) -> None:
        vector(
            name,
            description,
            "open_grant",
            {"grant": blob.hex(), "private_key": private.hex(), "case_ref": case_ref, "kind": kind},
            None if error else {"case_key": bytes(case_key).hex()},
            error,
        )

    recipient_grant = grant(GrantKind.RECIPIENT)
    assert envelope.open_grant(recipient_grant, recipient, CASE, GrantKind.RECIPIENT) == case_key
    open_("grant-recipient-ok", "A recipient grant.", recipient_grant, "RECIPIENT")
    open_("grant-reporter-ok", "A reporter grant.", grant(GrantKind.REPORTER), "REPORTER")
    open_("grant-escrow-ok", "An escrow grant.", grant(GrantKind.ESCROW), "ESCROW")
    open_("grant-share-ok", "An SB 53 share's key sealed to an officer (SPEC 8.11).",
          grant(GrantKind.SHARE), "SHARE")
    open_("grant-share-as-recipient", "A share grant presented as a case grant.",
          grant(GrantKind.SHARE), "RECIPIENT", "DecryptionError")
    open_(
        "grant-wrong-kind",
        "An escrow grant presented as a recipient grant.",
        grant(GrantKind.ESCROW),
        "RECIPIENT",
        "DecryptionError",
    )
    open_(
        "grant-wrong-case",
        "A grant for case-7f3a9c presented for case-7f3a9d.",
        recipient_grant,
        "RECIPIENT",
        "DecryptionError",
        case_ref=OTHER_CASE,
    )
    open_(
        "grant-wrong-key",
        "Opened with a key pair it was not sealed to.",
        recipient_grant,
        "RECIPIENT",
        "DecryptionError",
        private=fixed("someone else"),
    )
    open_(
        "grant-truncated",
        "Cut to its first 48 bytes.",
        recipient_grant[:48],
        "RECIPIENT",
        "MalformedInput",
    )
    open_(
        "grant-truncated-tail",
        "Last byte missing: the sealed box fails.",
        recipient_grant[:-1],
        "RECIPIENT",
        "DecryptionError",
    )
    open_(
        "grant-unknown-version",
        "Outer version byte 2.",
        b"\x02" + recipient_grant[1:],
        "RECIPIENT",
        "UnsupportedVersion",
    )
    open_(
        "grant-inner-unknown-kind",
        "Sealed content naming grant kind 9, which no version defines: it is not the kind "
        "asked for, so DecryptionError (not MalformedInput).",
        grant(9),
        "RECIPIENT",
        "DecryptionError",
    )
    open_("grant-empty", "No bytes at all.", b"", "RECIPIENT", "MalformedInput")
    open_(
        "grant-short-unknown-version",
        "Version byte 2 and 40 bytes: the version is checked before the length.",
        b"\x02" + recipient_grant[1:41],
        "RECIPIENT",
        "UnsupportedVersion",
    )
    open_(
        "grant-inner-unknown-version",
        "Sealed content with version byte 2.",
        grant(GrantKind.RECIPIENT, version=2),
        "RECIPIENT",
        "UnsupportedVersion",
    )


def record_vectors() -> None:
    case_key = CaseKey(fixed("case key"))

    def encrypt(name: str, description: str, kind: RecordKind, content: bytes) -> bytes:
        nonce = fixed(f"record nonce {name}", 24)
        record = envelope._encrypt_record_with_nonce(case_key, kind, CASE, RECORD, content, nonce)
        vector(
            name,
            description,
            "encrypt_record",
            {
                "case_key": bytes(case_key).hex(),
                "kind": kind.name,
                "case_ref": CASE,
                "record_ref": RECORD,
                "content": content.hex(),
                "nonce": nonce.hex(),
            },
            {"record": record.hex()},
        )
        return record

    report = encrypt(
        "record-report-ok",
        "A report body.",
        RecordKind.REPORT,
        b"On 3 March the eval for model X was skipped before deployment.",
    )
    encrypt(
        "record-message-utf8-ok",
        "A message with non-ASCII text.",
        RecordKind.MESSAGE,
        "Merci \u2014 \u00e7a suffit. \U0001f512".encode(),
    )
    encrypt(
        "record-file-key-ok",
        "A FILE_KEY record holding a 32-byte file key.",
        RecordKind.FILE_KEY,
        fixed("file key"),
    )
    encrypt("record-empty-ok", "Empty content pads to 256 bytes.", RecordKind.NOTE, b"")
    encrypt("record-share-ok", "An SB 53 share's summary (SPEC 8.11).", RecordKind.SHARE,
            b"What was disclosed: a skipped evaluation. What the lab did: re-ran it.")
    encrypt(
        "record-bucket-boundary-ok",
        "255 bytes fill the 256-byte bucket exactly.",
        RecordKind.IDENTITY,
        b"i" * 255,
    )
    encrypt(
        "record-next-bucket-ok",
        "256 bytes need the 512-byte bucket.",
        RecordKind.FINDINGS,
        b"f" * 256,
    )

    def decrypt(
        name: str,
        description: str,
        record: bytes,
        error: str | None = None,
        kind: str | int = "REPORT",
        case_ref: str = CASE,
        record_ref: str = RECORD,
    ) -> None:
        vector(
            name,
            description,
            "decrypt_record",
            {
                "record": record.hex(),
                "case_key": bytes(case_key).hex(),
                "kind": kind,
                "case_ref": case_ref,
                "record_ref": record_ref,
            },
            None
            if error
            else {
                "content": envelope.decrypt_record(
                    case_key, RecordKind.REPORT, CASE, RECORD, record
                ).hex()
            },
            error,
        )

    decrypt("record-decrypt-ok", "Decrypt the record of record-report-ok.", report)
    decrypt(
        "record-wrong-ad-case",
        "The record moved to another case.",
        report,
        "DecryptionError",
        case_ref=OTHER_CASE,
    )
    decrypt(
        "record-wrong-ad-record",
        "The record presented under another record id.",
        report,
        "DecryptionError",
        record_ref="rec-0002",
    )
    decrypt(
        "record-wrong-ad-kind",
        "A report presented as a note.",
        report,
        "DecryptionError",
        kind="NOTE",
    )
    decrypt("record-unknown-kind", "Kind 99 does not exist.", report, "MalformedInput", kind=99)
    decrypt("record-unknown-version", "Version byte 2.", b"\x02" + report[1:], "UnsupportedVersion")
    decrypt(
        "record-bad-length", "Ciphertext one byte short of a bucket.", report[:-1], "MalformedInput"
    )
    tampered = bytearray(report)
    tampered[100] ^= 0x40
    decrypt("record-tampered", "One ciphertext bit flipped.", bytes(tampered), "DecryptionError")

    def badly_padded(name: str, description: str, padded: bytes) -> None:
        nonce = fixed(f"record nonce {name}", 24)
        record = envelope._encrypt_record_with_nonce(
            case_key, RecordKind.REPORT, CASE, RECORD, b"", nonce, padded=padded
        )
        decrypt(name, description, record, "InvalidPadding")

    badly_padded("record-bad-padding", "The padding marker 0x80 is missing.", b"x" * 256)
    badly_padded(
        "record-noncanonical-padding",
        "Ten bytes padded into the 512-byte bucket.",
        pad_to(b"0123456789", 512),
    )
    badly_padded("record-padding-all-zero", "Padded content is all zero bytes.", bytes(256))


def padding_vectors() -> None:
    for name, content in (("pad-short-ok", b"hello"), ("pad-full-bucket-ok", b"a" * 511)):
        padded = encoding.pad(content)
        vector(
            name,
            f"Pad {len(content)} bytes.",
            "pad",
            {"content": content.hex()},
            {"padded": padded.hex()},
        )
    vector(
        "unpad-ok",
        "Unpad a canonical 256-byte block.",
        "unpad",
        {"padded": encoding.pad(b"hello").hex()},
        {"content": b"hello".hex()},
    )
    vector(
        "unpad-bad-marker",
        "Last non-zero byte is 0x81.",
        "unpad",
        {"padded": (b"hello\x81" + bytes(250)).hex()},
        error="InvalidPadding",
    )
    vector(
        "unpad-not-bucket",
        "300 bytes is not a bucket.",
        "unpad",
        {"padded": (b"hello\x80" + bytes(294)).hex()},
        error="InvalidPadding",
    )


def file_name_vectors() -> None:
    for name, description, file_name, size in (
        ("file-name-sized-ok", "A sized FILE_NAME content: a 4812-byte photo.", "photo.jpg", 4812),
        ("file-name-sized-empty-file-ok", "A sized name of an empty file.", "empty.txt", 0),
        ("file-name-sized-unicode-ok", "A sized name in UTF-8, a size above 2**32.",
         "Protokoll \u2013 M\u00e4rz.pdf", 2**32 + 5),
        ("file-name-sized-largest-ok", "The largest size: 2**53 - 1.", "a", 2**53 - 1),
    ):
        vector(name, description, "encode_file_name", {"name": file_name, "size": size},
               {"content": envelope.encode_file_name(file_name, size).hex()})
    vector("file-name-size-negative", "A size below zero cannot be encoded.", "encode_file_name",
           {"name": "a.txt", "size": -1}, error="MalformedInput")
    vector("file-name-size-too-large", "A size of 2**53 cannot be encoded.", "encode_file_name",
           {"name": "a.txt", "size": 2**53}, error="MalformedInput")

    def decode(name: str, description: str, content: bytes, error: str | None = None) -> None:
        output = None
        if error is None:
            found = envelope.decode_file_name(content)
            output = {"name": found.name, "size": found.size}
        vector(name, description, "decode_file_name", {"content": content.hex()}, output, error)

    sized = envelope.encode_file_name("minutes.pdf", 70000)
    decode("file-name-decode-sized-ok", "A sized name reads back with its size.", sized)
    decode("file-name-decode-plain-ok",
           "A plain name (made before sizes were recorded) has no size.", b"minutes.pdf")
    decode("file-name-decode-plain-empty-ok", "An empty plain name: no name, no size.", b"")
    decode("file-name-decode-unknown-version", "Sized layout version 2 is unknown.",
           b"\x00\x02" + sized[2:], "UnsupportedVersion")
    decode("file-name-decode-truncated", "The size is cut short.", sized[:6], "MalformedInput")
    decode("file-name-decode-marker-only", "Only the marker byte.", b"\x00", "MalformedInput")
    decode("file-name-decode-size-too-large", "A size of 2**53.",
           b"\x00\x01" + (2**53).to_bytes(8, "big") + b"a", "MalformedInput")
    decode("file-name-decode-bad-utf8", "The name is not UTF-8.",
           sized[:10] + b"min\xffutes", "MalformedInput")
    decode("file-name-decode-plain-bad-utf8", "A plain name that is not UTF-8.", b"min\xc3",
           "MalformedInput")


def proof_of_work_vectors() -> None:

    challenge = fixed("proof-of-work challenge", 40)
    for name, description, algorithm, bits in (
        ("proof-of-work-blake2b-ok", "The first nonce solving 8 bits with BLAKE2b-256.",
         "blake2b-256", 8),
        ("proof-of-work-sha256-ok", "The first nonce solving 8 bits with SHA-256.",
         "sha-256", 8),
        ("proof-of-work-sha256-12-bits-ok", "The first nonce solving 12 bits with SHA-256.",
         "sha-256", 12),
        ("proof-of-work-zero-bits-ok", "Zero bits: the first nonce, 0, solves.", "sha-256", 0),
    ):
        nonce = solve_proof_of_work(challenge, bits, algorithm)
        vector(name, description, "solve_proof_of_work",
               {"challenge": challenge.hex(), "bits": bits, "hash": algorithm},
               {"nonce": nonce.hex(),
                "digest": proof_of_work_hash(challenge, nonce, algorithm).hex()})

    def check(name: str, description: str, algorithm: str, nonce: bytes, bits: int) -> None:
        digest = proof_of_work_hash(challenge, nonce, algorithm)
        vector(name, description, "check_proof_of_work",
               {"challenge": challenge.hex(), "nonce": nonce.hex(), "bits": bits,
                "hash": algorithm},
               {"digest": digest.hex(),
                "solves": has_leading_zero_bits(digest, bits)})

    # Bit order: a digest whose first byte is 0x01 has 7 leading zero bits, not 8.
    for algorithm in PROOF_OF_WORK_HASHES:
        counter = next(n for n in range(1 << 20) if proof_of_work_hash(
            challenge, n.to_bytes(8, "big"), algorithm)[0] == 1)
        nonce = counter.to_bytes(8, "big")
        short = {"blake2b-256": "blake2b", "sha-256": "sha256"}[algorithm]
        check(f"proof-of-work-{short}-first-byte-01-solves-7-bits-ok",
              "The most significant bit comes first: 0x01 leads with 7 zero bits.",
              algorithm, nonce, 7)
        check(f"proof-of-work-{short}-first-byte-01-fails-8-bits-ok",
              "... and so does not solve 8.", algorithm, nonce, 8)
    check("proof-of-work-nonce-is-big-endian-ok",
          "The nonce is the 8 bytes as given (here the counter 1, big-endian).", "sha-256",
          (1).to_bytes(8, "big"), 0)


def stream_vectors() -> None:
    file_key = FileKey(fixed("file key"))

    def decrypt(
        name: str,
        description: str,
        blob: bytes,
        content: bytes | None,
        error: str | None = None,
        attachment_ref: str = ATTACHMENT,
    ) -> None:
        output = None
        if content is not None and len(content) > 256:
            output = {
                "content_length": len(content),
                "content_blake2b": hashlib.blake2b(content, digest_size=32).hexdigest(),
            }
        elif content is not None:
            output = {"content": content.hex()}
        vector(
            name,
            description,
            "decrypt_stream",
            {
                "stream": blob.hex(),
                "file_key": bytes(file_key).hex(),
                "case_ref": CASE,
                "attachment_ref": attachment_ref,
            },
            output,
            error,
        )

    short = b"%PDF-1.7 minutes of the 3 March meeting"
    header, frames = deterministic_stream(file_key, CASE, ATTACHMENT, short, "header short")
    one = header + b"".join(frames)
    decrypt("stream-short-ok", "A short file: one FINAL frame of 65553 bytes.", one, short)
    h, f = deterministic_stream(file_key, CASE, ATTACHMENT, b"", "header empty")
    decrypt("stream-empty-ok", "An empty file: one FINAL frame.", h + b"".join(f), b"")
    exact = bytes(i % 251 for i in range(CHUNK_SIZE))
    h, f = deterministic_stream(file_key, CASE, ATTACHMENT, exact, "header exact")
    assert len(f) == 2
    two = h + b"".join(f)
    decrypt(
        "stream-exact-chunk-ok",
        "Exactly 65536 bytes: a MESSAGE frame and an empty FINAL.",
        two,
        exact,
    )
    decrypt(
        "stream-missing-final",
        "Only the MESSAGE frame of stream-exact-chunk-ok.",
        h + f[0],
        None,
        "TruncatedStream",
    )
    decrypt(
        "stream-truncated",
        "stream-short-ok without its last 100 bytes.",
        one[:-100],
        None,
        "TruncatedStream",
    )
    decrypt("stream-header-only", "Just the 25-byte header.", header, None, "TruncatedStream")
    decrypt("stream-short-header", "Ten bytes of header.", header[:10], None, "TruncatedStream")
    # The version is judged as soon as the first byte arrives (SPEC 8.9); no byte, no version.
    decrypt("stream-empty-blob", "No bytes at all.", b"", None, "TruncatedStream")
    decrypt("stream-short-unknown-version", "Version byte 2 and ten bytes: the version is "
            "checked before the length.", b"\x02" + header[1:11], None, "UnsupportedVersion")
    decrypt(
        "stream-data-after-final",
        "One byte after the FINAL frame.",
        one + b"\x00",
        None,
        "MalformedInput",
    )
    decrypt(
        "stream-unknown-version", "Version byte 2.", b"\x02" + one[1:], None, "UnsupportedVersion"
    )
    decrypt(
        "stream-wrong-attachment",
        "Decrypted as another attachment (associated data).",
        one,
        None,
        "DecryptionError",
        attachment_ref="att-0002",
    )
    raw = push_raw(file_key, header, [(b"no marker".ljust(CHUNK_SIZE, b"\x00"), TAG_FINAL)])
    decrypt(
        "stream-bad-padding",
        "FINAL frame without the 0x80 padding marker.",
        raw,
        None,
        "InvalidPadding",
    )
    raw = push_raw(file_key, header, [(pad_to(b"x", CHUNK_SIZE), 1)])
    decrypt("stream-unexpected-tag", "A frame tagged PUSH.", raw, None, "MalformedInput")


def directory_vectors() -> None:
    org = directory.OrganisationSigningKey(fixed("organisation seed"))
    staff = keys.StaffKeyPair(fixed("recipient private key"))
    entry = directory.DirectoryEntry(
        staff_id=STAFF,
        username="rso.jane",
        public_key=staff.public_key,
        created=1767225600,
        not_after=1798761600,
        roles=("recipient", "rso"),
    )
    signed = directory.sign_entry(org, entry)
    vector(
        "directory-sign-ok",
        "Sign a directory entry (Ed25519 is deterministic).",
        "sign_entry",
        {"org_key": org.to_bytes().hex(), "entry": entry_json(entry)},
        {"signed": signed.hex(), "org_verify_key": org.verify_key.hex()},
    )
    revoked = directory.DirectoryEntry(
        staff_id="staff-7",
        username="former.exec",
        public_key=fixed("revoked public"),
        created=1700000000,
        not_after=1800000000,
        revoked=True,
    )
    vector(
        "directory-revoked-ok",
        "A revoked entry with no roles.",
        "sign_entry",
        {"org_key": org.to_bytes().hex(), "entry": entry_json(revoked)},
        {
            "signed": directory.sign_entry(org, revoked).hex(),
            "org_verify_key": org.verify_key.hex(),
        },
    )

    def verify(
        name: str,
        description: str,
        blob: bytes,
        error: str | None = None,
        key: bytes = org.verify_key,
    ) -> None:
        vector(
            name,
            description,
            "verify_entry",
            {"signed": blob.hex(), "org_verify_key": key.hex()},
            None if error else {"entry": entry_json(entry)},
            error,
        )

    def resign(encoded: bytes) -> bytes:
        return encoded + org.sign(lp(directory.ENTRY_CONTEXT.encode()) + encoded)

    verify("directory-verify-ok", "Verify the entry of directory-sign-ok.", signed)
    bad = bytearray(signed)
    bad[-1] ^= 1
    verify(
        "directory-bad-signature", "Last signature byte changed.", bytes(bad), "SignatureInvalid"
    )
    bad = bytearray(signed)
    bad[20] ^= 1
    verify(
        "directory-tampered-entry",
        "One byte of the username changed.",
        bytes(bad),
        "SignatureInvalid",
    )
    verify(
        "directory-wrong-org-key",
        "Verified under another organisation key.",
        signed,
        "SignatureInvalid",
        key=directory.OrganisationSigningKey(fixed("other org")).verify_key,
    )
    verify(
        "directory-unknown-version", "Version byte 2.", b"\x02" + signed[1:], "UnsupportedVersion"
    )
    verify("directory-truncated", "Shorter than a signature.", signed[:64], "MalformedInput")
    encoded = directory.encode_entry(entry)
    verify(
        "directory-trailing-bytes",
        "Correctly signed, but a byte after the revoked flag.",
        resign(encoded + b"\x00"),
        "MalformedInput",
    )
    unsorted = encoded.replace(lp(b"recipient") + lp(b"rso"), lp(b"rso") + lp(b"recipient"))
    assert unsorted != encoded
    verify(
        "directory-roles-unsorted",
        "Correctly signed, roles not in ascending order.",
        resign(unsorted),
        "MalformedInput",
    )
    verify(
        "directory-bad-revoked-flag",
        "Correctly signed, revoked flag 2.",
        resign(encoded[:-1] + b"\x02"),
        "MalformedInput",
    )
    swapped = encoded[:-17] + encoded[-9:-1] + encoded[-17:-9] + encoded[-1:]
    verify(
        "directory-not-after-before-created",
        "Correctly signed, not_after < created.",
        resign(swapped),
        "MalformedInput",
    )
    spaced = encoded.replace(lp(b"rso.jane"), lp(b"rso jane"))
    verify(
        "directory-bad-username",
        "Correctly signed, a space in the username.",
        resign(spaced),
        "MalformedInput",
    )

    vector(
        "org-key-ok",
        "Load a stored organisation signing key.",
        "load_org_key",
        {"org_key": org.to_bytes().hex()},
        {"verify_key": org.verify_key.hex(), "fingerprint": directory.fingerprint(org.verify_key)},
    )
    vector(
        "org-key-unknown-version",
        "Version byte 2.",
        "load_org_key",
        {"org_key": ("02" + org.to_bytes()[1:].hex())},
        error="UnsupportedVersion",
    )
    # The order of the checks (SPEC 8.4): empty, then the version, then the length.
    for name, description, blob, error in (
        ("org-key-empty", "No bytes at all.", b"", "MalformedInput"),
        ("org-key-short-unknown-version", "Version byte 2 and ten bytes: the version is "
         "checked before the length.", b"\x02" + org.to_bytes()[1:11], "UnsupportedVersion"),
        ("org-key-bad-length", "Version 1 and 31 bytes of seed.", org.to_bytes()[:-1],
         "MalformedInput"),
    ):
        vector(name, description, "load_org_key", {"org_key": blob.hex()}, error=error)
    vector(
        "fingerprint-ok",
        "Fingerprint of a staff public key.",
        "fingerprint",
        {"public_key": staff.public_key.hex()},
        {"fingerprint": directory.fingerprint(staff.public_key)},
    )
    vector(
        "fingerprint-bad-length",
        "31-byte key.",
        "fingerprint",
        {"public_key": staff.public_key[:31].hex()},
        error="MalformedInput",
    )


def codename_vectors() -> None:
    typed = "\tAbacus  mutation skirt\u00a0THIMBLE graceful quench dropper \n"
    vector(
        "codename-ok",
        "A typed codename: tabs, capitals, no-break space, extra spaces.",
        "codename_lookup_id",
        {"codename": typed},
        {"normalised": CODENAME, "lookup_id": codename.codename_lookup_id(typed).hex()},
    )
    vector(
        "codename-hyphenated-word-ok",
        "Words with hyphens are words.",
        "codename_lookup_id",
        {"codename": "t-shirt yo-yo drop-down felt-tip zoom abacus zookeeper"},
        {
            "normalised": "t-shirt yo-yo drop-down felt-tip zoom abacus zookeeper",
            "lookup_id": codename.codename_lookup_id(
                "t-shirt yo-yo drop-down felt-tip zoom abacus zookeeper"
            ).hex(),
        },
    )
    vector(
        "codename-unknown-word",
        "'abacusx' is not in the list.",
        "codename_lookup_id",
        {"codename": CODENAME.replace("abacus", "abacusx")},
        error="UnknownCodenameWord",
    )
    vector(
        "codename-unicode-case",
        "KELVIN SIGN is not lower-cased to k (ASCII only).",
        "codename_lookup_id",
        {"codename": CODENAME.replace("skirt", "s\u212airt")},
        error="UnknownCodenameWord",
    )
    vector(
        "codename-too-few-words",
        "Six words.",
        "codename_lookup_id",
        {"codename": " ".join(CODENAME.split()[:6])},
        error="MalformedInput",
    )
    vector(
        "codename-too-many-words",
        "Seventeen words.",
        "codename_lookup_id",
        {"codename": " ".join([*CODENAME.split(), *CODENAME.split(), "zoom", "zoom", "zoom"])},
        error="MalformedInput",
    )
    salt = fixed("case salt", 16)
    for name, params in (
        ("reporter-keypair-ok", kdf.TEST_FAST),
        ("reporter-keypair-v1", kdf.REPORTER_CODENAME_V1),
        ("reporter-keypair-light-v1", kdf.REPORTER_CODENAME_LIGHT_V1),
    ):
        pair = codename.derive_reporter_keypair(CODENAME, salt, params)
        vector(
            name,
            f"Reporter key pair, {params.version=}.",
            "derive_reporter_keypair",
            {"codename": CODENAME.upper(), "salt": salt.hex(), "params": params_json(params)},
            {"private_key": pair.private_key.hex(), "public_key": pair.public_key.hex()},
        )
    vector(
        "reporter-keypair-over-ceiling",
        "memlimit above the ceiling.",
        "derive_reporter_keypair",
        {
            "codename": CODENAME,
            "salt": salt.hex(),
            "params": {"version": 2, "opslimit": 3, "memlimit": 1024 * 1024 * 1024},
        },
        error="KdfParametersRejected",
    )


def build() -> dict[str, str]:
    """Every vector file's name and exact text."""
    VECTORS.clear()
    for make in (
        kdf_vectors,
        wrap_vectors,
        recovery_vectors,
        recovery_challenge_vectors,
        grant_vectors,
        record_vectors,
        padding_vectors,
        file_name_vectors,
        proof_of_work_vectors,
        stream_vectors,
        directory_vectors,
        codename_vectors,
        passkey_vectors,
    ):
        make()
    return {
        f"{name}.json": json.dumps(body, indent=1, ensure_ascii=True) + "\n"
        for name, body in VECTORS.items()
    }


def main() -> None:
    files = build()
    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    for name, text in files.items():
        (OUT / name).write_text(text, encoding="ascii")
    print(f"wrote {len(files)} vectors to {OUT}")


if __name__ == "__main__":
    main()
