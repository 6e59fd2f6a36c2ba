"""Forms that the page's script sends (they have no ``action``) hold passwords, recovery codes
and plaintext. Until the script has bound its handler, the browser must not be able to send
them itself: such a form is ``method="post"`` (never a query string in a URL or a log) and
submits only through ``<button type="submit">`` (what the scripts enable), each served disabled
with ``autocomplete="off"`` (without it, Firefox restores the state the script last left after
a reload, enabled, before the script runs)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _submits(tag: str, attrs: dict[str, str | None]) -> bool:
    """A control that submits its form: a button of no type or type submit, or an input of
    type submit or image."""
    if tag == "button":
        return attrs.get("type", "submit") == "submit"
    return tag == "input" and attrs.get("type") in ("submit", "image")


class FormScan(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str | None]] = []
        self.buttons: list[tuple[str, dict[str, str | None]]] = []
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self.forms.append(found)
            self._open = found.get("id") or f"form {len(self.forms)}"
        elif self._open and _submits(tag, found):
            self.buttons.append((self._open, {"tag": tag, **found}))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def scripted_forms() -> list[tuple[str, FormScan]]:
    scans = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        scan = FormScan()
        scan.feed(path.read_text())
        # a form with neither action nor method would be sent by the browser as a GET to the
        # page itself: it counts as scripted here, and fails; a declared GET filter does not
        scripted = [form for form in scan.forms
                    if "action" not in form and form.get("method") != "get"]
        if scripted:
            scan.forms = scripted
            names = {form.get("id") for form in scripted}
            scan.buttons = [(name, button) for name, button in scan.buttons if name in names]
            scans.append((str(path.relative_to(TEMPLATES)), scan))
    return scans


def test_every_scripted_form_posts_and_starts_disabled() -> None:
    scans = scripted_forms()
    forms = [(name, form) for name, scan in scans for form in scan.forms]
    # the sign-in, recovery, enrolment, activation, password, case and reporter forms
    assert len(forms) >= 20, forms
    for name, form in forms:
        assert form.get("id"), f"{name}: a scripted form needs an id for its script"
        assert form.get("method") == "post", f"{name}#{form.get('id')} must be method=post"
    for name, scan in scans:
        ids = {form["id"] for form in scan.forms}
        with_button = {form_id for form_id, _ in scan.buttons}
        assert ids == with_button, f"{name}: every scripted form has a submit button"
        for form_id, button in scan.buttons:
            where = f"{name}#{form_id}"
            assert button["tag"] == "button" and button.get("type") == "submit", \
                f"{where}: submit only through <button type=\"submit\">, which the script enables"
            assert "disabled" in button, f"{where}: its submit button must start disabled"
            assert button.get("autocomplete") == "off", f"{where}: autocomplete=off on the button"


def test_the_scan_sees_a_form_left_open() -> None:
    scan = FormScan()
    scan.feed('<form id="f"><input name="secret"><button type="submit">Go</button>'
              '<button>Untyped</button><input type="image" src="x"><button type="button">'
              '</form><form action="/x" method="post"><button type="submit">Plain</button></form>')
    assert [form.get("id") for form in scan.forms] == ["f", None]
    assert [(name, button["tag"], "disabled" in button) for name, button in scan.buttons] == [
        ("f", "button", False), ("f", "button", False), ("f", "input", False),
        ("form 2", "button", False)]
