"""The deadline policy: how long each clock runs, whether it counts working days, and the
escalation ladder. Versioned: a case keeps the version it was opened under, so changing the
policy never moves a deadline someone was already promised.

The built-in version follows ../DESIGN.md (EU Directive 2019/1937, SB 53, RSP v3, ISO 37002).
An installation may add versions in ``instance/deadline_policy.json``::

    {"current": "2027-01",
     "holidays": ["2027-01-01", "2027-12-25"],
     "versions": {"2027-01": {"acknowledge": {"working_days": 3},
                              "feedback": {"months": 3},
                              "ladder": {"before_days": 2, "route_after_days": 2,
                                         "board_after_days": 7}}}}

Each version names only what differs from the built-in one. Holidays are shared by every
version (they are facts of the calendar, not policy); Saturdays and Sundays are never working
days. Never remove a version that cases still use: such a case falls back to the current one.
"""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

POLICY_FILE = "deadline_policy.json"
BUILT_IN_VERSION = "builtin-2026"
UNITS = ("days", "working_days", "months", "hours")


class PolicyError(Exception):
    """The configured policy file is unusable; the message says why."""


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has no such day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Period:
    """A length of time in one unit. Hours are rounded up to whole days: deadlines are dates,
    because nothing about a reporter is kept to the hour."""

    amount: int
    unit: str = "days"

    def after(self, start: date, holidays: frozenset[date]) -> date:
        if self.unit == "months":
            return add_months(start, self.amount)
        if self.unit == "hours":
            return start + timedelta(days=-(-self.amount // 24))
        if self.unit == "working_days":
            day, left = start, self.amount
            while left > 0:
                day += timedelta(days=1)
                if is_working_day(day, holidays):
                    left -= 1
            return day
        return start + timedelta(days=self.amount)

    def describe(self) -> str:
        unit = self.unit.replace("_", " ")
        return f"{self.amount} {unit[:-1] if self.amount == 1 else unit}"


def is_working_day(day: date, holidays: frozenset[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


@dataclass(frozen=True)
class Ladder:
    """Calendar days around a due date: reminder to the assignee ``before_days`` ahead and on
    the day; every reader of the route ``route_after_days`` late; the Board tier
    ``board_after_days`` late."""

    before_days: int = 2
    route_after_days: int = 2
    board_after_days: int = 7

    def steps(self, due_on: date) -> tuple[tuple[str, date], ...]:
        return (("before", due_on - timedelta(days=self.before_days)), ("due", due_on),
                ("route", due_on + timedelta(days=self.route_after_days)),
                ("board", due_on + timedelta(days=self.board_after_days)))


@dataclass(frozen=True)
class DeadlinePolicy:
    version: str
    acknowledge: Period = Period(7)
    status_update: Period = Period(30)
    feedback: Period = Period(3, "months")
    board_notice: Period = Period(72, "hours")
    # Retaliation check-ins after closure (ISO 37002), and how early a contact counts.
    checkins: tuple[Period, ...] = (Period(3, "months"), Period(6, "months"))
    checkin_window_days: int = 30
    # The quarterly pack is due this long after the quarter ends.
    quarterly_pack: Period = Period(30)
    # A pause (waiting for the reporter) stops the feedback clock for at most this many days
    # per cycle, so waiting can never push the duty away for good.
    max_pause_days: int = 90
    ladder: Ladder = field(default_factory=Ladder)
    holidays: frozenset[date] = frozenset()

    def describe(self) -> list[tuple[str, str]]:
        return [
            ("Acknowledge", f"{self.acknowledge.describe()} from receipt"),
            ("Status update to the reporter", f"every {self.status_update.describe()}"),
            ("Feedback", f"{self.feedback.describe()} from acknowledgement"),
            ("Board notice of a material-risk finding", f"{self.board_notice.describe()}"),
            ("Follow-up check-ins after closure",
             ", ".join(p.describe() for p in self.checkins)),
            ("Quarterly pack", f"{self.quarterly_pack.describe()} after the quarter ends"),
        ]


BUILT_IN = DeadlinePolicy(version=BUILT_IN_VERSION)


@dataclass(frozen=True)
class PolicySet:
    current: DeadlinePolicy
    versions: dict[str, DeadlinePolicy]

    def for_version(self, version: str | None) -> DeadlinePolicy:
        if version is None:
            return self.current
        return self.versions.get(version, self.current)


def _period(value: Any, where: str) -> Period:
    if not isinstance(value, dict) or len(value) != 1:
        raise PolicyError(f"{where} must be one of {{\"days\": N}}, {{\"working_days\": N}}, "
                          "{\"months\": N} or {\"hours\": N}")
    ((unit, amount),) = value.items()
    if unit not in UNITS or not isinstance(amount, int) or isinstance(amount, bool) \
            or not 0 < amount <= 10_000:
        raise PolicyError(f"{where}: {unit!r} {amount!r} is not a positive number of "
                          f"{', '.join(UNITS)}")
    return Period(amount, unit)


def _non_negative(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 3650:
        raise PolicyError(f"{where} must be a whole number of days")
    return value


def _version(name: str, data: Any, holidays: frozenset[date]) -> DeadlinePolicy:
    if not isinstance(data, dict):
        raise PolicyError(f"version {name!r} must be an object")
    policy = replace(BUILT_IN, version=name, holidays=holidays)
    changes: dict[str, Any] = {}
    for key in ("acknowledge", "status_update", "feedback", "board_notice", "quarterly_pack"):
        if key in data:
            changes[key] = _period(data[key], f"{name}.{key}")
    if "checkins" in data:
        if not isinstance(data["checkins"], list):
            raise PolicyError(f"{name}.checkins must be a list of periods")
        changes["checkins"] = tuple(_period(p, f"{name}.checkins") for p in data["checkins"])
    for key in ("checkin_window_days", "max_pause_days"):
        if key in data:
            changes[key] = _non_negative(data[key], f"{name}.{key}")
    if "ladder" in data:
        ladder = data["ladder"]
        if not isinstance(ladder, dict) or set(ladder) - {"before_days", "route_after_days",
                                                           "board_after_days"}:
            raise PolicyError(f"{name}.ladder takes before_days, route_after_days and "
                              "board_after_days")
        values = {k: _non_negative(v, f"{name}.ladder.{k}") for k, v in ladder.items()}
        changes["ladder"] = replace(Ladder(), **values)
    unknown = set(data) - set(changes) - {"ladder"}
    if unknown:
        raise PolicyError(f"version {name!r} has unknown settings: {', '.join(sorted(unknown))}")
    return replace(policy, **changes)


def load_policies(instance_path: Path) -> PolicySet:
    """The built-in version plus those of ``instance/deadline_policy.json``, if present."""
    path = instance_path / POLICY_FILE
    if not path.exists():
        return PolicySet(BUILT_IN, {BUILT_IN_VERSION: BUILT_IN})
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise PolicyError("the file must hold one JSON object")
        holidays = frozenset(date.fromisoformat(str(d)) for d in data.get("holidays", []))
        versions = {str(name): _version(str(name), body, holidays)
                    for name, body in dict(data.get("versions", {})).items()}
    except (ValueError, TypeError) as error:
        raise PolicyError(f"{path} is not a valid deadline policy: {error}") from None
    except PolicyError as error:
        raise PolicyError(f"{path}: {error}") from None
    if BUILT_IN_VERSION in versions:
        raise PolicyError(f"{path}: the version name {BUILT_IN_VERSION!r} is reserved")
    if any(len(name) > 32 or not name for name in versions):
        raise PolicyError(f"{path}: a version name has 1 to 32 characters")
    versions[BUILT_IN_VERSION] = replace(BUILT_IN, holidays=holidays)
    current = str(data.get("current", BUILT_IN_VERSION))
    if current not in versions:
        raise PolicyError(f"{path}: the current version {current!r} is not among the versions")
    return PolicySet(versions[current], versions)
