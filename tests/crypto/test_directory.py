"""Organisation signing key, directory entries and fingerprints."""

from __future__ import annotations

import dataclasses
import re

import pytest

from crypto import directory, keys
from crypto.errors import MalformedInput, SignatureInvalid, UnsupportedVersion

ORG = directory.OrganisationSigningKey.generate()
ENTRY = directory.DirectoryEntry(
    staff_id="staff-1",
    username="jane",
    public_key=keys.StaffKeyPair.generate().public_key,
    created=1_000,
    not_after=2_000,
    roles=("rso", "recipient", "rso"),
)


def test_sign_verify_round_trip_and_roles_normalised() -> None:
    assert ENTRY.roles == ("recipient", "rso")
    assert directory.verify_entry(ORG.verify_key, directory.sign_entry(ORG, ENTRY)) == ENTRY


def test_signing_key_round_trip() -> None:
    stored = ORG.to_bytes()
    assert len(stored) == 33 and stored[0] == 1
    again = directory.OrganisationSigningKey.from_bytes(stored)
    assert again.verify_key == ORG.verify_key
    assert stored.hex() not in repr(again)
    with pytest.raises(UnsupportedVersion):
        directory.OrganisationSigningKey.from_bytes(b"\x02" + stored[1:])
    with pytest.raises(MalformedInput):
        directory.OrganisationSigningKey.from_bytes(stored[:-1])


def test_other_organisation_key_rejected() -> None:
    signed = directory.sign_entry(ORG, ENTRY)
    other = directory.OrganisationSigningKey.generate()
    with pytest.raises(SignatureInvalid):
        directory.verify_entry(other.verify_key, signed)


@pytest.mark.parametrize(
    "change",
    [
        {"staff_id": "has space"},
        {"username": ""},
        {"roles": ("Admin",)},
        {"roles": tuple(f"r{i}" for i in range(17))},
        {"public_key": bytes(31)},
        {"created": -1},
        {"not_after": 1_000},
        {"not_after": 2**53},
        {"revoked": 1},
    ],
)
def test_invalid_entries_cannot_be_signed(change: dict[str, object]) -> None:
    with pytest.raises(MalformedInput):
        directory.sign_entry(ORG, dataclasses.replace(ENTRY, **change))  # type: ignore[arg-type]


def test_usable_at() -> None:
    assert ENTRY.usable_at(1_000) and ENTRY.usable_at(1_999)
    assert not ENTRY.usable_at(999) and not ENTRY.usable_at(2_000)
    assert not dataclasses.replace(ENTRY, revoked=True).usable_at(1_500)


def test_fingerprint_shape() -> None:
    fp = directory.fingerprint(ORG.verify_key)
    assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4} ){5}[0-9A-HJKMNP-TV-Z]{4}", fp)
    assert fp != directory.fingerprint(ENTRY.public_key)
