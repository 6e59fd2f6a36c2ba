"""Reporter codenames, their lookup identifiers and the reporter key pair (SPEC.md 8.10).

A codename is the reporter's only credential: generated (never chosen), shown once, never stored
and never put in a cookie. It finds the case (``codename_lookup_id``) and, with the case's own salt,
derives the reporter's key pair (``derive_reporter_keypair``).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import re
import secrets

from .errors import MalformedInput, UnknownCodenameWord
from .kdf import REPORTER_CODENAME_V1, KdfParams, argon2id
from .keys import ReporterKeyPair
from .primitives import context_hash, subkey

WORD_COUNT = 7776
MIN_WORDS = 7
MAX_WORDS = 16
WORDLIST_BLAKE2B = "323606b363ebdedff9f562cb84c50df1a21cbd4b597ff4566df92bb9f2cefdfd"
LOOKUP_CONTEXT = "candor/v1/codename-lookup"
REPORTER_KEY_CONTEXT = "candor/v1/reporter-box-key"

_SEPARATORS = re.compile(r"[ \t\n\r\x0b\x0c\xa0]+")
_ASCII_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def parse_wordlist(data: bytes) -> tuple[str, ...]:
    """Check the EFF long list file (7776 distinct lines, pinned digest) and return its words."""
    if hashlib.blake2b(data, digest_size=32).hexdigest() != WORDLIST_BLAKE2B:
        raise MalformedInput("word list is not the EFF long list")
    words = tuple(data.decode("ascii").split("\n")[:-1])
    if len(words) != WORD_COUNT or len(set(words)) != WORD_COUNT:
        raise MalformedInput(f"word list must hold {WORD_COUNT} distinct words")
    return words


@functools.cache
def wordlist() -> tuple[str, ...]:
    """The 7776 words of the EFF long list shipped by ``xkcdpass``, checked once per process."""
    resource = importlib.resources.files("xkcdpass") / "static" / "eff-long"
    return parse_wordlist(resource.read_bytes())


@functools.cache
def _word_set() -> frozenset[str]:
    return frozenset(wordlist())


def generate_codename(words: int = MIN_WORDS) -> str:
    """A new codename of ``words`` words (7-16), each drawn uniformly with a CSPRNG."""
    if not MIN_WORDS <= words <= MAX_WORDS:
        raise MalformedInput(f"codenames have {MIN_WORDS}-{MAX_WORDS} words")
    source = wordlist()
    return " ".join(source[secrets.randbelow(WORD_COUNT)] for _ in range(words))


def normalise_codename(typed: str) -> str:
    """The canonical form of a typed codename: ASCII lower case, single spaces, no ends.

    Raises UnknownCodenameWord if a word is not in the list, MalformedInput if there are fewer
    than 7 or more than 16 words.
    """
    if not isinstance(typed, str):
        raise MalformedInput("codename must be text")
    words = [word for word in _SEPARATORS.split(typed.translate(_ASCII_UPPER)) if word]
    known = _word_set()
    if any(word not in known for word in words):
        raise UnknownCodenameWord("codename contains a word that is not in the word list")
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        raise MalformedInput(f"codenames have {MIN_WORDS}-{MAX_WORDS} words")
    return " ".join(words)


def codename_lookup_id(codename: str) -> bytes:
    """The 32-byte identifier that finds a reporter's case (normalises the codename first)."""
    return context_hash(LOOKUP_CONTEXT, normalise_codename(codename).encode("ascii"))


def derive_reporter_keypair(
    codename: str, salt: bytes, params: KdfParams = REPORTER_CODENAME_V1
) -> ReporterKeyPair:
    """The reporter's X25519 key pair from the codename and the case's own 16-byte salt."""
    normalised = normalise_codename(codename).encode("ascii")
    master = argon2id(normalised, salt, params)
    return ReporterKeyPair(subkey(master, REPORTER_KEY_CONTEXT))
