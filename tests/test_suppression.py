"""Small-cell suppression, attacked: for every withheld value, an adversary who reads the whole
printed table (cells, row and column totals, grand total) and knows the rule behind each symbol
("<k" is 0..k-1, "*" is k or more) computes the least and the greatest value it could take, by
linear programming over every sum the table states. Whatever it derives exactly is a leak.

The adversary is written here from scratch (a two-phase simplex), independent of the residual-
cycle reasoning app/services/suppression.py uses to decide what to withhold.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.services.suppression import (
    Cell,
    Suppression,
    SuppressionError,
    rate_publishable,
    suppress_series,
    suppress_table,
)

EPS = 1e-9


# --- the adversary: min c.x subject to A x = b, x >= 0 (b >= 0), by a two-phase simplex ---------
def _minimise(cost: list[float], matrix: list[list[float]], rhs: list[float]) -> float:
    rows_count, cols = len(matrix), len(cost)
    rows = [list(map(float, matrix[i])) + [1.0 if r == i else 0.0 for r in range(rows_count)]
            + [float(rhs[i])] for i in range(rows_count)]
    basis = [cols + i for i in range(rows_count)]

    def pivot(r: int, col: int) -> None:
        factor = rows[r][col]
        rows[r] = [v / factor for v in rows[r]]
        for i in range(len(rows)):
            if i != r and abs(rows[i][col]) > EPS:
                f = rows[i][col]
                rows[i] = [a - f * b for a, b in zip(rows[i], rows[r], strict=True)]
        basis[r] = col

    def run(objective: list[float], allowed: int) -> bool:
        """Bland's rule (never cycles); False when unbounded."""
        while True:
            entering = None
            for j in range(allowed):
                if j in basis:
                    continue
                reduced = objective[j] - sum(objective[basis[i]] * rows[i][j]
                                             for i in range(len(rows)))
                if reduced < -EPS:
                    entering = j
                    break
            if entering is None:
                return True
            best: tuple[float, int] | None = None
            for i in range(len(rows)):
                if rows[i][entering] > EPS:
                    ratio = rows[i][-1] / rows[i][entering]
                    if best is None or ratio < best[0] - EPS or (
                            abs(ratio - best[0]) <= EPS and basis[i] < basis[best[1]]):
                        best = (ratio, i)
            if best is None:
                return False
            pivot(best[1], entering)

    phase_one = [0.0] * cols + [1.0] * rows_count
    run(phase_one, cols + rows_count)
    infeasibility = sum(rows[i][-1] for i in range(len(rows)) if basis[i] >= cols)
    assert infeasibility < 1e-6, "the true table must satisfy what is printed"
    for i in reversed(range(len(rows))):  # drive artificials out, drop redundant rows
        if basis[i] >= cols:
            col = next((j for j in range(cols) if abs(rows[i][j]) > EPS), None)
            if col is None:
                del rows[i]
                del basis[i]
            else:
                pivot(i, col)
    objective = list(map(float, cost)) + [0.0] * rows_count
    if not run(objective, cols):
        return -math.inf
    return sum(objective[basis[i]] * rows[i][-1] for i in range(len(rows)))


def attack(lines: list[list[tuple[int, int]]], known: dict[int, int],
           bounds: dict[int, tuple[int, float]]) -> dict[int, tuple[float, float]]:
    """Bounds of every unknown entry. ``lines``: equations sum(sign * entry) = 0."""
    unknown = sorted(bounds)
    index = {e: n for n, e in enumerate(unknown)}
    upper = [e for e in unknown if bounds[e][1] != math.inf]
    width = len(unknown) + len(upper)
    matrix, rhs = [], []
    for line in lines:  # x = low + v; move known values and lows to the right-hand side
        row = [0.0] * width
        constant = 0.0
        for sign, entry in line:
            if entry in index:
                row[index[entry]] += sign
                constant += sign * bounds[entry][0]
            else:
                constant += sign * known[entry]
        if any(row):
            matrix.append(row)
            rhs.append(-constant)
        else:
            assert abs(constant) < EPS
    for n, entry in enumerate(upper):
        row = [0.0] * width
        row[index[entry]], row[len(unknown) + n] = 1.0, 1.0
        matrix.append(row)
        rhs.append(bounds[entry][1] - bounds[entry][0])
    for i in range(len(matrix)):
        if rhs[i] < 0:
            matrix[i], rhs[i] = [-v for v in matrix[i]], -rhs[i]
    result = {}
    for entry in unknown:
        cost = [0.0] * width
        cost[index[entry]] = 1.0
        low = _minimise(cost, matrix, rhs) + bounds[entry][0]
        cost[index[entry]] = -1.0
        high = -_minimise(cost, matrix, rhs) + bounds[entry][0]
        result[entry] = (low, high)
    return result


def _reading(cell: Cell) -> tuple[int, float]:
    """What the adversary knows of a withheld cell from its symbol alone."""
    assert cell.value is None and cell.display() in {f"<{cell.k}", "*"}
    return (0, cell.k - 1) if cell.display().startswith("<") else (cell.k, math.inf)


def attack_table(printed_grid: list[list[Cell]]) -> dict[int, tuple[float, float]]:
    m, n = len(printed_grid) - 1, len(printed_grid[0]) - 1
    entry = lambda i, j: i * (n + 1) + j  # noqa: E731
    lines = [[(1, entry(i, j)) for j in range(n)] + [(-1, entry(i, n))] for i in range(m + 1)]
    lines += [[(1, entry(i, j)) for i in range(m)] + [(-1, entry(m, j))] for j in range(n + 1)]
    known, bounds = {}, {}
    for i in range(m + 1):
        for j in range(n + 1):
            cell = printed_grid[i][j]
            if cell.shown:
                assert cell.value is not None
                known[entry(i, j)] = cell.value
            else:
                bounds[entry(i, j)] = _reading(cell)
    return attack(lines, known, bounds)


def grid_of(cells: list[list[int]], k: int, force: set[tuple[int, int]] = frozenset()
            ) -> tuple[list[list[int]], list[list[Cell]]]:
    table = suppress_table(cells, k, force=force)
    truth = [[*row, sum(row)] for row in cells]
    truth.append([sum(col) for col in zip(*cells, strict=True)] + [sum(map(sum, cells))])
    printed = [[*row, total] for row, total in zip(table.cells, table.row_totals, strict=True)]
    printed.append([*table.column_totals, table.total])
    return truth, printed


def assert_nothing_derivable(truth: list[list[int]], printed: list[list[Cell]], k: int) -> None:
    width = len(truth[0])
    for position, (low, high) in attack_table(printed).items():
        i, j = divmod(position, width)
        value = truth[i][j]
        cell = printed[i][j]
        assert cell.state is (Suppression.SMALL if value < k else Suppression.COMPLEMENTARY)
        assert low - 1e-6 <= value <= high + 1e-6, "the adversary must be sound"
        assert high - low >= 1 - 1e-6, f"withheld entry {i},{j} = {value} is derivable"
    for i, row in enumerate(printed):
        for j, cell in enumerate(row):
            if cell.shown:
                assert cell.value == truth[i][j] and cell.value >= k


counts = st.one_of(st.integers(0, 6), st.integers(0, 60))
tables = st.integers(1, 5).flatmap(
    lambda rows: st.integers(1, 4).flatmap(
        lambda cols: st.lists(st.lists(counts, min_size=cols, max_size=cols),
                              min_size=rows, max_size=rows)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=tables, k=st.sampled_from([3, 5, 10]))
def test_no_withheld_cell_of_a_table_can_be_worked_out(cells: list[list[int]], k: int) -> None:
    truth, printed = grid_of(cells, k)
    assert_nothing_derivable(truth, printed, k)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=tables, k=st.sampled_from([5, 10]), data=st.data())
def test_forced_margins_stay_protected(cells: list[list[int]], k: int,
                                       data: st.DataObject) -> None:
    m, n = len(cells), len(cells[0])
    margins = [(m, j) for j in range(n + 1)] + [(i, n) for i in range(m)]
    force = set(data.draw(st.lists(st.sampled_from(margins), max_size=3)))
    truth, printed = grid_of(cells, k, force)
    assert all(not printed[i][j].shown for i, j in force)
    assert_nothing_derivable(truth, printed, k)


@settings(max_examples=150, deadline=None)
@given(values=st.lists(counts, min_size=1, max_size=8), k=st.sampled_from([3, 5, 10]))
def test_no_withheld_value_of_a_series_can_be_worked_out(values: list[int], k: int) -> None:
    series = suppress_series(values, k)
    printed = [*series.values, series.total]
    truth = [*values, sum(values)]
    line = [(1, i) for i in range(len(values))] + [(-1, len(values))]
    known = {i: c.value for i, c in enumerate(printed) if c.shown and c.value is not None}
    bounds = {i: _reading(c) for i, c in enumerate(printed) if not c.shown}
    for i, (low, high) in attack([line], known, bounds).items():
        assert low - 1e-6 <= truth[i] <= high + 1e-6
        assert high - low >= 1 - 1e-6, f"withheld value {i} = {truth[i]} is derivable"


def test_the_adversary_breaks_primary_suppression_alone() -> None:
    """Hiding only the small cell is not enough: the adversary recovers it from the row total.
    (This is what the tests above would catch if complementary suppression failed.)"""
    k = 5
    truth = [[1, 20, 21], [30, 40, 70], [31, 60, 91]]
    shown = lambda v: Cell(v, Suppression.SHOWN, k)  # noqa: E731
    printed = [[shown(v) for v in row] for row in truth]
    printed[0][0] = Cell(None, Suppression.SMALL, k)
    (low, high), = attack_table(printed).values()
    assert low == pytest.approx(1) and high == pytest.approx(1)


def test_the_adversary_uses_interval_reasoning() -> None:
    """Two hidden cells in a row can still give each other away through their bounds: a "<5"
    and a "*" summing to 5 can only be 0 and 5."""
    k = 5
    truth = [[0, 5, 5], [30, 40, 70], [30, 45, 75]]
    shown = lambda v: Cell(v, Suppression.SHOWN, k)  # noqa: E731
    printed = [[shown(v) for v in row] for row in truth]
    printed[0][0] = Cell(None, Suppression.SMALL, k)
    printed[0][1] = Cell(None, Suppression.COMPLEMENTARY, k)
    printed[0][2] = shown(5)
    bounds = attack_table(printed)
    assert bounds[0] == (pytest.approx(0), pytest.approx(0))
    # and the real module does not fall for it
    truth2, printed2 = grid_of([[0, 5], [30, 40]], k)
    assert_nothing_derivable(truth2, printed2, k)


def test_symbols_and_examples() -> None:
    table = suppress_table([[3, 12, 40], [15, 22, 9]], k=5)
    assert table.cells[0][0].display() == "<5"
    assert table.cells[0][0].value is None  # withheld values are dropped, not just hidden
    assert sum(not c.shown for row in table.cells for c in row) >= 2
    assert table.total.as_json() == 101
    assert suppress_table([[0]], k=10).total.display() == "<10"
    with pytest.raises(SuppressionError):
        suppress_table([[1, 2], [3]], k=5)
    with pytest.raises(SuppressionError):
        suppress_table([[-1]], k=5)
    with pytest.raises(SuppressionError):
        suppress_series([1], k=1)


def test_rates_print_only_without_small_parts() -> None:
    assert rate_publishable(0, 20, 5) and rate_publishable(20, 20, 5)
    assert rate_publishable(10, 20, 5)
    assert not rate_publishable(18, 20, 5)  # 2 late cases would be read off the share
    assert not rate_publishable(2, 4, 5)
