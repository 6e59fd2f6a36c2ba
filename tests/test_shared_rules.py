"""Rules written in both Python and JavaScript run the same vectors (tests/vectors/rules/): who
reads a report, and the file name kept for an attachment. Python here; Chromium below, through
app/static/js/rules.js, the module every page takes them from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from candor_reporter import protocol
from candor_reporter.protocol import NO_BOARD_FOR_RSO_REPORT, NoReaders, Reader

RULES = Path(__file__).parent / "vectors" / "rules"
READERS = json.loads((RULES / "readers.json").read_text(encoding="ascii"))["cases"]
FILE_NAMES = json.loads((RULES / "file-names.json").read_text(encoding="ascii"))["cases"]
SHARERS = json.loads((RULES / "sb53-sharers.json").read_text(encoding="ascii"))["cases"]


def _directory(case: dict[str, Any]) -> dict[int, Reader]:
    return {e["staff_id"]: Reader(e["staff_id"], f"staff{e['staff_id']}", tuple(e["roles"]),
                                  bytes(32)) for e in case["directory"]}


def _python_readers(case: dict[str, Any]) -> dict[str, Any]:
    directory = _directory(case)
    try:
        readers = protocol.expected_readers(directory, case["route"], case["concerns_rso"],
                                            case["concerned"])
    except NoReaders as refused:
        reason = ("no_board_for_rso_report" if str(refused) == NO_BOARD_FOR_RSO_REPORT
                  else "no_readers")
        return {"error": reason}
    return {"now": [r.staff_id for r in readers.now],
            "on_escalation": [r.staff_id for r in readers.on_escalation]}


@pytest.mark.parametrize("case", READERS, ids=[c["description"][:60] for c in READERS])
def test_readers_rule_in_python(case: dict[str, Any]) -> None:
    assert _python_readers(case) == case["expect"]


@pytest.mark.parametrize("case", SHARERS, ids=[c["description"][:60] for c in SHARERS])
def test_sb53_sharing_rule_in_python(case: dict[str, Any]) -> None:
    sharers = protocol.sb53_sharers(_directory(case), case["concerns_rso"], case["concerned"])
    assert [r.staff_id for r in sharers] == case["expect"]


@pytest.mark.parametrize("case", FILE_NAMES, ids=[c["description"][:60] for c in FILE_NAMES])
def test_file_name_rule_in_python(case: dict[str, Any]) -> None:
    assert protocol.safe_file_name(case["name"]) == case["expect"]


RUN_IN_BROWSER = r"""
async ({ readers, fileNames, sharers }) => {
  const rules = await import("/static/js/rules.js");
  const readerResults = readers.map((c) => {
    const entries = c.directory.map((e) => ({ staffId: e.staff_id, roles: e.roles }));
    try {
      const got = rules.expectedReaders(entries, c.route, c.concerns_rso, c.concerned);
      const ids = (list) => list.map((e) => e.staffId);
      return { now: ids(got.now), on_escalation: ids(got.onEscalation) };
    } catch (error) {
      if (!(error instanceof rules.NoReaders)) throw error;
      return { error: error.reason };
    }
  });
  const entriesOf = (c) => c.directory.map((e) => ({ staffId: e.staff_id, roles: e.roles }));
  return {
    readers: readerResults,
    fileNames: fileNames.map((c) => rules.safeFileName(c.name)),
    sharers: sharers.map((c) => rules.sb53Sharers(entriesOf(c), c.concerns_rso, c.concerned)
      .map((e) => e.staffId)),
  };
}
"""


@pytest.mark.browser
def test_the_same_rules_in_chromium(page: Any, live_server: str) -> None:
    page.goto(live_server + "/")
    results = page.evaluate(RUN_IN_BROWSER, {"readers": READERS, "fileNames": FILE_NAMES,
                                             "sharers": SHARERS})
    assert results["readers"] == [c["expect"] for c in READERS]
    assert results["fileNames"] == [c["expect"] for c in FILE_NAMES]
    assert results["sharers"] == [c["expect"] for c in SHARERS]
