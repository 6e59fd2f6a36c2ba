"""Disclosure control over everything one audience holds: the check made before each release.

The rule, in one sentence: **no one holding every release made to an audience (and every release
made to a wider one) can work out, by solving the integer programme those releases define, that
a protected count lies anywhere narrower than 0 to k-1.**

Vocabulary
----------
- A *variable* is one of the finest counts figures are built from (for example: cases of one
  category received in one month, in the Board's base). Only this module and its caller know
  the true values; they are never stored.
- A *figure* is a released count: the sum of some variables. Printed, it tells the attacker
  the sum exactly; withheld as ``<k`` it tells them the sum lies in 0..k-1; withheld as ``*``
  (complementary suppression) that it is at least k.
- A *relation* is an identity the attacker knows whatever is printed: a breakdown sums to its
  total, a part is no larger than its whole, the officers' base lies inside the Board's.
- A *protected quantity* is a sum of variables minus a sum of variables (a count, or the count
  that one base holds and another does not) whose true value is from 1 to k-1.

``protect`` takes the figures of a new release, what the audience already holds, the relations
and the protected quantities; it withholds figures of the new release (never an earlier one:
those are out already) until, for every protected quantity, the minimum over the integer
programme is at most 0 and the maximum at least k-1. Both are solved exactly with HiGHS
(``scipy.optimize.milp``). Withholding a figure only widens what the attacker can believe, so a
quantity found protected stays protected while more is withheld, and the loop ends: in the worst
case the whole new release is withheld.

This module is pure: no database, no Flask.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from app.services.suppression import Suppression

# No count of cases comes near this: an upper bound keeps every programme bounded.
CEILING = 10_000_000
# How many candidates the greedy search tries alone before withholding the cheapest anyway.
TRIES = 12


@dataclass(frozen=True)
class Figure:
    """A count that a release may print: ``terms`` are the variables it sums."""

    key: str
    terms: tuple[str, ...]
    value: int
    k: int
    cost: int = 0  # which figures to withhold first: lower goes first
    # The same cell in another pack (say, a category's count for the Board and for officers)
    # is withheld together with this one: shown in either, it would say much the same.
    cell: str = ""
    # How it shows when withheld: ``None`` for "<k" when small and "*" (k or more) otherwise;
    # NOT_RELEASED for a dash that says nothing at all, for figures that extend an earlier
    # one (a quarter to date after the month before), where "*" after "<k" would tell that
    # the difference is at least 1.
    withheld_as: Suppression | None = None

    def withheld_state(self) -> Suppression:
        if self.withheld_as is not None:
            return self.withheld_as
        return Suppression.SMALL if self.value < self.k else Suppression.COMPLEMENTARY


@dataclass(frozen=True)
class Known:
    """What an attacker holds of one figure: ``low <= sum(terms) <= high``."""

    terms: tuple[str, ...]
    low: int
    high: int

    @classmethod
    def of(cls, terms: Sequence[str], value: int | None, state: Suppression, k: int) -> Known:
        if state is Suppression.SHOWN and value is not None:
            return cls(tuple(terms), value, value)
        if state is Suppression.SMALL:
            return cls(tuple(terms), 0, k - 1)
        if state is Suppression.NOT_RELEASED:
            return cls(tuple(terms), 0, CEILING)
        return cls(tuple(terms), k, CEILING)


@dataclass(frozen=True)
class Relation:
    """``sum(part) <= sum(whole)``, or ``==`` when ``equal``."""

    part: tuple[str, ...]
    whole: tuple[str, ...]
    equal: bool = False


@dataclass(frozen=True)
class Quantity:
    """``sum(plus) - sum(minus)``: a count to protect, with its true value."""

    name: str
    plus: tuple[str, ...]
    minus: tuple[str, ...]
    value: int
    k: int


@dataclass
class Outcome:
    states: dict[str, Suppression]
    solves: int = 0
    exposed_before: list[str] = field(default_factory=list)
    # Exposed by what the audience held already, whatever this release withholds: should
    # never happen (each earlier release was checked); logged by the caller if it does.
    unresolved: list[str] = field(default_factory=list)


class _Programme:
    """The attacker's integer programme over the variables named in it."""

    def __init__(self, known: Iterable[Known], relations: Iterable[Relation],
                 names: Iterable[str]) -> None:
        self.index: dict[str, int] = {}
        for name in names:
            self.index.setdefault(name, len(self.index))
        rows: list[tuple[dict[int, float], float, float]] = []
        for item in known:
            rows.append((self._row(item.terms, ()), item.low, item.high))
        for relation in relations:
            rows.append((self._row(relation.part, relation.whole),
                         0 if relation.equal else -np.inf, 0))
        self.rows = rows
        self.solves = 0

    def _row(self, plus: Sequence[str], minus: Sequence[str]) -> dict[int, float]:
        row: dict[int, float] = {}
        for name in plus:
            i = self.index.setdefault(name, len(self.index))
            row[i] = row.get(i, 0) + 1
        for name in minus:
            i = self.index.setdefault(name, len(self.index))
            row[i] = row.get(i, 0) - 1
        return row

    def with_known(self, position: int, item: Known) -> None:
        self.rows[position] = (self._row(item.terms, ()), item.low, item.high)

    def extreme(self, quantity: Quantity, sense: int) -> float | None:
        """min (sense 1) or max (sense -1) of the quantity; None when nothing is feasible."""
        objective_row = self._row(quantity.plus, quantity.minus)
        n = len(self.index)
        c = np.zeros(n)
        for i, coefficient in objective_row.items():
            c[i] = sense * coefficient
        data, row_ids, col_ids = [], [], []
        for r, (row, _, _) in enumerate(self.rows):
            for i, coefficient in row.items():
                data.append(coefficient)
                row_ids.append(r)
                col_ids.append(i)
        constraints = []
        if self.rows:
            matrix = coo_array((data, (row_ids, col_ids)), shape=(len(self.rows), n)).tocsr()
            constraints = [LinearConstraint(matrix, [r[1] for r in self.rows],
                                            [r[2] for r in self.rows])]
        self.solves += 1
        result = milp(c, constraints=constraints, integrality=np.ones(n),
                      bounds=Bounds(np.zeros(n), np.full(n, CEILING)))
        if result.status != 0 or result.fun is None:
            return None
        return float(sense * result.fun)

    def exposes(self, quantity: Quantity) -> bool:
        """True when the attacker can narrow the quantity inside 0..k-1."""
        low = self.extreme(quantity, 1)
        if low is None:  # the releases contradict each other: treat as exposed
            return True
        if low > 0.5:
            return True
        high = self.extreme(quantity, -1)
        return high is None or high < quantity.k - 1 - 0.5


def protect(new: Sequence[Figure], held: Sequence[Known], relations: Sequence[Relation],
            quantities: Sequence[Quantity],
            initial: Mapping[str, Suppression] | None = None) -> Outcome:
    """Decide which figures of a new release are printed (see the module docstring).

    ``new`` starts with every figure under its k withheld as small (and as ``initial`` says,
    for figures already decided by an earlier check); ``held`` is everything the audience
    already holds. Returns the state of every new figure."""
    states = {f.key: (f.withheld_state() if f.value < f.k else Suppression.SHOWN) for f in new}
    states.update(initial or {})
    names = [t for f in new for t in f.terms] + [t for q in quantities
                                                  for t in (*q.plus, *q.minus)]
    programme = _Programme([*held, *(Known.of(f.terms, f.value, states[f.key], f.k)
                                     for f in new)], relations, names)
    offset = len(held)
    position = {f.key: offset + i for i, f in enumerate(new)}
    by_key = {f.key: f for f in new}

    def withhold(key: str) -> None:
        figure = by_key[key]
        states[key] = figure.withheld_state()
        programme.with_known(position[key], Known.of(figure.terms, figure.value,
                                                      states[key], figure.k))

    def candidates(quantity: Quantity) -> list[list[Figure]]:
        """Shown figures that share a count with the quantity, or with a figure that does
        (the other cells of its row and column), cheapest first: each alone (with any figure of
        the very same sum in another pack), and each with the same cell in every pack."""
        touched = set(quantity.plus) | set(quantity.minus)
        near = {t for f in new if touched & set(f.terms) for t in f.terms} | touched
        for relation in relations:
            if near & {*relation.part, *relation.whole}:
                near |= {*relation.part, *relation.whole}
        shown = [f for f in new if states[f.key] is Suppression.SHOWN]
        pool = [f for f in shown if near & set(f.terms)] or shown
        same_sum: dict[frozenset[str], list[Figure]] = {}
        same_cell: dict[str, list[Figure]] = {}
        for figure in pool:
            same_sum.setdefault(frozenset(figure.terms), []).append(figure)
            same_cell.setdefault(figure.cell or figure.key, []).append(figure)
        groups = list(same_sum.values())
        groups += [g for g in same_cell.values()
                   if frozenset(f.key for f in g) not in
                   {frozenset(f.key for f in h) for h in groups}]
        return sorted(groups, key=lambda g: (min(f.cost for f in g), g[0].value, len(g),
                                             g[0].key))

    def set_state(group: list[Figure], shown: bool) -> None:
        for figure in group:
            if shown:
                states[figure.key] = Suppression.SHOWN
                programme.with_known(position[figure.key], Known.of(
                    figure.terms, figure.value, Suppression.SHOWN, figure.k))
            else:
                withhold(figure.key)

    outcome = Outcome(states)
    for quantity in quantities:
        if quantity.value < 1 or quantity.value >= quantity.k:
            continue
        if not programme.exposes(quantity):
            continue
        outcome.exposed_before.append(quantity.name)
        while programme.exposes(quantity):
            pool = candidates(quantity)
            if not pool:
                outcome.unresolved.append(quantity.name)
                break
            for group in pool[:TRIES]:
                set_state(group, shown=False)
                if not programme.exposes(quantity):
                    break
                set_state(group, shown=True)
            else:
                set_state(pool[0], shown=False)
    outcome.solves = programme.solves
    return outcome


def intervals(held: Sequence[Known], relations: Sequence[Relation],
              quantities: Sequence[Quantity]) -> Mapping[str, tuple[float | None, float | None]]:
    """The attacker's bounds on each quantity: what tests/test_disclosure.py checks."""
    programme = _Programme(held, relations, [t for q in quantities
                                             for t in (*q.plus, *q.minus)])
    return {q.name: (programme.extreme(q, 1), programme.extreme(q, -1)) for q in quantities}
