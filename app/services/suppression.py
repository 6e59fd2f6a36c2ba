"""Small-cell suppression: counts that are published without letting anyone work out a small one.

A count under ``k`` (zero included) is never printed: it shows as ``"<k"`` (primary
suppression). Hiding it alone is not enough when totals are printed: with a row total and every
other cell of the row, the hidden one is a subtraction away. So more cells are withheld
(complementary suppression, shown as ``"*"``) until no withheld value can be worked out from
what is printed, by any reasoning over the sums, including interval reasoning that uses what
the symbols themselves say ("<k" means 0..k-1, "*" means at least k, because anything smaller
would have been "<k").

How protection is decided, exactly
----------------------------------
Write a table with its margins as an (m+1) x (n+1) grid ``z``: interior cells as they are, the
grand total as it is, and the row and column totals negated. Then every row and every column of
``z`` sums to zero, which is a circulation on the bipartite graph "row node -> column node", one
arc per grid entry, carrying flow ``z``. The printed entries are fixed; each withheld entry may
take any value within its bounds. Every table consistent with what is printed is the true table
plus a circulation over the withheld arcs that respects their bounds, and such a circulation
that changes entry ``e`` exists if and only if ``e`` lies on a cycle of the residual graph (an
arc r -> c where ``z`` may grow, c -> r where it may shrink). So ``e`` can be worked out exactly
if and only if no residual cycle passes through it. The arithmetic is integral (the system is
totally unimodular), so a residual cycle always gives another whole-number table. A series (one
line of counts with its total) is the one-row case and is checked directly.

``tests/test_suppression.py`` attacks the output independently, with linear programming over
everything printed, and finds the bounds of every withheld value never collapse to one number.

This module is pure: no database, no Flask. Withheld values are dropped from its output, so
nothing downstream can print them by mistake.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

DEFAULT_INTERNAL_K = 5
DEFAULT_PUBLIC_K = 10
COMPLEMENTARY_SYMBOL = "*"
NOT_RELEASED_SYMBOL = "\u2013"  # an en dash
_INF = float("inf")

Position = tuple[int, int]


class Suppression(StrEnum):
    SHOWN = "shown"
    SMALL = "small"  # under k: primary suppression
    COMPLEMENTARY = "complementary"  # k or more, withheld so that small ones stay hidden
    # Not part of any release: a quarter not released yet, or a total over figures not all
    # shown (printing it would be a new figure; app/services/releases.py)
    NOT_RELEASED = "not_released"


@dataclass(frozen=True)
class Cell:
    """One published count: ``value`` is None whenever it is withheld."""

    value: int | None
    state: Suppression
    k: int

    @property
    def shown(self) -> bool:
        return self.state is Suppression.SHOWN

    def display(self) -> str:
        if self.state is Suppression.SHOWN:
            return str(self.value)
        if self.state is Suppression.SMALL:
            return f"<{self.k}"
        if self.state is Suppression.NOT_RELEASED:
            return NOT_RELEASED_SYMBOL
        return COMPLEMENTARY_SYMBOL

    def as_json(self) -> int | str:
        """The number when shown, else its symbol (JSON and CSV use this)."""
        return self.value if self.value is not None and self.shown else self.display()


@dataclass(frozen=True)
class SuppressedTable:
    """A table with row totals, column totals and a grand total, ready to print."""

    k: int
    cells: tuple[tuple[Cell, ...], ...]
    row_totals: tuple[Cell, ...]
    column_totals: tuple[Cell, ...]
    total: Cell

    def withheld(self) -> set[Position]:
        """Grid positions withheld (margins at index m / n), for linking tables."""
        m, n = len(self.row_totals), len(self.column_totals)
        grid = self._grid()
        return {(i, j) for i in range(m + 1) for j in range(n + 1) if not grid[i][j].shown}

    def _grid(self) -> list[list[Cell]]:
        rows = [[*row, total]
                for row, total in zip(self.cells, self.row_totals, strict=True)]
        return [*rows, [*self.column_totals, self.total]]


@dataclass(frozen=True)
class SuppressedSeries:
    """A line of counts and their total."""

    k: int
    values: tuple[Cell, ...]
    total: Cell


class SuppressionError(ValueError):
    """The input cannot be a table of counts (negative, ragged, or k below 2)."""


def _check(values: Iterable[int], k: int) -> None:
    if k < 2:
        raise SuppressionError("k must be at least 2")
    if any(not isinstance(v, int) or v < 0 for v in values):
        raise SuppressionError("counts must be whole numbers, zero or more")


# --- tables -----------------------------------------------------------------------------------
def suppress_table(cells: Sequence[Sequence[int]], k: int = DEFAULT_INTERNAL_K,
                   force: Iterable[Position] = ()) -> SuppressedTable:
    """Suppress a table of counts (rows x columns) and its totals.

    ``force`` names grid positions that must be withheld whatever their value (margins at row
    index ``len(cells)`` / column index ``len(cells[0])``): tables that share a margin pass
    each other's withheld margins here so that one never prints what the other hides.
    """
    m = len(cells)
    n = len(cells[0]) if m else 0
    if m == 0 or n == 0 or any(len(row) != n for row in cells):
        raise SuppressionError("a table needs at least one row and one column, all equal")
    _check((v for row in cells for v in row), k)
    grid = [[*row, sum(row)] for row in cells]
    grid.append([sum(cells[i][j] for i in range(m)) for j in range(n)] + [sum(map(sum, cells))])
    withheld = _protect_grid(grid, k, {(i, j) for i in range(m + 1) for j in range(n + 1)
                                       if grid[i][j] < k} | set(force))

    def cell(i: int, j: int) -> Cell:
        value = grid[i][j]
        if (i, j) not in withheld:
            return Cell(value, Suppression.SHOWN, k)
        return Cell(None, Suppression.SMALL if value < k else Suppression.COMPLEMENTARY, k)

    return SuppressedTable(
        k=k,
        cells=tuple(tuple(cell(i, j) for j in range(n)) for i in range(m)),
        row_totals=tuple(cell(i, n) for i in range(m)),
        column_totals=tuple(cell(m, j) for j in range(n)),
        total=cell(m, n),
    )


def _bounds(value: int, k: int) -> tuple[float, float]:
    """What an attacker knows of a withheld value from its symbol."""
    return (0, k - 1) if value < k else (k, _INF)


class _Grid:
    """The residual graph of the signed grid (see the module docstring)."""

    def __init__(self, grid: list[list[int]], k: int) -> None:
        self.grid, self.k = grid, k
        self.m, self.n = len(grid) - 1, len(grid[0]) - 1

    def _sign(self, i: int, j: int) -> int:
        return 1 if (i < self.m) == (j < self.n) else -1

    def _moves(self, i: int, j: int) -> tuple[bool, bool]:
        """Whether the signed entry may grow, and whether it may shrink, within its bounds."""
        value = self.grid[i][j]
        low, high = _bounds(value, self.k)
        up_in_value, down_in_value = value < high, value > low
        if self._sign(i, j) > 0:
            return up_in_value, down_in_value
        return down_in_value, up_in_value

    def protected(self, withheld: set[Position], entry: Position) -> bool:
        grows, shrinks = self._moves(*entry)
        row, col = entry
        # Nodes: rows are 0..m, columns are m+1..m+n+1.
        col_node = self.m + 1 + col
        arcs: dict[int, list[int]] = {}
        for (i, j) in withheld:
            if (i, j) == entry:
                continue
            up, down = self._moves(i, j)
            if up:
                arcs.setdefault(i, []).append(self.m + 1 + j)
            if down:
                arcs.setdefault(self.m + 1 + j, []).append(i)
        return (grows and _reaches(arcs, col_node, row)) or \
            (shrinks and _reaches(arcs, row, col_node))


def _reaches(arcs: dict[int, list[int]], start: int, goal: int) -> bool:
    seen, queue = {start}, deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            return True
        for nxt in arcs.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return False


def _protect_grid(grid: list[list[int]], k: int, withheld: set[Position]) -> set[Position]:
    """Grow ``withheld`` until every withheld entry is protected.

    Greedy: for the first unprotected entry, withhold the one printed entry that protects it
    at the least cost (interior cells before totals, then the smallest count); when no single
    entry does, withhold the cheapest one in its row or column and look again. Each pass
    withholds one more entry, so this ends; a table withheld entirely is always protected
    for k >= 2 (every line then has a cycle through the grand total).
    """
    residual = _Grid(grid, k)
    m, n = residual.m, residual.n
    everything = {(i, j) for i in range(m + 1) for j in range(n + 1)}
    withheld = set(withheld)

    def cost(p: Position) -> tuple[int, int, Position]:
        margin = (p[0] == m) + (p[1] == n)
        return (margin, grid[p[0]][p[1]], p)

    while True:
        exposed = sorted((e for e in withheld if not residual.protected(withheld, e)), key=cost)
        if not exposed or withheld == everything:
            return withheld
        entry = exposed[0]
        candidates = sorted(everything - withheld, key=cost)
        chosen = next((c for c in candidates if residual.protected(withheld | {c}, entry)), None)
        if chosen is None:
            near = [c for c in candidates if c[0] == entry[0] or c[1] == entry[1]]
            chosen = (near or candidates)[0]
        withheld.add(chosen)


# --- series -----------------------------------------------------------------------------------
def suppress_series(values: Sequence[int], k: int = DEFAULT_INTERNAL_K,
                    force_total: bool = False) -> SuppressedSeries:
    """Suppress a line of counts that is printed with its total (a partition of the total)."""
    _check(values, k)
    if not values:
        raise SuppressionError("a series needs at least one value")
    entries = [*values, sum(values)]
    last = len(entries) - 1
    withheld = {i for i, v in enumerate(entries) if v < k}
    if force_total:
        withheld.add(last)

    def moves(i: int) -> tuple[bool, bool]:
        """May the signed entry grow / shrink (the total is negated, as in tables)."""
        low, high = _bounds(entries[i], k)
        up, down = entries[i] < high, entries[i] > low
        return (down, up) if i == last else (up, down)

    def protected(hidden: set[int], i: int) -> bool:
        grows, shrinks = moves(i)
        others = [moves(j) for j in hidden if j != i]
        return (grows and any(down for _, down in others)) or \
            (shrinks and any(up for up, _ in others))

    def cost(i: int) -> tuple[int, int, int]:
        return (i == last, entries[i], i)

    while True:
        exposed = sorted((i for i in withheld if not protected(withheld, i)), key=cost)
        if not exposed or len(withheld) == len(entries):
            break
        candidates = sorted(set(range(len(entries))) - withheld, key=cost)
        chosen = next((c for c in candidates if protected(withheld | {c}, exposed[0])),
                      candidates[0])
        withheld.add(chosen)

    def cell(i: int) -> Cell:
        if i not in withheld:
            return Cell(entries[i], Suppression.SHOWN, k)
        return Cell(None, Suppression.SMALL if entries[i] < k else Suppression.COMPLEMENTARY, k)

    return SuppressedSeries(k=k, values=tuple(cell(i) for i in range(last)), total=cell(last))


# --- derived figures --------------------------------------------------------------------------
def rate_publishable(part: int, whole: int, k: int) -> bool:
    """A share ``part / whole`` may be printed when at least k cases stand behind it and
    neither the part nor the rest is a small non-zero count (which the share would reveal
    exactly). A part of zero, or of everything, speaks of no one in particular."""
    rest = whole - part
    return whole >= k and (part == 0 or part >= k) and (rest == 0 or rest >= k)


def figure_publishable(cases: int, k: int) -> bool:
    """Medians and percentiles are printed only over at least k cases."""
    return cases >= k
