"""The reporter's language: complete catalogues, the URL prefix and nothing stored (issue 20).

The prefix comes off the path before Flask routes the request, so these tests check that what
depends on the path still holds under one: security headers, CSRF, the reporter's own session
cookie, the rate limits, redirects and every address a page gives its script or its forms.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from app.languages import script_messages
from app.roles import Role
from app.security_headers import BASELINE_HEADERS
from app.state import state_of
from candor_reporter import languages
from candor_reporter.cli import language_from_environment, report_group
from tests.support.staff import StaffLogin

PROJECT = Path(__file__).resolve().parent.parent
TRANSLATED = [language for language in languages.SHIPPED if language is not languages.ENGLISH]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "N_": None,
            "t": None}
_PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]")
_TAG = re.compile(r"</?([a-z]+)[^>]*>")
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_CODENAME = re.compile(r'id="codename-copy" readonly[^>]*value="([^"]+)"')


def extracted_messages() -> set[str]:
    """Every message the reporter's sources mark, extracted as `make translations` does."""
    method_map, options_map = [], {}
    section = None
    for line in (PROJECT / "babel.cfg").read_text().splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            method, pattern = line[1:-1].split(":", 1)
            section = pattern.strip()
            method_map.append((section, method.strip()))
            options_map[section] = {}
        elif "=" in line and section and not line.startswith("#"):
            key, value = line.split("=", 1)
            options_map[section][key.strip()] = value.strip()
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(PROJECT), method_map, options_map, keywords=KEYWORDS):
        found.update([message] if isinstance(message, str) else
                     [m for m in message if m])
    return found


@pytest.mark.parametrize("language", TRANSLATED, ids=lambda language: language.code)
def test_every_message_is_translated_in_each_shipped_language(language: languages.Language
                                                              ) -> None:
    """Fails as soon as a source gains a message a shipped catalogue lacks, or a translation is
    empty, fuzzy, or drops, adds or renames a placeholder or a tag."""
    messages = extracted_messages()
    assert len(messages) > 300  # the extraction itself works (babel.cfg read as intended)
    with languages.catalogue_path(language.code).open("rb") as source:
        catalogue = {m.id: m for m in read_po(source) if m.id}
    missing = sorted(m for m in messages if m not in catalogue)
    assert not missing, f"{language.code} lacks: {missing[:5]}"
    for message in messages:
        entry = catalogue[message]
        assert entry.string and not entry.fuzzy, f"{language.code}: {message!r} untranslated"
        assert sorted(_PLACEHOLDER.findall(entry.string)) == sorted(
            _PLACEHOLDER.findall(message)), f"{language.code}: placeholders of {message!r}"
        assert sorted(_TAG.findall(entry.string)) == sorted(_TAG.findall(message)), (
            f"{language.code}: tags of {message!r}")


@pytest.mark.parametrize("language", TRANSLATED, ids=lambda language: language.code)
def test_the_clients_own_reader_reads_the_catalogues_as_babel_does(
        language: languages.Language) -> None:
    """The client reads the catalogues with the standard library alone (it is installed without
    Babel); it must find exactly what Babel finds, fuzzy entries left out."""
    path = languages.catalogue_path(language.code)
    with path.open("rb") as source:
        babel = {m.id: m.string for m in read_po(source) if m.id and m.string and not m.fuzzy}
    ours = {e.id: e.string for e in languages.read_entries(path.read_text(encoding="utf-8"))
            if e.string and not e.fuzzy}
    assert ours == babel
    fuzzy = languages.read_entries('#, fuzzy, python-format\nmsgid "A %(x)s"\nmsgstr "B"\n\n'
                                   'msgid ""\n"long "\n"one"\nmsgstr "\\"lang\\""\n')
    assert fuzzy == [languages.Entry("A %(x)s", "B", True),
                     languages.Entry("long one", '"lang"', False)]
    with pytest.raises(languages.CatalogueError):
        languages.read_entries('msgctxt "x"\nmsgid "a"\nmsgstr "b"\n')


def test_the_scripts_messages_are_found_in_the_scripts() -> None:
    messages = script_messages()
    assert messages, "no t(\"...\") call found in app/static/js"
    assert set(messages) <= extracted_messages()


def test_the_pseudo_locale_mirrors_words_but_not_placeholders() -> None:
    mirrored = languages.pseudo_rtl('Case %(number)s: <a href="%(url)s">open</a>')
    assert "%(number)s" in mirrored and '<a href="%(url)s">' in mirrored
    assert mirrored.count("\u202e") == 3 and mirrored.count("\u202c") == 3


def test_the_command_line_reads_the_usual_environment() -> None:
    assert language_from_environment({"LANG": "fr_FR.UTF-8"}) == "fr"
    assert language_from_environment({"LANGUAGE": "ja:en", "LANG": "de_DE.UTF-8"}) == "ja"
    assert language_from_environment({"LC_ALL": "C", "LANG": "de_DE"}) == "de"
    assert language_from_environment({"LANG": "pt_BR.UTF-8"}) == "en"
    assert language_from_environment({}) == "en"


def test_the_command_line_speaks_french_with_language_fr() -> None:
    result = CliRunner().invoke(report_group, ["--language", "fr", "submit", "--server",
                                               "ftp://candor.example", "--fingerprint", "x"])
    assert result.exit_code == 2
    assert ("indiquez le serveur sous la forme d\u2019une adresse http:// ou https://"
            in result.output)
    english = CliRunner().invoke(report_group, ["--language", "en", "submit", "--server",
                                                "ftp://candor.example", "--fingerprint", "x"])
    assert "give the server as an http:// or https:// address" in english.output
    helped = CliRunner().invoke(report_group, ["--language", "fr", "submit", "--help"])
    assert helped.exit_code == 0
    assert "Chiffrer un signalement ici et le transmettre." in helped.output
    assert "Qui reçoit le signalement." in helped.output


def page_of(client: FlaskClient, path: str, **headers: str) -> tuple[Any, str]:
    response = client.get(path, headers=headers)
    return response, html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize(("prefix", "lang", "words"), [
    ("", "en", "Make a report"), ("/fr", "fr", "Faire un signalement"),
    ("/de", "de", "Meldung erstatten"), ("/ja", "ja", "通報する")])
def test_each_page_in_each_language_keeps_its_prefix(client: FlaskClient, prefix: str,
                                                     lang: str, words: str) -> None:
    response, body = page_of(client, f"{prefix}/report/new")
    assert response.status_code == 200
    assert f'<html lang="{lang}" dir="ltr">' in body and words in body
    # Every address the page gives its script and its links carries the prefix.
    for data in ("data-options-url", "data-submit-url", "data-case-url"):
        url = re.search(rf'{data}="([^"]+)"', body)
        assert url and url.group(1).startswith(f"{prefix}/api/v1/"), data
    assert f'href="{prefix}/report/leave"' in body
    assert f'href="{prefix}/report/plain/new"' in body  # the <noscript> way out
    icon = re.search(r'rel="icon" href="([^"]+)"', body)
    assert icon
    with client.get(icon.group(1)) as served:  # static files are served under it too
        assert served.status_code == 200
    # The picker offers this same page in every language, by URL only.
    for language in languages.SHIPPED:
        target = "" if language is languages.ENGLISH else "/" + language.code
        assert f'href="{target}/report/new"' in body
    for name, value in BASELINE_HEADERS.items():
        assert response.headers[name] == value
    assert response.headers["Cache-Control"] == "no-store"
    assert "lang" not in response.headers.get("Set-Cookie", "").lower()


def test_the_language_is_never_taken_from_the_browser(client: FlaskClient) -> None:
    _, body = page_of(client, "/", **{"Accept-Language": "fr-FR,fr;q=0.9"})
    assert '<html lang="en"' in body and "Make a report" in body
    _, french = page_of(client, "/fr/")
    _, again = page_of(client, "/")  # nothing from the French visit lingers
    assert "Faire un signalement" in french and '<html lang="en"' in again


def test_unknown_prefixes_are_not_languages(client: FlaskClient) -> None:
    assert client.get("/es/report/new").status_code == 404
    assert client.get("/FR/report/new").status_code == 404
    response, body = page_of(client, "/fr/no-such-page")
    assert response.status_code == 404 and "Introuvable" in body


def test_the_pseudo_locale_lays_out_right_to_left_outside_production(
        client: FlaskClient, make_app: Any) -> None:
    _, body = page_of(client, "/en-XB/report/new")
    assert '<html lang="en-XB" dir="rtl">' in body and "\u202eMake a report\u202c" in body
    assert "en-XB" not in body.split('id="language-picker"')[1].split("</details>")[0]
    production = make_app(environment="production", https=True)
    assert production.test_client().get("/en-XB/report/new",
                                        base_url="https://localhost").status_code == 404


def test_staff_pages_are_english_at_one_address(client: FlaskClient) -> None:
    for path in ("/fr/auth/login", "/de/staff/", "/ja/governance/", "/fr/api/v1/staff/cases"):
        assert client.get(path).status_code == 404, path
    _, home = page_of(client, "/fr/")
    assert 'href="/auth/login" lang="en"' in home  # the staff sign-in link leaves French


@pytest.fixture
def recipients(staff: StaffLogin) -> None:
    for name, role in (("rso1", Role.RSO), ("board1", Role.BOARD)):
        staff.create(name, role)


def test_a_report_without_javascript_in_french(app: Flask, client: FlaskClient,
                                               recipients: None) -> None:
    """Form, CSRF, the redirect after filing, the reporter's cookie and the case page, all
    under /fr/."""
    _, form = page_of(client, "/fr/report/plain/new")
    assert 'action="/fr/report/plain/new?csrf_token=' in form
    token = _TOKEN.search(form)
    assert token
    data = {"csrf_token": token.group(1), "route": "rso", "category": "asl3-deployment",
            "text": "Les garde-fous ASL-3 ont été désactivés.", "send": "Chiffrer et envoyer"}
    filed = client.post(f"/fr/report/plain/new?csrf_token={token.group(1)}", data=data)
    assert filed.status_code == 303
    assert filed.headers["Location"].startswith("/fr/report/plain/receipt")
    assert client.get_cookie("candor_reporter") is not None  # the reporter's own cookie
    assert client.get_cookie("candor_staff") is None
    _, receipt = page_of(client, filed.headers["Location"])
    assert "Votre signalement a été envoyé" in receipt
    assert 'id="language-picker"' not in receipt  # a link away would lose the codename
    codename = _CODENAME.search(receipt)
    assert codename

    reader = app.test_client()
    _, open_form = page_of(reader, "/fr/report/plain/open")
    opened = reader.post("/fr/report/plain/open", data={
        "csrf_token": _TOKEN.search(open_form).group(1), "codename": codename.group(1)})
    shown = html.unescape(opened.get_data(as_text=True))
    assert opened.status_code == 200
    assert "Reçu, en attente d\u2019accusé de réception" in shown  # the status, translated
    assert "Mesures de protection du déploiement ASL-3" in shown  # the category too


def test_csrf_is_checked_under_a_prefix(client: FlaskClient) -> None:
    response = client.post("/fr/report/plain/open", data={"codename": "a b c d e f g"})
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400 and "Formulaire expiré" in body
    api = client.post("/de/api/v1/reporter/open", json={"lookup_id": "x"})
    assert api.status_code == 400
    assert api.get_json()["error"] == "Form expired"  # what clients compare stays English
    assert "Formular ist abgelaufen" in api.get_json()["message"]


def test_rate_limits_count_across_languages(make_app: Any) -> None:
    limited = make_app(codename_attempts_per_minute=1).test_client()
    answers = []
    for prefix in ("", "/ja"):
        _, form = page_of(limited, f"{prefix}/report/plain/open")
        answers.append(limited.post(f"{prefix}/report/plain/open", data={
            "csrf_token": _TOKEN.search(form).group(1),
            "codename": "one two three four five six seven"}))
    assert answers[0].status_code == 404
    assert answers[1].status_code == 429 and "Retry-After" in answers[1].headers
    assert "秒待ってから" in answers[1].get_data(as_text=True)


def test_the_notices_in_the_reporters_language(app: Flask, client: FlaskClient) -> None:
    """Candor's default notices are translated; a lab's own text is shown as written, in the
    page's language when the lab wrote one for it."""
    _, rights = page_of(client, "/de/rights")
    assert "Ihre Rechte, wenn Sie ein Anliegen vorbringen" in rights
    _, privacy = page_of(client, "/ja/privacy")
    assert "責任者" in privacy and "事実と認定: 7 年" in privacy and "35 日後" in privacy
    assert 'id="language-picker"' in privacy

    instance = state_of(app).config.instance_path
    (instance / "notice_of_rights.txt").write_text("# Our notice\n\nAsk us.\n", encoding="utf-8")
    _, french = page_of(client, "/fr/rights")
    assert "Our notice" in french  # the lab's only text, as it wrote it
    (instance / "notice_of_rights.fr.txt").write_text("# Notre avis\n\nDemandez-nous.\n",
                                                      encoding="utf-8")
    _, french = page_of(client, "/fr/rights")
    _, english = page_of(client, "/rights")
    assert "Notre avis" in french and "Our notice" in english
    (instance / "privacy-notice.fr.txt").write_text("# Responsable\nExemple.\n",
                                                    encoding="utf-8")
    _, french_privacy = page_of(client, "/fr/privacy")
    assert "<h2>Responsable</h2>" in french_privacy
