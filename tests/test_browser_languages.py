# ruff: noqa: RUF001 (the translations' own typography is checked: apostrophes, full-width brackets)
"""The reporter's pages in each shipped language in Chromium, a report filed in French with and
without JavaScript, and the right-to-left layout checked with the pseudo-locale (issue 20)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from app.extensions import db
from app.models import Case
from app.roles import Role
from candor_reporter import languages
from tests.support.staff import Account, StaffLogin

pytestmark = pytest.mark.browser

REPORT = "Les évaluations CBRN du nouveau modèle ont été sautées avant le lancement."
SLOW = 60_000  # the first key derivation in a fresh browser

# On each language's report page: a heading the server wrote, the role label the script
# wrote from page_words, and what the script says when the category is missing.
WORDS = {
    "fr": ("Faire un signalement", "rso1, responsable de la politique de mise à l’échelle "
           "responsable (RSO)", "Choisissez l’objet du signalement."),
    "de": ("Meldung erstatten", "rso1, Responsible Scaling Officer (RSO)",
           "Wählen Sie aus, worum es in der Meldung geht."),
    "ja": ("通報する", "rso1, 責任あるスケーリング責任者（RSO）", "通報の内容を選択してください。"),
}


@pytest.fixture
def recipients(staff: StaffLogin) -> dict[str, Account]:
    return {name: staff.create(name, role) for name, role in (
        ("rso1", Role.RSO), ("board1", Role.BOARD))}


@pytest.mark.parametrize("code", sorted(WORDS))
def test_the_report_page_in_each_language(page: Any, live_server: str, code: str,
                                          recipients: dict[str, Account]) -> None:
    heading, reader, missing_category = WORDS[code]
    page.goto(f"{live_server}/{code}/report/new")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", code)
    expect(html).to_have_attribute("dir", "ltr")
    expect(page.locator("h1")).to_have_text(heading)
    expect(page.locator("#readers-now li")).to_have_text([reader], timeout=SLOW)
    page.fill("#report-text", "x")
    page.click("#report-submit")
    expect(page.locator("#category-error")).to_have_text(missing_category)
    # The picker goes to the same page in another language, by its address alone.
    page.locator("#language-picker summary").click()
    page.locator("#language-picker a[hreflang='en']").click()
    page.wait_for_url(f"{live_server}/report/new")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.context.cookies() == [] or all(
        c["name"] == "candor_reporter" for c in page.context.cookies())
    assert page.evaluate("[localStorage.length, sessionStorage.length]") == [0, 0]


def test_a_report_filed_and_read_in_french_with_javascript(
        page: Any, make_page: Any, live_server: str, app: Flask,
        recipients: dict[str, Account]) -> None:
    page.goto(f"{live_server}/fr/")
    page.click("text=Faire un signalement")
    page.wait_for_url("**/fr/report/new")
    expect(page.locator("#readers-now li")).to_have_count(1, timeout=SLOW)
    page.select_option("#category", "weights-security")
    page.fill("#report-text", REPORT)
    page.click("#report-submit")
    expect(page.locator("#receipt")).to_be_visible(timeout=SLOW)
    expect(page.locator("#receipt-title")).to_have_text("Votre signalement a été envoyé")
    codename = page.locator("#receipt-codename").inner_text().strip()
    assert len(codename.split()) == 7  # the English word list, whatever the page's language
    page.check("#codename-saved")
    page.click("#receipt-continue")
    page.wait_for_url("**/fr/report/case?sent=1")

    returning = make_page()
    returning.goto(f"{live_server}/fr/report/case")
    returning.fill("#codename", codename)
    returning.click("#open-submit")
    expect(returning.locator("#case-view")).to_be_visible(timeout=SLOW)
    expect(returning.locator("#case-status")).to_have_text(
        "Reçu, en attente d’accusé de réception")
    expect(returning.locator("#case-category")).to_have_text("Sécurité des poids des modèles")
    expect(returning.locator("#case-conversation")).to_contain_text(REPORT)
    expect(returning.locator("#case-conversation .message-meta")).to_contain_text("Vous")
    with app.app_context():
        assert db.session.scalars(db.select(Case)).one().category == "weights-security"


def test_a_report_filed_in_french_without_javascript(make_page: Any, live_server: str,
                                                     recipients: dict[str, Account]) -> None:
    page = make_page(java_script_enabled=False)
    assert page.goto(f"{live_server}/fr/report/plain/new").status == 200
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.get_by_label("Votre signalement", exact=True).fill(REPORT)
    page.get_by_label("De quoi s’agit-il ?").select_option("asl3-deployment")
    page.get_by_role("button", name="Chiffrer et envoyer").click()
    page.wait_for_url("**/fr/report/plain/receipt")
    expect(page.locator("h1")).to_have_text("Votre signalement a été envoyé")
    codename = page.locator("#codename-copy").input_value()
    assert len(codename.split()) == 7

    later = make_page(java_script_enabled=False)
    later.goto(f"{live_server}/fr/report/plain/open")
    later.get_by_label("Votre nom de code").fill(codename)
    later.get_by_role("button", name="Ouvrir mon signalement").click()
    expect(later.locator("#case-status")).to_have_text("Reçu, en attente d’accusé de réception")
    expect(later.locator("#messages")).to_contain_text(REPORT)


@pytest.mark.parametrize("width", [1280, 360])
@pytest.mark.parametrize("path", ["/", "/report/new", "/report/plain/new", "/report/case",
                                  "/rights"])
def test_the_layout_mirrors_right_to_left(make_page: Any, live_server: str, width: int,
                                          path: str, recipients: dict[str, Account]) -> None:
    """The pseudo-locale (never offered in production) lays every reporter page out right to
    left: the header's ends swap, notices keep their bar at the start (the right), and nothing
    is wider than the window."""
    page = make_page(viewport={"width": width, "height": 900})
    page.goto(f"{live_server}/{languages.PSEUDO_RTL.code}{path}")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    brand = page.locator(".brand").bounding_box()
    leave = page.locator("#leave-now").bounding_box()
    assert brand and leave
    if brand["y"] == leave["y"] or width >= 1000:  # on one line: the brand is on the right
        assert brand["x"] > leave["x"]
    overflow = page.evaluate("""() => {
      const width = document.documentElement.clientWidth;
      const wide = [...document.querySelectorAll("body *")].filter((node) => {
        const box = node.getBoundingClientRect();
        return box.width > 0 && (box.right > width + 1 || box.left < -1)
          && !node.closest(".skip-link, .visually-hidden, [hidden]");
      });
      return [document.documentElement.scrollWidth - width,
              wide.slice(0, 3).map((node) => node.outerHTML.slice(0, 80))];
    }""")
    assert overflow[0] <= 0 and overflow[1] == [], overflow
    notice = page.locator(".notice").first
    if notice.count():
        border = page.evaluate("""(node) => {
          const style = getComputedStyle(node);
          return [style.borderRightWidth, style.borderLeftWidth];
        }""", notice.element_handle())
        assert border[0] == "4px" and border[1] in ("0px", "")


PAGES = ("/", "/report/new", "/report/case", "/report/plain/new", "/report/plain/open",
         "/rights", "/privacy")
# English words that no Japanese page should show once the page is translated; names Candor
# keeps (Candor, JavaScript, Tor Browser, Responsible Scaling Policy, SB 53, usernames, codes)
# hold none of them.
ENGLISH = re.compile(r"\b(the|and|your|you|with|this|that|what|which|from|will|can)\b", re.I)


@pytest.mark.parametrize("path", PAGES)
def test_every_reporter_page_is_japanese_through_and_through(
        page: Any, live_server: str, path: str, recipients: dict[str, Account]) -> None:
    """Rendered in Chromium, with its scripts run, a Japanese page shows no English sentence
    but what the lab wrote itself (the outside channels, shown as written) and the names
    Candor keeps."""
    page.goto(f"{live_server}/ja{path}")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    if path == "/report/new":
        expect(page.locator("#readers-now li")).to_have_count(1, timeout=SLOW)
    page.wait_for_load_state("networkidle")
    shown = page.evaluate("""() => {
      const copy = document.body.cloneNode(true);
      for (const node of copy.querySelectorAll(
          "#outside-channels, .channels, [hidden], noscript, .language-picker, code")) {
        node.remove();
      }
      return copy.innerText;
    }""")
    leftovers = [line for line in shown.splitlines() if ENGLISH.search(line)]
    assert leftovers == [], leftovers
