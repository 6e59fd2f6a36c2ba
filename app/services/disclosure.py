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
programme is at most 0 and the maximum at least k-1. Each question is settled exactly, by the
cheapest proof that settles it:

- "yes, it can be that small (or large)": an integer point that meets every constraint as they
  stand and puts the quantity there. Every point HiGHS returns is kept and checked against
  the constraints of the moment, so one solve often answers many questions;
- "no": the minimum of the linear relaxation (HiGHS through ``highspy``, one model kept for the
  whole check, only its costs and bounds changed) already lies beyond the bound. The integer
  programme's minimum is never below it, and counts are whole numbers;
- otherwise, the integer programme itself (``scipy.optimize.milp``).

The answers are the ones solving the integer programme every time would give
(tests/test_disclosure_solver.py). Withholding a figure only widens what the attacker can
believe, so a quantity found protected stays protected while more is withheld, and the loop
ends: in the worst case the whole new release is withheld.

This module is pure: no database, no Flask.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array, csr_array

from app.services.suppression import Suppression

# No count of cases comes near this: an upper bound keeps every programme bounded.
CEILING = 10_000_000
# How many candidates the greedy search tries alone before withholding the cheapest anyway.
TRIES = 12


class Undecided:
    """The linear relaxation gave no answer (HiGHS stopped short): the integer programme is
    solved instead."""


UNDECIDED = Undecided()


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
    """The attacker's integer programme over the variables named in it.

    Its matrix never changes (withholding a figure changes only the bounds of its row), so it
    is built once. Every integer solution HiGHS returns is kept: a kept solution that still
    meets the current bounds is itself a proof that some quantity can be that small or that
    large, so many questions are answered without solving again. A "yes" comes only from an
    integer point checked here against every constraint; a "no" from the relaxation's bound or
    the integer programme. Rounding in HiGHS can therefore only ever withhold more."""

    def __init__(self, known: Iterable[Known], relations: Iterable[Relation],
                 names: Iterable[str]) -> None:
        self.index: dict[str, int] = {}
        for name in names:
            self.index.setdefault(name, len(self.index))
        rows: list[dict[int, float]] = []
        low: list[float] = []
        high: list[float] = []
        for item in known:
            rows.append(self._row(item.terms, ()))
            low.append(item.low)
            high.append(item.high)
        for relation in relations:
            rows.append(self._row(relation.part, relation.whole))
            low.append(0 if relation.equal else -np.inf)
            high.append(0)
        self.rows = rows
        self.low = np.array(low, dtype=float)
        self.high = np.array(high, dtype=float)
        self.solves = 0
        self._matrix: csr_array | None = None
        self._relaxation: tuple[Any, int] | None = None
        self._changed: set[int] = set()
        self._points = np.zeros((len(self.index), 0))
        self._products = np.zeros((len(rows), 0))

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
        if self._row(item.terms, ()) != self.rows[position]:
            raise ValueError("a figure's terms never change, only what is known of them")
        self.low[position], self.high[position] = item.low, item.high
        self._changed.add(position)

    def matrix(self) -> csr_array:
        n = len(self.index)
        if self._matrix is None or self._matrix.shape[1] != n:
            data, row_ids, col_ids = [], [], []
            for r, row in enumerate(self.rows):
                for i, coefficient in row.items():
                    data.append(coefficient)
                    row_ids.append(r)
                    col_ids.append(i)
            self._matrix = coo_array((data, (row_ids, col_ids)),
                                     shape=(len(self.rows), n)).tocsr()
            self._points = np.zeros((n, 0))
            self._products = np.zeros((len(self.rows), 0))
        return self._matrix

    def _objective(self, quantity: Quantity) -> np.ndarray:
        objective_row = self._row(quantity.plus, quantity.minus)
        c = np.zeros(len(self.index))
        for i, coefficient in objective_row.items():
            c[i] = coefficient
        return c

    def _solve(self, c: np.ndarray) -> tuple[float, np.ndarray] | None:
        """The minimum of ``c @ x`` over the integer programme and a point that reaches it;
        None when nothing is feasible."""
        matrix = self.matrix()
        n = len(self.index)
        constraints = [LinearConstraint(matrix, self.low, self.high)] if self.rows else []
        self.solves += 1
        result = milp(c, constraints=constraints, integrality=np.ones(n),
                      bounds=Bounds(np.zeros(n), np.full(n, CEILING)))
        if result.status != 0 or result.x is None or result.fun is None:
            return None
        return float(result.fun), result.x

    def _relax(self, c: np.ndarray) -> tuple[float, np.ndarray] | Undecided | None:
        """The minimum of ``c @ x`` over the linear relaxation (never above the integer
        programme's) and a point that reaches it; None when nothing is feasible, even with
        fractions. One HiGHS model is kept for the whole check, only its costs and row
        bounds changed between solves, so each starts from the last basis."""
        matrix = self.matrix()
        n = len(self.index)
        if self._relaxation is None or self._relaxation[1] != n:
            # The binding itself, without highspy's callback layer: that one prints HiGHS's
            # banner on standard output before any option can be set, which would land in
            # the middle of `candor stats` output.
            model = highspy._core._Highs()
            model.setOptionValue("output_flag", False)
            infinity = model.getInfinity()
            model.addVars(n, np.zeros(n), np.full(n, float(CEILING)))
            model.addRows(len(self.rows), np.where(np.isfinite(self.low), self.low, -infinity),
                          np.where(np.isfinite(self.high), self.high, infinity), matrix.nnz,
                          matrix.indptr[:-1].astype(np.int32),
                          matrix.indices.astype(np.int32), matrix.data.astype(float))
            self._relaxation = (model, n)
            self._changed.clear()
        model = self._relaxation[0]
        infinity = model.getInfinity()
        for position in sorted(self._changed):
            low, high = self.low[position], self.high[position]
            model.changeRowBounds(position, low if np.isfinite(low) else -infinity,
                                  high if np.isfinite(high) else infinity)
        self._changed.clear()
        model.changeColsCost(n, np.arange(n, dtype=np.int32), c.astype(float))
        self.solves += 1
        model.run()
        status = model.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return None
        if status != highspy.HighsModelStatus.kOptimal:
            return UNDECIDED
        return (float(model.getInfo().objective_function_value),
                np.array(model.getSolution().col_value))

    def _at_most(self, c: np.ndarray, bound: float) -> bool | None:
        """Whether some integer point has ``c @ x <= bound`` (``bound`` an integer), or None
        when nothing is feasible. The linear relaxation answers first: "no" when even its
        minimum is above the bound, "yes" when the point it returns is an integer point that
        meets every bound (it is then a solution of the integer programme too); only
        otherwise is the integer programme solved."""
        if self._proven(c, bound):
            return True
        relaxed = self._relax(c)
        if relaxed is None:
            return None
        if not isinstance(relaxed, Undecided):
            if relaxed[0] > bound + 1e-6:
                return False
            if self._keep(np.round(relaxed[1])) and self._proven(c, bound):
                return True
        exact = self._solve(c)
        if exact is None:
            return None
        # "Yes" only with the point in hand, checked here like every other.
        return self._keep(np.round(exact[1])) and self._proven(c, bound)

    def _keep(self, point: np.ndarray) -> bool:
        """Keep an integer point if it meets every bound of the programme as it stands."""
        product = self.matrix() @ point
        if not (np.all(product >= self.low - 1e-9) and np.all(product <= self.high + 1e-9)
                and np.all(point >= 0) and np.all(point <= CEILING)):
            return False
        self._points = np.column_stack([self._points, point])
        self._products = np.column_stack([self._products, product])
        return True

    def _proven(self, c: np.ndarray, bound: float) -> bool:
        """Some kept point meets today's bounds with ``c @ x <= bound``."""
        self.matrix()
        if self._points.shape[1] == 0:
            return False
        feasible = np.all((self._products >= self.low[:, None] - 1e-9)
                          & (self._products <= self.high[:, None] + 1e-9), axis=0)
        return bool(np.any(feasible & (c @ self._points <= bound + 1e-9)))

    def extreme(self, quantity: Quantity, sense: int) -> float | None:
        """min (sense 1) or max (sense -1) of the quantity; None when nothing is feasible."""
        solved = self._solve(sense * self._objective(quantity))
        return None if solved is None else sense * solved[0]

    def exposes(self, quantity: Quantity) -> bool:
        """True when the attacker can narrow the quantity inside 0..k-1: no integer point
        puts it at 0 or below, or none at k-1 or above (or none at all: the releases
        contradict each other)."""
        c = self._objective(quantity)
        return not (self._at_most(c, 0) and self._at_most(-c, -(quantity.k - 1)))


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
