"""Codenames, lookup identifiers and reporter key pairs."""

from __future__ import annotations

import collections

import pytest

from crypto import codename, kdf
from crypto.errors import MalformedInput, UnknownCodenameWord

SALT = bytes(16)


def test_wordlist_is_the_eff_long_list() -> None:
    words = codename.wordlist()
    assert len(words) == len(set(words)) == 7776
    assert words[0] == "abacus" and words[-1] == "zoom"


def test_wordlist_checks() -> None:
    good = "\n".join(codename.wordlist()).encode() + b"\n"
    assert codename.parse_wordlist(good) == codename.wordlist()
    with pytest.raises(MalformedInput):
        codename.parse_wordlist(good.replace(b"abacus", b"abaci"))


@pytest.mark.parametrize("words", [7, 8, 16])
def test_generated_codenames_normalise_to_themselves(words: int) -> None:
    name = codename.generate_codename(words)
    assert len(name.split(" ")) == words
    assert codename.normalise_codename(name) == name


@pytest.mark.parametrize("words", [6, 17])
def test_codename_length_limits(words: int) -> None:
    with pytest.raises(MalformedInput):
        codename.generate_codename(words)


def test_generation_uses_the_whole_list() -> None:
    counts = collections.Counter(
        w for _ in range(400) for w in codename.generate_codename(16).split()
    )
    assert len(counts) > 4000  # 6400 draws from 7776 words: about 4350 distinct expected


def test_normalisation() -> None:
    name = "abacus mutation skirt thimble graceful quench dropper"
    assert (
        codename.normalise_codename(
            "  ABACUS\tmutation\n\nskirt\u00a0thimble graceful quench dropper "
        )
        == name
    )
    with pytest.raises(UnknownCodenameWord):
        codename.normalise_codename(name.replace("skirt", "skírt"))
    with pytest.raises(UnknownCodenameWord):
        codename.normalise_codename(name.replace(" ", "\u2003", 1))
    with pytest.raises(MalformedInput):
        codename.normalise_codename("")


def test_lookup_id_and_key_pair() -> None:
    name = codename.generate_codename()
    assert codename.codename_lookup_id(name) == codename.codename_lookup_id(name.upper())
    assert len(codename.codename_lookup_id(name)) == 32
    a = codename.derive_reporter_keypair(name, SALT, kdf.TEST_FAST)
    assert a == codename.derive_reporter_keypair(name.upper(), SALT, kdf.TEST_FAST)
    assert a != codename.derive_reporter_keypair(name, bytes([1] * 16), kdf.TEST_FAST)
    assert a.public_key != codename.codename_lookup_id(name)
