"""The reporter's language, carried in the URL and nowhere else.

``/fr/report/new`` is ``/report/new`` in French. The prefix is taken off the path before Flask
routes the request and put at the end of the script root, so every URL a page makes with
``url_for`` (links, form actions, redirects, the API addresses its script calls) keeps it,
and every route, session, CSRF check, rate limit and security header sees the same path as
without one. English is at the unprefixed URLs.

Why not a cookie or ``localStorage``: a language remembered on the device is a trace on a seized
or shared one that its owner used Candor. Why not ``Accept-Language``: Tor Browser sends
``en-US`` whatever its user reads, and the header is one more thing to fingerprint. So the
reporter picks a language visibly on each page (``language_links``), and the choice lives only
in the address of the pages they are on.

Staff and governance pages are English, only at their unprefixed addresses.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal

from babel import support
from babel.messages.extract import extract_from_file
from flask import Flask, request, url_for
from flask_babel import Babel, Domain, gettext
from markupsafe import Markup

from app import vocabulary
from app.state import state_of
from app.surfaces import is_staff_path
from candor_reporter import languages
from candor_reporter.languages import ENGLISH, PSEUDO_RTL, SHIPPED, Language

LANGUAGE_KEY = "candor.language"  # the WSGI environ key of the language a prefix chose
BASE_ROOT_KEY = "candor.base_script_root"  # the script root before the prefix was added

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class LanguagePrefix:
    """WSGI middleware: moves a known language prefix from ``PATH_INFO`` to ``SCRIPT_NAME``.
    Only exact prefixes of offered languages count (``/fr`` or ``/fr/...``), and never before
    a staff path (staff pages are English, at one address each); anything else is left for
    Flask to route (or answer 404)."""

    def __init__(self, app: WSGIApp, offered: tuple[Language, ...]) -> None:
        self.app = app
        self.prefixes = {language.code: language for language in offered
                         if language is not ENGLISH}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse
                 ) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        first, _, rest = path.removeprefix("/").partition("/")
        root = environ.get("SCRIPT_NAME", "")
        environ[BASE_ROOT_KEY] = root
        if first in self.prefixes and not is_staff_path("/" + rest):
            environ[LANGUAGE_KEY] = first
            environ["SCRIPT_NAME"] = f"{root}/{first}"
            environ["PATH_INFO"] = "/" + rest
        return self.app(environ, start_response)


def current_language() -> Language:
    """The language of this request's page: its prefix's, English for staff pages."""
    code = request.environ.get(LANGUAGE_KEY)
    if code is None or is_staff_path(request.path):
        return ENGLISH
    return languages.by_code(code, with_pseudo=True) or ENGLISH


class _CatalogueDomain(Domain):  # type: ignore[misc]
    """Flask-Babel's translations, chosen by the request's URL language (the pseudo-locale too,
    which shares English's date formats) and compiled once per process."""

    def get_translations(self) -> support.NullTranslations:
        return _babel_translations(current_language().code)


@cache
def _babel_translations(code: str) -> support.NullTranslations:
    data = languages.compiled_catalogue(code)
    if data is None:
        return support.NullTranslations()
    return support.Translations(io.BytesIO(data), domain=languages.DOMAIN)


class _CandorBabel(Babel):  # type: ignore[misc]
    @cached_property
    def domain_instance(self) -> Domain:
        return _CatalogueDomain(domain=languages.DOMAIN)


def offered_languages(app: Flask) -> tuple[Language, ...]:
    """The shipped languages, and the right-to-left pseudo-locale outside production."""
    testing_layout = state_of(app).config.environment != "production"
    return SHIPPED + ((PSEUDO_RTL,) if testing_layout else ())


def english_url_for(endpoint: str, **values: Any) -> str:
    """``url_for`` without the page's language prefix: for links from a reporter page to the
    staff side, which is English."""
    url: str = url_for(endpoint, **values)
    base: str = request.environ.get(BASE_ROOT_KEY, request.script_root)
    return base + url.removeprefix(request.script_root)


def language_links() -> list[tuple[Language, str]]:
    """This page in each shipped language (the picker's links): the same path and query under
    each language's prefix."""
    base = request.environ.get(BASE_ROOT_KEY, request.script_root)
    query = request.query_string.decode("latin-1")
    links = []
    for language in SHIPPED:
        prefix = "" if language is ENGLISH else "/" + language.code
        links.append((language, f"{base}{prefix}{request.path}" + (f"?{query}" if query else "")))
    return links


SCRIPT_SOURCES = Path(__file__).resolve().parent / "static" / "js"


@cache
def script_messages(folder: Path = SCRIPT_SOURCES) -> tuple[str, ...]:
    """Every message the pages' scripts show (the argument of each ``t("...")`` call, and of
    each ``N_("...")`` that marks one defined apart from where it is shown), read from the
    scripts themselves, so no list of them is kept anywhere else. Only scripts that import
    text.js can show one. Read once per process: the scripts served are fixed when the app
    starts (app/static_files.py builds their versioned copy then)."""
    found: set[str] = set()
    for path in sorted(folder.glob("*.js")):
        if 'from "./text.js"' not in path.read_text(encoding="utf-8"):
            continue
        found.update(
            message for _line, message, _comments, _context in extract_from_file(
                "javascript", str(path), keywords={"t": None, "N_": None})
            if isinstance(message, str) and message)
    return tuple(sorted(found))


def script_text(messages: tuple[str, ...], gettext: Callable[[str], str]) -> dict[str, str]:
    """The scripts' messages in this request's language, keyed by their English; nothing for
    English itself (the scripts fall back to the key), which keeps English pages small."""
    if current_language() is ENGLISH:
        return {}
    return {message: gettext(message) for message in messages}


def page_words_meta(surface: Literal["staff", "reporter"]) -> Markup:
    """The ``page_words`` template global: the reporter's labels and script messages in the
    page's language; staff's as they are."""
    if surface == "staff":
        return vocabulary.page_words_meta(surface)
    return vocabulary.page_words_meta(surface, gettext, script_text(script_messages(), gettext))


def init_app(app: Flask) -> None:
    offered = offered_languages(app)
    _CandorBabel(app, locale_selector=lambda: current_language().locale)
    # {% trans %} blocks are extracted and looked up with their whitespace folded (babel.cfg).
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.wsgi_app = LanguagePrefix(app.wsgi_app, offered)  # type: ignore[method-assign]
    script_messages()  # read the scripts now rather than on the first page
    app.jinja_env.globals.update(current_language=current_language,
                                 language_links=language_links,
                                 english_url_for=english_url_for,
                                 page_words=page_words_meta)

