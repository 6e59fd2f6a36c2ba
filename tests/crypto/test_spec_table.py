"""SPEC.md section 11 lists every vector operation with its input and output fields: an
implementer reads the table, not the generator. Every vector file must match its row."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VECTORS = Path(__file__).with_name("vectors")
# Long stream contents are given by length and digest instead (SPEC.md section 11).
STAND_INS = {"content_length": "content", "content_blake2b": "content"}


def _names(cell: str) -> list[list[str]]:
    """The backticked names of a cell, one list per `` / ``-separated alternative."""
    return [re.findall(r"`([a-z_]+)`", part) for part in cell.split(" / ")]


def spec_table() -> dict[str, tuple[set[str], set[str]]]:
    text = (ROOT / "crypto" / "SPEC.md").read_text(encoding="utf-8")
    section = text.split("## 11. Test vectors", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[set[str], set[str]]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        operations, inputs, outputs = (_names(c) for c in cells)
        for i, (operation,) in enumerate(operations):
            pick = min(i, len(inputs) - 1), min(i, len(outputs) - 1)
            rows[operation] = set(inputs[pick[0]]), set(outputs[pick[1]])
    return rows


def test_every_vector_matches_its_row_of_the_spec_table() -> None:
    table = spec_table()
    assert len(table) >= 15
    seen: set[str] = set()
    for path in sorted(VECTORS.glob("*.json")):
        vector = json.loads(path.read_text(encoding="ascii"))
        operation = vector["operation"]
        assert operation in table, f"{path.name}: {operation} is not in SPEC.md section 11"
        inputs, outputs = table[operation]
        given = {STAND_INS.get(name, name) for name in vector["input"]}
        assert given == inputs, f"{path.name}: input {sorted(given)} != SPEC {sorted(inputs)}"
        if vector["expect"] == "ok" and vector.get("output"):
            produced = {STAND_INS.get(name, name) for name in vector["output"]}
            assert produced == outputs, (
                f"{path.name}: output {sorted(produced)} != SPEC {sorted(outputs)}")
        seen.add(operation)
    assert seen == set(table), f"operations with no vector: {sorted(set(table) - seen)}"
