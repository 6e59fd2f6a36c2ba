"""The languages the reporter's side of Candor speaks, and their message catalogues.

One set of catalogues (``translations/<code>/LC_MESSAGES/messages.po`` in this package) serves
the web pages (Flask-Babel), the pages' scripts (the server renders the strings they need) and
the command-line client (``gettext``). They are compiled from the ``.po`` files in memory when
first used, so no compiled file can be missing or older than its source; and with the standard
library alone, so the client installed on its own needs nothing more (``make translations``,
for maintainers, uses Babel to extract and update them).

English is the source language: its strings are the message ids, and it has no catalogue.
"""

from __future__ import annotations

import ast
import gettext
import io
import re
import struct
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
DOMAIN = "messages"


@dataclass(frozen=True)
class Language:
    """``code``: the BCP 47 tag, also the URL prefix (``/fr/report/new``); ``name``: the
    language's own name for itself, as the picker shows it; ``locale``: the Babel locale that
    formats dates and numbers; ``direction``: "ltr" or "rtl"."""

    code: str
    name: str
    locale: str
    direction: str = "ltr"


ENGLISH = Language("en", "English", "en")
SHIPPED: tuple[Language, ...] = (
    ENGLISH,
    Language("fr", "Français", "fr"),
    Language("de", "Deutsch", "de"),
    Language("ja", "日本語", "ja"),
)
# A generated right-to-left pseudo-locale: every English string wrapped in a right-to-left
# override, so it reads mirrored, in a page laid out right to left. It shows whether the layout
# holds in a right-to-left language before one is translated; it is never offered in production.
PSEUDO_RTL = Language("en-XB", "English (right to left, test)", "en", "rtl")

_PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|<[^>]*>|&[a-z]+;")
_RLO, _PDF = "\u202e", "\u202c"
_HEADER = "Content-Type: text/plain; charset=UTF-8\n"


def N_(message: str) -> str:  # noqa: N802 (the name the extraction looks for)
    """Marks ``message`` for the catalogues where it is defined; it is translated where shown."""
    return message


def by_code(code: str, with_pseudo: bool = False) -> Language | None:
    languages = SHIPPED + ((PSEUDO_RTL,) if with_pseudo else ())
    return next((language for language in languages if language.code == code), None)


def catalogue_path(code: str) -> Path:
    return TRANSLATIONS / code / "LC_MESSAGES" / f"{DOMAIN}.po"


@dataclass(frozen=True)
class Entry:
    """One message of a ``.po`` file: its id, its translation ("" if none) and whether it is
    marked fuzzy (a guess that counts as no translation)."""

    id: str
    string: str
    fuzzy: bool


class CatalogueError(ValueError):
    """A ``.po`` file this reader does not understand; the message says where."""


def read_entries(text: str) -> list[Entry]:
    """The messages of a ``.po`` file as Babel writes it (``msgctxt`` and plural forms, which
    Candor does not use, are refused; the header entry, id "", is left out)."""
    entries: list[Entry] = []
    fields: dict[str, str] = {}
    flags: set[str] = set()
    current: str | None = None

    def close() -> None:
        nonlocal current
        if fields.get("msgid"):
            entries.append(Entry(fields["msgid"], fields.get("msgstr", ""), "fuzzy" in flags))
        fields.clear()
        flags.clear()
        current = None

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            close()  # entries are separated by blank lines
        elif line.startswith("#,"):
            flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue  # a comment, or an obsolete entry (#~)
        elif line.startswith('"'):
            if current is None:
                raise CatalogueError(f"line {number}: a string continues nothing")
            fields[current] += _unquote(line, number)
        else:
            keyword, _, rest = line.partition(" ")
            if keyword not in ("msgid", "msgstr"):
                raise CatalogueError(f"line {number}: {keyword} is not supported")
            if keyword == "msgid" and "msgid" in fields:
                close()
            current = keyword
            fields[keyword] = _unquote(rest.strip(), number)
    close()
    return entries


def _unquote(quoted: str, number: int) -> str:
    if not (len(quoted) >= 2 and quoted[0] == quoted[-1] == '"'):
        raise CatalogueError(f"line {number}: expected a quoted string")
    try:
        value = ast.literal_eval(quoted)  # a C-style string: \" \\ \n \t, as in Python
    except (ValueError, SyntaxError):
        raise CatalogueError(f"line {number}: malformed string") from None
    if not isinstance(value, str):
        raise CatalogueError(f"line {number}: malformed string")
    return value


def compiled(messages: dict[str, str]) -> bytes:
    """``messages`` (id to translation) as a GNU ``.mo`` file, UTF-8, without a hash table."""
    pairs = sorted({"": _HEADER, **messages}.items())
    ids = [key.encode() for key, _ in pairs]
    strings = [value.encode() for _, value in pairs]
    count = len(pairs)
    start = 7 * 4 + 16 * count
    offsets: list[int] = []
    data = b""
    for blob in ids + strings:
        offsets += [len(blob), start + len(data)]
        data += blob + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, count, 7 * 4, 7 * 4 + 8 * count, 0, 0)
    return header + struct.pack(f"<{4 * count}I", *offsets) + data


def pseudo_rtl(text: str) -> str:
    """``text`` with each run of words (not its placeholders or tags) in a right-to-left
    override, so that it shows mirrored."""
    pieces: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(text):
        if match.start() > position:
            pieces.append(_RLO + text[position:match.start()] + _PDF)
        pieces.append(match.group())
        position = match.end()
    if position < len(text):
        pieces.append(_RLO + text[position:] + _PDF)
    return "".join(pieces)


@cache
def compiled_catalogue(code: str) -> bytes | None:
    """The ``.mo`` form of language ``code``'s catalogue (its translated, non-fuzzy messages),
    or of the pseudo-locale; None for English and unknown codes."""
    if code == PSEUDO_RTL.code:
        template = read_entries(TEMPLATE.read_text(encoding="utf-8"))
        return compiled({entry.id: pseudo_rtl(entry.id) for entry in template})
    path = catalogue_path(code)
    if code == ENGLISH.code or by_code(code) is None or not path.is_file():
        return None
    entries = read_entries(path.read_text(encoding="utf-8"))
    return compiled({e.id: e.string for e in entries if e.string and not e.fuzzy})


def translations(code: str) -> gettext.NullTranslations:
    """The catalogue of the language ``code`` for ``gettext``; English (the message ids) and
    unknown codes get the identity."""
    data = compiled_catalogue(code)
    return gettext.NullTranslations() if data is None else gettext.GNUTranslations(
        io.BytesIO(data))
