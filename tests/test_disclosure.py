"""An attacker who keeps every output one audience can see and combines them.

The attacker here shares no code with app/services/disclosure.py or releases.py: it reads the
packs as printed (JSON), writes its own integer programme over what they say (each printed
count, what "<k" and "*" mean, that a breakdown sums to its total, that the quarter to date
adds months up, that the officers' cases are among the Board's) and solves, with HiGHS, for
the smallest and largest value of every count that must stay hidden: each count from 1 to k-1
of the finest cells (a category or route in a month, a status or finding in a quarter, for
either base), and each count of cases the Board's base holds and the officers' does not. None
may be narrowed inside 0..k-1.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

import numpy as np
from flask import Flask
from scipy.optimize import Bounds, LinearConstraint, milp
from sqlalchemy import insert

from app import vocabulary
from app.extensions import db
from app.models import CaseExclusion
from app.quarters import Quarter
from app.roles import Role
from app.services import packs, statistics
from app.services.releases import Limits
from app.services.statistics import months_of
from app.taxonomy import RSP_V3
from tests.support.case_metadata import case_row, generate
from tests.support.staff import StaffLogin

LIMITS = Limits(5, 10)
CATEGORIES = [c.id for c in RSP_V3.categories]
LABEL_TO_CATEGORY = {c.label: c.id for c in RSP_V3.categories}
ROW_KEYS = {
    "category_by_quarter": ("cat", {c.label: c.id for c in RSP_V3.categories}),
    "route_by_quarter": ("route", {v: k for k, v in statistics.ROUTE_LABELS.items()}),
    "status_by_quarter": ("status", {v: k for k, v in vocabulary.STATUS_LABELS.items()}),
    "outcome_by_quarter": ("outcome", {v: k for k, v in vocabulary.OUTCOME_LABELS.items()}),
}


class Attacker:
    """Keeps every pack it is shown and solves the integer programme over all of them."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.rows: list[tuple[dict[int, int], float, float]] = []
        self.quarters: set[str] = set()
        self._names: list[str] = []

    def var(self, name: str) -> int:
        return self.index.setdefault(name, len(self.index))

    def constrain(self, plus: Iterable[str], low: float, high: float,
                  minus: Iterable[str] = ()) -> None:
        row: dict[int, int] = defaultdict(int)
        for name in plus:
            row[self.var(name)] += 1
        for name in minus:
            row[self.var(name)] -= 1
        self.rows.append((dict(row), low, high))

    def cell(self, terms: list[str], printed: Any, k: int) -> None:
        if isinstance(printed, int):
            self.constrain(terms, printed, printed)
        elif printed == f"<{k}":
            self.constrain(terms, 0, k - 1)
        elif printed == "*":
            self.constrain(terms, k, np.inf)

    @staticmethod
    def terms(base: str, quarter: str, dimension: str, value: str,
              months: Iterable[int] | None) -> list[str]:
        if dimension in ("cat", "route"):
            if base == "board":
                return [f"{base}/{quarter}/{dimension}/{value}/m{m}" for m in (months or
                                                                               (1, 2, 3))]
            return [f"{base}/{quarter}/{dimension}/{value}"]
        return [f"{base}/{quarter}/{dimension}/{value}"]

    def read(self, pack: dict[str, Any]) -> None:
        """What a pack says, in the attacker's own words."""
        base = "officers" if pack["scope"] == "officers" else "board"
        k = pack["k"]
        for column, release in enumerate(pack["releases"]):
            quarter, note = release["quarter"], release["release"]
            if note.startswith("not released"):
                continue
            months: list[int] | None = None
            if note.startswith("quarter to date"):
                last = date.fromisoformat(note.split("up to ")[1].split(",")[0])
                months = [m for m, month in enumerate(months_of(Quarter.parse(quarter)), 1)
                          if month.first_day <= last]
            self.quarters.add(quarter)
            for table in pack["tables"]:
                dimension, keys = ROW_KEYS[table["id"]]
                all_terms: list[str] = []
                for row in table["rows"]:
                    terms = self.terms(base, quarter, dimension, keys[row["label"]], months)
                    all_terms += terms
                    self.cell(terms, row["cells"][column], k)
                if dimension == "outcome":
                    self.cell(all_terms, table["column_totals"][column], k)
                else:
                    self.cell([t for c in CATEGORIES
                               for t in self.terms(base, quarter, "cat", c, months)],
                              table["column_totals"][column], k)

    def relations(self) -> None:
        """What the attacker knows whatever is printed."""
        for quarter in self.quarters:
            for base, suffixes in (("board", [f"/m{m}" for m in (1, 2, 3)]),
                                   ("officers", [""])):
                for s in suffixes:  # each month's categories and routes count the same cases
                    self.constrain([f"{base}/{quarter}/cat/{c}{s}" for c in CATEGORIES], 0, 0,
                                   minus=[f"{base}/{quarter}/route/{r}{s}"
                                          for r in statistics.ROUTES])
                total = [f"{base}/{quarter}/cat/{c}{s}" for c in CATEGORIES for s in suffixes]
                self.constrain([f"{base}/{quarter}/status/{x}" for x in vocabulary.STATUSES],
                               0, 0, minus=total)
                self.constrain([f"{base}/{quarter}/outcome/{o}" for o in vocabulary.OUTCOMES],
                               -np.inf, 0, minus=total)
            for dimension, values in (("cat", CATEGORIES), ("route", statistics.ROUTES)):
                for value in values:  # the officers' cases are among the Board's
                    self.constrain([f"officers/{quarter}/{dimension}/{value}"], -np.inf, 0,
                                   minus=[f"board/{quarter}/{dimension}/{value}/m{m}"
                                          for m in (1, 2, 3)])
            for dimension, values in (("status", vocabulary.STATUSES),
                                      ("outcome", vocabulary.OUTCOMES)):
                for value in values:
                    self.constrain([f"officers/{quarter}/{dimension}/{value}"], -np.inf, 0,
                                   minus=[f"board/{quarter}/{dimension}/{value}"])

    def bounds(self, plus: list[str], minus: list[str], quarter: str) -> tuple[float, float]:
        """Quarters share no case, so only the rows that speak of ``quarter`` matter."""
        rows = [r for r in self.rows if any(self.names[i].split("/")[1] == quarter
                                            for i in r[0])]
        used = sorted({i for r in rows for i in r[0]} | {self.var(t) for t in plus + minus})
        column = {i: c for c, i in enumerate(used)}
        n = len(used)
        objective = np.zeros(n)
        for name in plus:
            objective[column[self.var(name)]] += 1
        for name in minus:
            objective[column[self.var(name)]] -= 1
        matrix = np.zeros((len(rows), n))
        for r, (row, _, _) in enumerate(rows):
            for i, coefficient in row.items():
                matrix[r, column[i]] = coefficient
        constraint = LinearConstraint(matrix, [r[1] for r in rows], [r[2] for r in rows])
        found = []
        for sense in (1, -1):
            result = milp(sense * objective, constraints=[constraint],
                          integrality=np.ones(n), bounds=Bounds(0, 10**6))
            assert result.status == 0, result.message  # the outputs are consistent
            found.append(sense * result.fun)
        return found[0], found[1]

    @property
    def names(self) -> list[str]:
        if len(self._names) != len(self.index):
            self._names = sorted(self.index, key=self.index.__getitem__)
        return self._names


def truth(app: Flask, quarter: Quarter) -> dict[str, int]:
    """The hidden counts, straight from the database."""
    values: dict[str, int] = {}
    far = date(2100, 1, 1)
    with app.app_context():
        for base in ("board", "officers"):
            raw = statistics.gather(db.session, months_of(quarter), base, far, RSP_V3)
            for dimension, table in (("cat", raw.by_category), ("route", raw.by_route)):
                for value, per_month in table.items():
                    if base == "board":
                        for m, count in enumerate(per_month, 1):
                            values[f"{base}/{quarter}/{dimension}/{value}/m{m}"] = count
                    values[f"{base}/{quarter}/{dimension}/{value}"] = sum(per_month)
            for dimension, counter in (("status", raw.by_status),
                                       ("outcome", raw.by_outcome)):
                for value in (vocabulary.STATUSES if dimension == "status"
                              else vocabulary.OUTCOMES):
                    values[f"{base}/{quarter}/{dimension}/{value}"] = counter.get(value, 0)
    return values


def pinned(attacker: Attacker, app: Flask, k: int, public: bool = False) -> list[str]:
    """Every protected count the attacker narrows inside 0..k-1."""
    attacker.relations()
    found = []
    for label in sorted(attacker.quarters):
        values = truth(app, Quarter.parse(label))
        targets: list[tuple[str, list[str], list[str], int]] = []
        for name, value in values.items():
            board_quarter_cell = name.startswith("board/") and name.count("/") == 3 and \
                name.split("/")[2] in ("cat", "route")
            if public and (name.startswith("officers/") or "/m" in name):
                continue
            terms = [f"{name}/m{m}" for m in (1, 2, 3)] if board_quarter_cell else [name]
            targets.append((name, terms, [], value))
            if name.startswith("officers/") and not public:
                board = name.replace("officers/", "board/", 1)
                board_terms = [f"{board}/m{m}" for m in (1, 2, 3)] \
                    if name.split("/")[2] in ("cat", "route") else [board]
                targets.append((f"{board} - officers", board_terms, [name],
                                values[board] - value))
        for name, plus, minus, value in targets:
            if not 1 <= value < k or not all(t in attacker.index for t in plus + minus):
                continue
            low, high = attacker.bounds(plus, minus, label)
            if low > 0.5 or high < k - 1 - 0.5:
                found.append(f"{name} = {value}: attacker finds {low:.0f}..{high:.0f}")
    return found


def show(app: Flask, attacker: Attacker, scopes: Iterable[str], last: Quarter, on: date,
         quarters: int = 4) -> list[dict[str, Any]]:
    seen = []
    with app.app_context():
        for scope in scopes:
            pack = packs.pack(db.session, scope, last, on, RSP_V3,  # type: ignore[arg-type]
                              LIMITS, quarters).as_json()
            attacker.read(pack)
            seen.append(pack)
    return seen


def add_cases(app: Flask, rows: list[dict[str, Any]],
              exclusions: list[dict[str, Any]] = ()) -> None:  # type: ignore[assignment]
    with app.app_context():
        if rows:
            db.session.execute(insert(statistics.Case), rows)
        if exclusions:
            db.session.execute(insert(CaseExclusion), list(exclusions))
        db.session.commit()


# --- scenarios --------------------------------------------------------------------------------
Q1 = Quarter(2026, 1)


def test_within_one_output_a_total_gives_nothing_away(app: Flask) -> None:
    """30 cases of one category and 2 of another: printing the total and the 30 would give
    the 2 away; so would the route table or the status funnel with it."""
    rows = [case_row(i, date(2026, 1, 10 + i % 20), category="weights-security",
                     status="acknowledged", acknowledged_on=date(2026, 1, 12 + i % 20))
            for i in range(1, 31)]
    rows += [case_row(i, date(2026, 2, 2), category="risk-reports") for i in range(31, 33)]
    add_cases(app, rows)
    attacker = Attacker()
    shown = show(app, attacker, ("board", "officers", "public"), Q1, date(2026, 4, 20), 1)
    assert shown[0]["tables"][0]["column_totals"] == [32]  # the Board still sees the total
    assert pinned(attacker, app, 5) == []


def test_an_accused_director_learns_nothing_from_the_two_packs(app: Flask,
                                                               staff: StaffLogin) -> None:
    """A director named as concerned in two cases sees the Board pack (which counts them)
    and the officers' pack (which leaves them out): the difference must stay hidden."""
    director = staff.create("director-accused", Role.BOARD)
    rows = [case_row(i, date(2026, 1 + i % 2, 5 + i % 20), category="governance")
            for i in range(1, 41)]
    rows += [case_row(i, date(2026, 2, 20), category="governance") for i in (41, 42)]
    add_cases(app, rows, exclusions=[{"case_id": i, "staff_id": director.id,
                                      "reason": "concerned"} for i in (41, 42)])
    attacker = Attacker()
    shown = show(app, attacker, ("board", "officers", "public"), Q1, date(2026, 4, 20), 1)
    board, officers = (s["tables"][0]["column_totals"][0] for s in shown[:2])
    assert not (isinstance(board, int) and isinstance(officers, int))
    assert pinned(attacker, app, 5) == []


def test_the_quarter_to_date_and_the_quarter_give_no_month_away(app: Flask) -> None:
    """Quarter to date after January, after February, then the quarter: March's cases are
    the difference, and there are only 2 of them."""
    rows = [case_row(i, date(2026, 1 + (i - 1) // 20, 3 + i % 20), category="other")
            for i in range(1, 41)]  # 20 in January, 20 in February
    rows += [case_row(i, date(2026, 3, 9), category="other") for i in (41, 42)]
    add_cases(app, rows)
    attacker = Attacker()
    for on in (date(2026, 2, 3), date(2026, 3, 2), date(2026, 4, 1), date(2026, 4, 20)):
        show(app, attacker, ("board",), Q1, on, 1)
    show(app, attacker, ("officers", "public"), Q1, date(2026, 4, 20), 1)
    assert pinned(attacker, app, 5) == []


def test_a_released_quarter_does_not_move_from_day_to_day(app: Flask) -> None:
    """After one more acknowledgement, every output of a released quarter is the same."""
    rows = [case_row(i, date(2026, 1 + i % 3, 3 + i % 20), category="other")
            for i in range(1, 60)]
    add_cases(app, rows)
    attacker = Attacker()
    before = show(app, attacker, ("board", "officers", "public"), Q1, date(2026, 4, 20), 1)
    with app.app_context():
        case = db.session.get(statistics.Case, 1)
        assert case is not None
        case.status, case.acknowledged_on = "acknowledged", date(2026, 4, 20)
        db.session.commit()
    after = show(app, attacker, ("board", "officers", "public"), Q1, date(2026, 4, 21), 1)
    assert [p["tables"] for p in after] == [p["tables"] for p in before]
    assert [p["trends"] for p in after] == [p["trends"] for p in before]


def test_a_year_of_releases_pins_nothing(app: Flask, staff: StaffLogin) -> None:
    """A year of cases; every pack of every window, for every audience, the dashboard on the
    first of each month and mid-month, a director named in cases: the attacker holding all
    of it, and the public holding the public report, pin nothing."""
    director = staff.create("director-year", Role.BOARD)
    first = date(2025, 7, 1)
    with app.app_context():
        generate(db.session, 150, first, date(2026, 6, 30), seed=14)
    add_cases(app, [], exclusions=[{"case_id": i, "staff_id": director.id,
                                    "reason": "concerned"} for i in (3, 40, 77, 120)])
    internal, public = Attacker(), Attacker()
    days = [date(2025 + (6 + m) // 12, (6 + m) % 12 + 1, d) for m in range(13) for d in (1, 16)]
    for day in days:
        show(app, internal, ("board",), Quarter.of(day), day)  # the dashboard
        if day.day == 1:
            last = Quarter.last_ended(day)
            for quarters in (1, 2, 4):
                seen = show(app, internal, ("board", "officers", "public"), last, day,
                            quarters)
                public.read(seen[-1])
    assert {"2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"} <= internal.quarters
    assert pinned(internal, app, 5) == []
    assert pinned(public, app, 10, public=True) == []
