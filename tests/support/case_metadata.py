"""Case metadata rows inserted in bulk, straight into the tables, for statistics tests and
bench/stats.py: no content and no grants, only what the statistics read."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert

from app.extensions import DbSession
from app.models import Case, CaseEvent
from app.taxonomy import RSP_V3

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
STAGES = ("received", "acknowledged", "triaged", "investigating", "findings",
          "corrective_action", "closed")


def case_number(index: int) -> str:
    symbols = []
    for _ in range(5):
        index, digit = divmod(index, 36)
        symbols.append(_ALPHABET[digit])
    return "C-" + "".join(reversed(symbols))


@dataclass
class Generated:
    cases: int
    events: int


def case_row(index: int, received_on: date, status: str = "received", **values: Any
             ) -> dict[str, Any]:
    """A metadata row with the dates its status implies (each stage some days after the last)."""
    row: dict[str, Any] = {
        "id": index, "case_ref": f"c-{index:032x}", "number": case_number(index),
        "route": "rso", "category": "other", "taxonomy_version": RSP_V3.version,
        "concerns_rso": False, "material_risk": False, "sb53_disclosure": False,
        "identity_given": False, "status": status, "received_on": received_on,
        "origin": "reporter", "reopened_count": 0, "key_epoch": 1, "legal_hold": False,
        "acknowledged_on": None, "triaged_on": None, "findings_on": None, "closed_on": None,
        "outcome": None, "material_risk_found": None, "link_kind": None,
    }
    row.update(values)
    return row


def generate(session: DbSession, count: int, first_day: date, last_day: date,
             seed: int = 7, start_id: int = 1) -> Generated:
    """``count`` plausible cases received between the two days, with their events."""
    rng = random.Random(seed)
    categories = [c.id for c in RSP_V3.categories]
    span = (last_day - first_day).days
    cases: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for index in range(start_id, start_id + count):
        received = first_day + timedelta(days=rng.randrange(span + 1))
        stage = rng.choices(range(len(STAGES)), weights=[3, 3, 4, 6, 3, 3, 30])[0]
        row = case_row(index, received, STAGES[stage],
                       route=rng.choices(("rso", "executive", "board"), weights=[8, 3, 1])[0],
                       category=rng.choices(categories, weights=[2, 2, 1, 4, 4, 3, 2, 3, 3,
                                                                  1, 6])[0],
                       concerns_rso=rng.random() < 0.05)
        day = received
        # the stage from which each date is set: acknowledged 1, triaged 2, findings 4, closed 6
        for column, from_stage in (("acknowledged_on", 1), ("triaged_on", 2),
                                   ("findings_on", 4), ("closed_on", 6)):
            if stage >= from_stage:
                day = day + timedelta(days=rng.choice((1, 2, 3, 5, 8, 13, 21, 40)))
                row[column] = day
        if row["findings_on"] is not None:
            row["outcome"] = rng.choices(("substantiated", "partly_substantiated",
                                          "not_substantiated", "out_of_scope"),
                                         weights=[3, 2, 5, 1])[0]
            row["material_risk_found"] = rng.random() < 0.1
            if stage >= 5 and row["outcome"] in ("substantiated", "partly_substantiated"):
                events.append({"case_id": index, "kind": "corrective_action",
                               "occurred_on": row["findings_on"], "visible_to_reporter": True})
            if row["material_risk_found"]:
                events.append({"case_id": index, "kind": "board_notified",
                               "occurred_on": row["findings_on"] + timedelta(
                                   days=rng.choice((0, 1, 2, 5))),
                               "visible_to_reporter": False})
        if rng.random() < 0.03:
            events.append({"case_id": index, "kind": "escalated",
                           "occurred_on": received + timedelta(days=16),
                           "visible_to_reporter": True})
        if rng.random() < 0.02:
            row["link_kind"] = "retaliation"
        cases.append(row)
    for start in range(0, len(cases), 5000):
        session.execute(insert(Case), cases[start:start + 5000])
    for start in range(0, len(events), 5000):
        session.execute(insert(CaseEvent), events[start:start + 5000])
    session.commit()
    return Generated(len(cases), len(events))


# Bytes no page or answer for governance may ever contain (tests/test_governance_access.py).
CIPHERTEXT_MARKER = b"CANDOR-TEST-CIPHERTEXT-" + bytes(range(24))
GRANT_MARKER = b"CANDOR-TEST-GRANT-" + bytes(range(30))


def seeded_case(session: DbSession, index: int, reader_ids: list[int], received_on: date,
                **values: Any) -> Case:
    """A case with a recipient grant for each reader and one report record: stand-ins for
    ciphertext the server never opens anyway."""
    from app.models import CaseGrant, CaseRecord

    case = Case(**{k: v for k, v in case_row(index, received_on, **values).items()
                   if k != "id"})
    case.grants = [CaseGrant(kind="recipient", staff_id=staff_id, grant=GRANT_MARKER,
                             key_epoch=1) for staff_id in reader_ids]
    case.grants.append(CaseGrant(kind="reporter", staff_id=None, grant=GRANT_MARKER,
                                 key_epoch=1))
    case.records = [CaseRecord(record_ref=f"r-{index:032x}", kind="report", author="reporter",
                               visible_to_reporter=True, created_on=received_on, key_epoch=1,
                               ciphertext=CIPHERTEXT_MARKER)]
    session.add(case)
    session.flush()
    return case
