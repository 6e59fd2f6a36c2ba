"""Every file in tests/crypto/vectors/ must pass in Python (SPEC.md section 11)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crypto import codename, directory, encoding, envelope, kdf, keys, proof_of_work, stream
from crypto.envelope import CaseKey, GrantKind, RecordKind
from crypto.errors import CryptoError
from tests.crypto.make_vectors import entry_json

VECTORS = sorted((Path(__file__).parent / "vectors").glob("*.json"))

Json = dict[str, Any]


def h(value: str) -> bytes:
    return bytes.fromhex(value)


def params(p: Json) -> kdf.KdfParams:
    return kdf.KdfParams(version=p["version"], opslimit=p["opslimit"], memlimit=p["memlimit"])


def kind(enum: type[GrantKind] | type[RecordKind], value: str | int) -> Any:
    return enum[value] if isinstance(value, str) else value


def derive_staff_secrets(i: Json) -> Json:
    s = kdf.derive_staff_secrets(i["password"], h(i["salt"]), params(i["params"]))
    return {
        "login_secret": s.login_secret.hex(),
        "unwrap_key": bytes(s.unwrap_key).hex(),
    }


def wrap_private_key(i: Json) -> Json:
    key = kdf.UnwrapKey(h(i["unwrap_key"]))
    wrapped = keys._wrap_private_key_with_nonce(
        h(i["private_key"]), key, i["staff_id"], h(i["nonce"])
    )
    pair = keys.unwrap_private_key(wrapped, key, i["staff_id"])
    assert pair.private_key == h(i["private_key"])
    return {"wrapped": wrapped.hex(), "public_key": pair.public_key.hex()}


def unwrap_private_key(i: Json) -> Json:
    pair = keys.unwrap_private_key(
        h(i["wrapped"]), kdf.UnwrapKey(h(i["unwrap_key"])), i["staff_id"]
    )
    return {"private_key": pair.private_key.hex(), "public_key": pair.public_key.hex()}


def recovery_unwrap_key(i: Json) -> Json:
    key = keys.recovery_unwrap_key(i["code"], h(i["salt"]))
    return {"normalised": keys.normalise_recovery_code(i["code"]), "unwrap_key": bytes(key).hex()}


def open_recovery_challenge(i: Json) -> Json:
    pair = keys.BoxKeyPair(h(i["private_key"]))
    return {"challenge": keys.open_recovery_challenge(h(i["sealed"]), pair).hex()}


def open_grant(i: Json) -> Json:
    pair = keys.BoxKeyPair(h(i["private_key"]))
    case_key = envelope.open_grant(h(i["grant"]), pair, i["case_ref"], kind(GrantKind, i["kind"]))
    return {"case_key": bytes(case_key).hex()}


def encrypt_record(i: Json) -> Json:
    args = (CaseKey(h(i["case_key"])), kind(RecordKind, i["kind"]), i["case_ref"], i["record_ref"])
    record = envelope._encrypt_record_with_nonce(*args, h(i["content"]), h(i["nonce"]))
    assert envelope.decrypt_record(*args, record) == h(i["content"])
    return {"record": record.hex()}


def decrypt_record(i: Json) -> Json:
    args = (CaseKey(h(i["case_key"])), kind(RecordKind, i["kind"]), i["case_ref"], i["record_ref"])
    return {"content": envelope.decrypt_record(*args, h(i["record"])).hex()}


def pad(i: Json) -> Json:
    return {"padded": encoding.pad(h(i["content"])).hex()}


def unpad(i: Json) -> Json:
    return {"content": encoding.unpad(h(i["padded"])).hex()}


def decrypt_stream(i: Json) -> Json:
    data = h(i["stream"])
    pieces = [data[n : n + 1000] for n in range(0, len(data), 1000)]  # odd-sized pieces on purpose
    out = b"".join(
        stream.decrypt_chunks(
            stream.FileKey(h(i["file_key"])), i["case_ref"], i["attachment_ref"], pieces
        )
    )
    if len(out) > 256:
        return {
            "content_length": len(out),
            "content_blake2b": hashlib.blake2b(out, digest_size=32).hexdigest(),
        }
    return {"content": out.hex()}


def sign_entry(i: Json) -> Json:
    org = directory.OrganisationSigningKey.from_bytes(h(i["org_key"]))
    e = i["entry"]
    entry = directory.DirectoryEntry(
        staff_id=e["staff_id"],
        username=e["username"],
        roles=tuple(e["roles"]),
        public_key=h(e["public_key"]),
        created=e["created"],
        not_after=e["not_after"],
        revoked=e["revoked"],
    )
    signed = directory.sign_entry(org, entry)
    assert directory.verify_entry(org.verify_key, signed) == entry
    return {"signed": signed.hex(), "org_verify_key": org.verify_key.hex()}


def verify_entry(i: Json) -> Json:
    return {"entry": entry_json(directory.verify_entry(h(i["org_verify_key"]), h(i["signed"])))}


def load_org_key(i: Json) -> Json:
    org = directory.OrganisationSigningKey.from_bytes(h(i["org_key"]))
    assert org.to_bytes() == h(i["org_key"])
    return {
        "verify_key": org.verify_key.hex(),
        "fingerprint": directory.fingerprint(org.verify_key),
    }


def fingerprint(i: Json) -> Json:
    return {"fingerprint": directory.fingerprint(h(i["public_key"]))}


def codename_lookup_id(i: Json) -> Json:
    return {
        "normalised": codename.normalise_codename(i["codename"]),
        "lookup_id": codename.codename_lookup_id(i["codename"]).hex(),
    }


def derive_reporter_keypair(i: Json) -> Json:
    pair = codename.derive_reporter_keypair(i["codename"], h(i["salt"]), params(i["params"]))
    return {"private_key": pair.private_key.hex(), "public_key": pair.public_key.hex()}


def encode_file_name(i: Json) -> Json:
    content = envelope.encode_file_name(i["name"], i["size"])
    assert envelope.decode_file_name(content) == envelope.FileName(i["name"], i["size"])
    return {"content": content.hex()}


def decode_file_name(i: Json) -> Json:
    found = envelope.decode_file_name(h(i["content"]))
    return {"name": found.name, "size": found.size}


def solve_proof_of_work(i: Json) -> Json:
    challenge = h(i["challenge"])
    nonce = proof_of_work.solve_proof_of_work(challenge, i["bits"], i["hash"])
    return {"nonce": nonce.hex(),
            "digest": proof_of_work.proof_of_work_hash(challenge, nonce, i["hash"]).hex()}


def check_proof_of_work(i: Json) -> Json:
    digest = proof_of_work.proof_of_work_hash(h(i["challenge"]), h(i["nonce"]), i["hash"])
    return {"digest": digest.hex(),
            "solves": proof_of_work.has_leading_zero_bits(digest, i["bits"])}


def passkey_unwrap_key(i: Json) -> Json:
    key = keys.passkey_unwrap_key(h(i["credential_id"]), h(i["prf_output"]))
    return {"prf_input": keys.PASSKEY_PRF_INPUT.hex(), "unwrap_key": bytes(key).hex()}


def passkey_unwrap_private_key(i: Json) -> Json:
    key = keys.passkey_unwrap_key(h(i["credential_id"]), h(i["prf_output"]))
    pair = keys.unwrap_private_key(h(i["wrapped"]), key, i["staff_id"])
    return {"private_key": pair.private_key.hex(), "public_key": pair.public_key.hex()}


OPERATIONS: dict[str, Callable[[Json], Json]] = {
    f.__name__: f
    for f in (
        derive_staff_secrets,
        wrap_private_key,
        unwrap_private_key,
        recovery_unwrap_key,
        open_recovery_challenge,
        open_grant,
        encrypt_record,
        decrypt_record,
        pad,
        unpad,
        decrypt_stream,
        encode_file_name,
        decode_file_name,
        solve_proof_of_work,
        check_proof_of_work,
        sign_entry,
        verify_entry,
        load_org_key,
        fingerprint,
        codename_lookup_id,
        derive_reporter_keypair,
        passkey_unwrap_key,
        passkey_unwrap_private_key,
    )
}


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_vector(path: Path) -> None:
    vector = json.loads(path.read_text())
    operation = OPERATIONS[vector["operation"]]
    if vector["expect"] == "ok":
        assert operation(vector["input"]) == vector["output"]
    else:
        with pytest.raises(CryptoError) as caught:
            operation(vector["input"])
        assert type(caught.value).__name__ == vector["expect"]["error"]


def test_committed_vectors_match_the_generator() -> None:
    from tests.crypto import make_vectors

    files = make_vectors.build()
    assert sorted(files) == [p.name for p in VECTORS]
    for path in VECTORS:
        assert path.read_text(encoding="ascii") == files[path.name], path.name


def test_every_operation_has_a_vector() -> None:
    used = {json.loads(p.read_text())["operation"] for p in VECTORS}
    assert used == set(OPERATIONS)
    assert len(VECTORS) >= 80
