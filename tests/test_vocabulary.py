"""The workflow's words live in app/vocabulary.py: every value has its labels there, and the
pages' scripts take labels from the server instead of carrying lists of their own."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from flask.testing import FlaskClient

from app import vocabulary
from app.vocabulary import Outcome, Purpose, Status

SCRIPTS = Path(__file__).resolve().parents[1] / "app" / "static" / "js"


def test_every_value_has_its_labels() -> None:
    assert set(vocabulary.STATUS_LABELS) == set(Status)
    assert set(vocabulary.REPORTER_STATUS_LABELS) == set(Status)
    assert set(vocabulary.OUTCOME_LABELS) == set(Outcome)
    assert set(vocabulary.PURPOSE_LABELS) == set(Purpose)


def status_lists_in(script: str) -> list[str]:
    """What in a script looks like its own table or list of statuses: three or more distinct
    status values used as object keys anywhere in the file, or quoted on one line."""
    values = "|".join(re.escape(s.value) for s in Status)
    found: list[str] = []
    keys = set(re.findall(rf"(?<![\w.])[\"']?({values})[\"']?\s*:", script))
    if len(keys) >= 3:
        found.append(f"keys {sorted(keys)}")
    for number, line in enumerate(script.splitlines(), 1):
        quoted = set(re.findall(rf"[\"'`]({values})[\"'`]", line))
        if len(quoted) >= 3:
            found.append(f"line {number}: {sorted(quoted)}")
    return found


def test_no_page_script_carries_its_own_list_of_statuses() -> None:
    offenders = {path.name: status_lists_in(path.read_text(encoding="utf-8"))
                 for path in sorted(SCRIPTS.glob("*.js"))}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_check_finds_a_table_of_labels() -> None:
    table = ('const STATUS_LABELS = {\n  received: "Received", acknowledged: "Acknowledged",\n'
             '  triaged: "Triaged", closed: "Closed",\n};')
    assert status_lists_in(table)
    assert status_lists_in('const open = ["received", "acknowledged", "triaged"];')
    assert not status_lists_in('if (view.status === "closed") hide("received");')


def _words(page: str) -> dict[str, dict[str, str]]:
    meta = re.search(r'<meta name="candor-words" content="([^"]+)">', page)
    assert meta, "the page carries no words for its script"
    return json.loads(html.unescape(meta.group(1)))


def test_reporter_pages_carry_the_servers_words(client: FlaskClient) -> None:
    words = _words(client.get("/report/new").get_data(as_text=True))
    assert words == vocabulary.page_words("reporter")
    assert words["roles"]["rso"] == "Responsible Scaling Officer"
