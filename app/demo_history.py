"""A demonstration history for ``candor seed-demo`` (development only): case rows with metadata
and no content, spread over the last six quarters, so that a newcomer's governance pages show
what a Board will see rather than a page of "<5".

Every such case is marked: its number starts with ``DEMO-`` and its reference with ``demo-``;
it has no report, no key and no grant, so no inbox lists it and no one can open it; it was
opened by staff (no reporter to write to) and carries no open deadline, so no reminder is ever
sent about it. It exists only for the statistics.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from app.extensions import DbSession
from app.models import Case
from app.taxonomy import Taxonomy

DEMO_PREFIX = "DEMO-"
DEMO_CASES = 480
DEMO_DAYS = 540  # about six quarters


def history_size(session: DbSession) -> int:
    return session.scalar(select(func.count()).select_from(Case).where(
        Case.number.startswith(DEMO_PREFIX))) or 0


def has_history(session: DbSession) -> bool:
    return history_size(session) > 0


def add_history(session: DbSession, taxonomy: Taxonomy, today: date, seed: int = 2026) -> int:
    """Insert the demonstration cases (once); returns how many were added."""
    if has_history(session):
        return 0
    rng = random.Random(seed)  # noqa: S311 - demonstration data, not a secret  # nosec B311
    categories = [c.id for c in taxonomy.categories]
    weights = [2, 2, 1, 4, 4, 3, 2, 3, 3, 1, 6][:len(categories)] + [1] * max(
        0, len(categories) - 11)
    rows: list[dict[str, Any]] = []
    for n in range(1, DEMO_CASES + 1):
        received = today - timedelta(days=rng.randrange(30, DEMO_DAYS))
        acknowledged = received + timedelta(days=rng.choice((1, 2, 3, 3, 5, 6, 9)))
        findings = acknowledged + timedelta(days=rng.choice((20, 35, 50, 70, 95, 120)))
        done = findings < today - timedelta(days=1)
        closed = findings + timedelta(days=rng.choice((5, 10, 20)))
        outcome = rng.choices(("substantiated", "partly_substantiated", "not_substantiated",
                               "out_of_scope"), weights=[3, 2, 5, 1])[0] if done else None
        rows.append({
            "case_ref": f"demo-{n:027d}", "number": f"{DEMO_PREFIX}{n:05d}",
            "route": rng.choices(("rso", "executive", "board"), weights=[8, 3, 1])[0],
            "category": rng.choices(categories, weights=weights)[0],
            "taxonomy_version": taxonomy.version, "concerns_rso": rng.random() < 0.04,
            "material_risk": False, "sb53_disclosure": False, "identity_given": False,
            "status": ("closed" if closed < today else "findings") if done else "investigating",
            "received_on": received, "acknowledged_on": acknowledged,
            "triaged_on": acknowledged + timedelta(days=2),
            "findings_on": findings if done else None,
            "closed_on": closed if done and closed < today else None,
            "outcome": outcome, "material_risk_found": False if done else None,
            "origin": "staff", "reopened_count": 0, "key_epoch": 1, "legal_hold": False,
        })
    session.execute(insert(Case), rows)
    return len(rows)
