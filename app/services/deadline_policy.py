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

Each version names only what differs from the newest built-in one; the file takes only the
keys ``current``, ``holidays`` and ``versions`` (anything else, a misspelling included, is
refused). Holidays are given once for the file and copied into each version as it is first
stored; Saturdays and Sundays are never working days.

The file is where versions are written; the database is where every process reads them
(app/services/deadline_store.py). A version, once stored, never changes: a case keeps the
version and the calendar it was opened under, and a process that does not know a case's
version leaves the case alone and says so (UnknownPolicyVersion), never putting another
version in its place.
"""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

POLICY_FILE = "deadline_policy.json"
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
    ``board_after_days`` late (never before the route step)."""

    before_days: int = 2
    route_after_days: int = 2
    board_after_days: int = 7

    def steps(self, due_on: date) -> tuple[tuple[str, date], ...]:
        return (("before", due_on - timedelta(days=self.before_days)), ("due", due_on),
                ("route", due_on + timedelta(days=self.route_after_days)),
                ("board", due_on + timedelta(days=self.board_after_days)))


# A critical safety incident's clocks are short and statutory: everyone the policy names is
# told at once (the "before" step falls on the day of the flag), and the Board tier a day
# after the route step.
INCIDENT_LADDER = Ladder(before_days=15, route_after_days=1, board_after_days=2)
# Clock names (24 characters at most, the width of the columns that store them).
INCIDENT_CLOCKS = ("critical_incident", "incident_imminent")
ROLE_NAMES = ("rso", "executive", "board")


@dataclass(frozen=True)
class DeadlinePolicy:
    version: str
    acknowledge: Period = Period(7)
    # Prompt investigation (RSP v3 §4, ISO 37002): triage from acknowledgement, and the start
    # of the investigation from triage. None: no such clock (the first built-in version).
    triage: Period | None = Period(7)
    investigation_start: Period | None = Period(14)
    status_update: Period = Period(30)
    feedback: Period = Period(3, "months")
    board_notice: Period = Period(72, "hours")
    # B&P §22757.13(c): 15 days from discovery, 24 hours with imminent risk of death or
    # serious injury. Who is told besides the case's readers: holders of these roles.
    critical_incident: Period = Period(15)
    critical_incident_imminent: Period = Period(24, "hours")
    incident_notify: tuple[str, ...] = ("rso", "executive")
    incident_ladder: Ladder = INCIDENT_LADDER
    # Retaliation check-ins after closure (ISO 37002), and how early a contact counts.
    checkins: tuple[Period, ...] = (Period(3, "months"), Period(6, "months"))
    checkin_window_days: int = 30
    # The quarterly pack is due this long after the quarter ends.
    quarterly_pack: Period = Period(30)
    # SB 53 (Labor Code §1107.1(e)(2)): each quarter's share of an SB 53 disclosure and its
    # response with officers and directors is due this long after the quarter ends. None: no
    # such clock (built-in versions before it existed).
    sb53_share: Period | None = Period(30)
    ladder: Ladder = field(default_factory=Ladder)
    holidays: frozenset[date] = frozenset()

    def ladder_for(self, clock: str) -> Ladder:
        return self.incident_ladder if clock in INCIDENT_CLOCKS else self.ladder

    def describe(self) -> list[tuple[str, str]]:
        rows = [("Acknowledge", f"{self.acknowledge.describe()} from receipt")]
        if self.triage:
            rows.append(("Triage", f"{self.triage.describe()} from acknowledgement"))
        if self.investigation_start:
            rows.append(("Start of the investigation",
                         f"{self.investigation_start.describe()} from triage"))
        return [
            *rows,
            ("Status update to the reporter", f"every {self.status_update.describe()}"),
            ("Feedback", f"{self.feedback.describe()} from acknowledgement (never extended)"),
            ("Board notice of a material-risk finding", f"{self.board_notice.describe()}"),
            ("Notice of a critical safety incident to the authority",
             f"{self.critical_incident.describe()} from the flag; "
             f"{self.critical_incident_imminent.describe()} with imminent risk"),
            ("Follow-up check-ins after closure",
             ", ".join(p.describe() for p in self.checkins)),
            ("Quarterly pack", f"{self.quarterly_pack.describe()} after the quarter ends"),
            *([("SB 53 share with officers and directors",
                f"{self.sb53_share.describe()} after each quarter the disclosure is open")]
              if self.sb53_share else []),
        ]


BUILT_IN_VERSION = "builtin-2027-01"
# The first built-in version, which cases opened under it keep: no triage or
# start-of-investigation clock. The second has those, and no SB 53 sharing clock.
FIRST_BUILT_IN_VERSION = "builtin-2026"
SECOND_BUILT_IN_VERSION = "builtin-2026-12"
BUILT_IN = DeadlinePolicy(version=BUILT_IN_VERSION)
BUILT_INS = {BUILT_IN_VERSION: BUILT_IN,
             SECOND_BUILT_IN_VERSION: DeadlinePolicy(version=SECOND_BUILT_IN_VERSION,
                                                     sb53_share=None),
             FIRST_BUILT_IN_VERSION: DeadlinePolicy(version=FIRST_BUILT_IN_VERSION,
                                                    triage=None, investigation_start=None,
                                                    sb53_share=None)}


class UnknownPolicyVersion(Exception):
    """A case names a policy version this process does not know: leave the case alone."""


@dataclass(frozen=True)
class PolicySet:
    current: DeadlinePolicy
    versions: dict[str, DeadlinePolicy]

    def for_version(self, version: str | None) -> DeadlinePolicy:
        """The case's version (the current one for a case not yet given one);
        UnknownPolicyVersion for a version this process does not know, never a stand-in."""
        if version is None:
            return self.current
        policy = self.versions.get(version)
        if policy is None:
            raise UnknownPolicyVersion(version)
        return policy

    def knows(self, version: str | None) -> bool:
        return version is None or version in self.versions


def built_in_set() -> PolicySet:
    return PolicySet(BUILT_IN, dict(BUILT_INS))


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


def _ladder(value: Any, where: str) -> Ladder:
    if not isinstance(value, dict) or set(value) - {"before_days", "route_after_days",
                                                     "board_after_days"}:
        raise PolicyError(f"{where} takes before_days, route_after_days and board_after_days")
    values = {k: _non_negative(v, f"{where}.{k}") for k, v in value.items()}
    ladder = replace(Ladder(), **values)
    if ladder.board_after_days < ladder.route_after_days:
        raise PolicyError(f"{where}: the Board step (board_after_days "
                          f"{ladder.board_after_days}) comes before the route step "
                          f"(route_after_days {ladder.route_after_days})")
    return ladder


PERIODS = ("acknowledge", "status_update", "feedback", "board_notice", "quarterly_pack",
           "critical_incident", "critical_incident_imminent")
OPTIONAL_PERIODS = ("triage", "investigation_start", "sb53_share")
REMOVED = {"max_pause_days": "max_pause_days is no longer a setting: waiting for the reporter "
                             "never moves the feedback date (EU Directive art. 9(1)(f))"}


def _version(name: str, data: Any, holidays: frozenset[date]) -> DeadlinePolicy:
    if not isinstance(data, dict):
        raise PolicyError(f"version {name!r} must be an object")
    for key, why in REMOVED.items():
        if key in data:
            raise PolicyError(f"{name}: {why}")
    changes: dict[str, Any] = {}
    for key in PERIODS:
        if key in data:
            changes[key] = _period(data[key], f"{name}.{key}")
    for key in OPTIONAL_PERIODS:
        if key in data:
            changes[key] = None if data[key] is None else _period(data[key], f"{name}.{key}")
    if "checkins" in data:
        if not isinstance(data["checkins"], list):
            raise PolicyError(f"{name}.checkins must be a list of periods")
        changes["checkins"] = tuple(_period(p, f"{name}.checkins") for p in data["checkins"])
    if "checkin_window_days" in data:
        changes["checkin_window_days"] = _non_negative(data["checkin_window_days"],
                                                       f"{name}.checkin_window_days")
    for key in ("ladder", "incident_ladder"):
        if key in data:
            changes[key] = _ladder(data[key], f"{name}.{key}")
    if "incident_notify" in data:
        roles = data["incident_notify"]
        if not isinstance(roles, list) or any(r not in ROLE_NAMES for r in roles):
            raise PolicyError(f"{name}.incident_notify is a list of roles among "
                              f"{', '.join(ROLE_NAMES)}")
        changes["incident_notify"] = tuple(dict.fromkeys(roles))
    unknown = set(data) - set(changes)
    if unknown:
        raise PolicyError(f"version {name!r} has unknown settings: {', '.join(sorted(unknown))}")
    return replace(BUILT_IN, version=name, holidays=holidays, **changes)


def settings_of(policy: DeadlinePolicy) -> str:
    """The whole version as JSON, in the file's own format plus its holidays: what the
    database keeps, so that no later change of defaults or holidays moves its deadlines."""

    def period(value: Period | None) -> dict[str, int] | None:
        return None if value is None else {value.unit: value.amount}

    def ladder(value: Ladder) -> dict[str, int]:
        return {"before_days": value.before_days, "route_after_days": value.route_after_days,
                "board_after_days": value.board_after_days}

    body: dict[str, Any] = {key: period(getattr(policy, key))
                            for key in (*PERIODS, *OPTIONAL_PERIODS)}
    body.update(checkins=[period(p) for p in policy.checkins],
                checkin_window_days=policy.checkin_window_days,
                ladder=ladder(policy.ladder), incident_ladder=ladder(policy.incident_ladder),
                incident_notify=list(policy.incident_notify))
    return json.dumps({"holidays": sorted(d.isoformat() for d in policy.holidays),
                       "settings": body}, sort_keys=True)


def policy_from_settings(version: str, stored: str) -> DeadlinePolicy:
    """A version as ``settings_of`` stored it; PolicyError if it cannot be read."""
    try:
        data = json.loads(stored)
        holidays = frozenset(date.fromisoformat(str(d)) for d in data["holidays"])
        settings = data["settings"]
        # Stored before the SB 53 sharing clock existed: the version never had it.
        if isinstance(settings, dict) and "sb53_share" not in settings:
            settings = {**settings, "sb53_share": None}
        return _version(version, settings, holidays)
    except (ValueError, TypeError, KeyError) as error:
        raise PolicyError(f"stored version {version!r} is unreadable: {error}") from None


TOP_LEVEL = ("current", "holidays", "versions")


def load_policies(instance_path: Path) -> PolicySet:
    """The built-in versions plus those of ``instance/deadline_policy.json``, if present."""
    path = instance_path / POLICY_FILE
    if not path.exists():
        return built_in_set()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise PolicyError("the file must hold one JSON object")
        unknown = sorted(set(data) - set(TOP_LEVEL))
        if unknown:
            raise PolicyError(f"unknown top-level keys {', '.join(map(repr, unknown))}: the "
                              f"file takes only {', '.join(TOP_LEVEL)}")
        if not isinstance(data.get("holidays", []), list) \
                or not isinstance(data.get("versions", {}), dict):
            raise PolicyError("holidays is a list of dates and versions an object")
        holidays = frozenset(date.fromisoformat(str(d)) for d in data.get("holidays", []))
        versions = {str(name): _version(str(name), body, holidays)
                    for name, body in dict(data.get("versions", {})).items()}
    except (ValueError, TypeError) as error:
        raise PolicyError(f"{path} is not a valid deadline policy: {error}") from None
    except PolicyError as error:
        raise PolicyError(f"{path}: {error}") from None
    reserved = set(versions) & set(BUILT_INS)
    if reserved:
        raise PolicyError(f"{path}: the version name {sorted(reserved)[0]!r} is reserved")
    if any(len(name) > 32 or not name for name in versions):
        raise PolicyError(f"{path}: a version name has 1 to 32 characters")
    versions.update(BUILT_INS)
    current = str(data.get("current", BUILT_IN_VERSION))
    if current not in versions:
        raise PolicyError(f"{path}: the current version {current!r} is not among the versions")
    return PolicySet(versions[current], versions)
