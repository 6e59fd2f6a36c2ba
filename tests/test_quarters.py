"""One Quarter for the statistics, the quarterly clocks and the deadline pages."""

from __future__ import annotations

from datetime import date

import pytest

from app.quarters import Quarter


@pytest.mark.parametrize(("day", "label", "first", "last"), [
    (date(2026, 1, 1), "2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
    (date(2026, 6, 30), "2026-Q2", date(2026, 4, 1), date(2026, 6, 30)),
    (date(2026, 9, 15), "2026-Q3", date(2026, 7, 1), date(2026, 9, 30)),
    (date(2026, 12, 31), "2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
])
def test_a_day_falls_in_one_quarter(day: date, label: str, first: date, last: date) -> None:
    quarter = Quarter.of(day)
    assert (quarter.label, quarter.first_day, quarter.last_day) == (label, first, last)
    assert Quarter.parse(label) == quarter


def test_the_last_ended_quarter_crosses_the_year() -> None:
    assert Quarter.last_ended(date(2027, 2, 10)) == Quarter(2026, 4)
    assert Quarter.last_ended(date(2026, 4, 1)) == Quarter(2026, 1)


def test_cycles_number_quarters_as_the_clocks_store_them() -> None:
    assert Quarter(2026, 3).cycle == 20263
    assert Quarter.from_cycle(20263) == Quarter(2026, 3)
    assert Quarter(2026, 4).shifted(1) == Quarter(2027, 1)


@pytest.mark.parametrize("text", ["2026-Q5", "26-Q1", "2026Q1", "Q1-2026", ""])
def test_a_malformed_quarter_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a quarter"):
        Quarter.parse(text)
