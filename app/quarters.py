"""Calendar quarters: the one ``Quarter`` the statistics, the quarterly clocks and the
deadline pages count in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """``2026-Q3`` (ValueError otherwise)."""
        year, _, number = text.strip().upper().partition("-Q")
        if not (year.isdigit() and len(year) == 4 and number in {"1", "2", "3", "4"}):
            raise ValueError(f"{text!r} is not a quarter like 2026-Q3")
        return cls(int(year), int(number))

    @property
    def label(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    def shifted(self, quarters: int) -> Quarter:
        index = self.year * 4 + self.number - 1 + quarters
        return Quarter(index // 4, index % 4 + 1)

    @property
    def next_first_day(self) -> date:
        return self.shifted(1).first_day

    @property
    def last_day(self) -> date:
        return self.next_first_day - timedelta(days=1)

    @classmethod
    def last_ended(cls, on: date) -> Quarter:
        """The last quarter that ended before ``on``."""
        return cls.of(on).shifted(-1)

    @property
    def cycle(self) -> int:
        """``20263`` for 2026-Q3: how the quarterly clocks number their cycles."""
        return self.year * 10 + self.number

    @classmethod
    def from_cycle(cls, cycle: int) -> Quarter:
        return cls(cycle // 10, cycle % 10)

    def __str__(self) -> str:
        return self.label
