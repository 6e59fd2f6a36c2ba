"""The languages the reporter's side of Candor speaks, and their message catalogues.

One set of catalogues (``translations/<code>/LC_MESSAGES/messages.po`` in this package) serves
the web pages (Flask-Babel), the pages' scripts (the server renders the strings they need) and
the command-line client (``gettext``). The catalogues are compiled from the ``.po`` files in
memory when first used, so no compiled file can be missing or older than its source.

English is the source language: its strings are the message ids, and it has no catalogue.
"""

from __future__ import annotations

import gettext
import io
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

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


def N_(message: str) -> str:  # noqa: N802 (the name the extraction looks for)
    """Marks ``message`` for the catalogues where it is defined; it is translated where shown."""
    return message


def by_code(code: str, with_pseudo: bool = False) -> Language | None:
    languages = SHIPPED + ((PSEUDO_RTL,) if with_pseudo else ())
    return next((language for language in languages if language.code == code), None)


def catalogue_path(code: str) -> Path:
    return TRANSLATIONS / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(path: Path) -> Catalog:
    with path.open("rb") as source:
        catalog: Catalog = read_po(source)
    return catalog


def _compiled(catalog: Catalog) -> Translations:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


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
def translations(code: str) -> gettext.NullTranslations:
    """The catalogue of the language ``code``, compiled from its ``.po`` file; English (the
    message ids) and unknown codes get the identity."""
    if code == PSEUDO_RTL.code:
        catalog = read_catalogue(TEMPLATE)
        for message in catalog:
            if message.id and isinstance(message.id, str):
                message.string = pseudo_rtl(message.id)
            elif message.id:
                message.string = tuple(pseudo_rtl(form) for form in message.id)
        return _compiled(catalog)
    path = catalogue_path(code)
    if code == ENGLISH.code or not path.is_file():
        return NullTranslations()
    return _compiled(read_catalogue(path))
