"""Statistics from case metadata only, for governance: never content, never a case, never a
person. Everything is computed by SQL aggregates (GROUP BY month of a date, or by a whole
number of days), so the work grows with the number of distinct months and day counts, not with
the number of cases; a window of quarters is the finest time unit ever returned.

``gather`` reads the raw counts; they are never printed as they are: app/services/releases.py
makes releases of them, checked by app/services/disclosure.py against everything the audience
already holds and recorded in the ledger, and app/services/packs.py assembles what pages, CSV,
JSON and the CLI print from released figures only.

Scopes
------
- ``board``: every case received in the window.
- ``officers``: the SB 53 pack for officers and directors (Labor Code 1107.1(e)) leaves out
  every case that accuses one of them: a case flagged ``concerns_rso``, or one where the
  reporter named as concerned (a ``CaseExclusion`` with reason "concerned") any staff member
  holding the ``rso``, ``executive``, ``board`` or ``officer`` role (the last is the register
  of officers and directors, who receive the quarterly shares: app/services/officer_shares.py).
  The pack goes to all officers and directors at once, so such a case is left out whole
  rather than per reader; recusals do not count as accusations.
- ``public``: the same cases as ``board``, printed with the public k (10 by default).

Cases received today are never counted, whoever asks and however the figures are kept: a
count that moved during the day would tell anyone watching it (or comparing a copy of the
database with a snapshot of the counts) when a report came in more finely than the day its
row keeps. Figures cover cases received before the day they are counted on.

Clocks are measured against the statutory periods in calendar days (acknowledge within 7 days
of receipt; findings within 3 months of acknowledgement; Board notice within 3 days of a
substantiated material-risk finding), ignoring pauses, so figures stay comparable across
deadline-policy versions. A case still waiting past its due date counts as late.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
)

from app.extensions import DbSession
from app.models import Case, CaseEvent, CaseExclusion, StaffRole
from app.quarters import Quarter
from app.roles import Role
from app.services import suppression
from app.services.suppression import Cell, SuppressedSeries, SuppressedTable
from app.taxonomy import Taxonomy
from app.vocabulary import Outcome

Scope = Literal["board", "officers", "public"]
SCOPES: tuple[Scope, ...] = ("board", "officers", "public")
# The case-handling roles and the register of officers and directors (Role.OFFICER): a case
# naming any holder as concerned accuses an officer or director.
OFFICER_ROLES = (Role.RSO.value, Role.EXECUTIVE.value, Role.BOARD.value, Role.OFFICER.value)
ROUTES = ("rso", "executive", "board")
SUBSTANTIATED = (Outcome.SUBSTANTIATED, Outcome.PARTLY_SUBSTANTIATED)
ACKNOWLEDGE_DAYS = 7
FEEDBACK_MONTHS = 3
BOARD_NOTICE_DAYS = 3
WINDOW_QUARTERS = 4
# Events that tell the Board (app/services/deadlines.py): a notice, or escalation to its tier.
BOARD_NOTICE_EVENTS = ("board_notified", "escalated")


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month: the finest period any figure is built from."""

    year: int
    number: int

    @property
    def label(self) -> str:
        return f"{self.year}-{self.number:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.number, 1)

    @property
    def next_first_day(self) -> date:
        return date(self.year + self.number // 12, self.number % 12 + 1, 1)


def months_of(quarter: Quarter) -> list[Month]:
    return [Month(quarter.year, 3 * quarter.number - 2 + i) for i in range(3)]


class Period(Protocol):
    """A quarter or a month: what ``gather`` counts by."""

    @property
    def label(self) -> str: ...

    @property
    def first_day(self) -> date: ...

    @property
    def next_first_day(self) -> date: ...


def window(last: Quarter, quarters: int = WINDOW_QUARTERS) -> list[Quarter]:
    return [last.shifted(i) for i in range(1 - quarters, 1)]


# --- raw figures ------------------------------------------------------------------------------
@dataclass
class ClockCounts:
    on_time: int = 0
    late: int = 0

    @property
    def due(self) -> int:
        return self.on_time + self.late


@dataclass
class Raw:
    """Unsuppressed counts: never printed as they are."""

    quarters: list[Period]
    by_category: dict[str, list[int]] = field(default_factory=dict)
    by_route: dict[str, list[int]] = field(default_factory=dict)
    by_status: Counter[str] = field(default_factory=Counter)
    by_outcome: Counter[str] = field(default_factory=Counter)
    # per duration name: per quarter index (or None for the window) -> {days: cases}
    durations: dict[str, dict[int | None, Counter[int]]] = field(default_factory=dict)
    clocks: dict[str, list[ClockCounts]] = field(default_factory=dict)
    escalations: list[int] = field(default_factory=list)
    board_notices: list[int] = field(default_factory=list)
    corrective_actions: int = 0
    retaliation: int = 0
    material_risk_found: int = 0

    @property
    def total(self) -> int:
        return sum(sum(row) for row in self.by_category.values())

    def minus(self, part: Raw) -> Raw:
        """These counts without those of ``part`` (cases that are a subset of these, counted
        over the same periods on the same day)."""
        def rows(mine: dict[str, list[int]], theirs: dict[str, list[int]]
                 ) -> dict[str, list[int]]:
            return {key: [a - b for a, b in zip(values, theirs.get(key, [0] * len(values)),
                                                strict=True)]
                    for key, values in mine.items()}

        return Raw(
            quarters=self.quarters, by_category=rows(self.by_category, part.by_category),
            by_route=rows(self.by_route, part.by_route),
            by_status=self.by_status - part.by_status,
            by_outcome=self.by_outcome - part.by_outcome,
            durations={name: {q: histogram - part.durations.get(name, {}).get(q, Counter())
                              for q, histogram in per.items()}
                       for name, per in self.durations.items()},
            clocks={name: [ClockCounts(a.on_time - b.on_time, a.late - b.late)
                           for a, b in zip(counts, part.clocks.get(name, []), strict=True)]
                    for name, counts in self.clocks.items()},
            escalations=[a - b for a, b in zip(self.escalations, part.escalations,
                                               strict=True)],
            board_notices=[a - b for a, b in zip(self.board_notices, part.board_notices,
                                                 strict=True)],
            corrective_actions=self.corrective_actions - part.corrective_actions,
            retaliation=self.retaliation - part.retaliation,
            material_risk_found=self.material_risk_found - part.material_risk_found)


def accuses_an_officer() -> ColumnElement[bool]:
    """SQL condition: the case accuses an officer or director (see the module docstring)."""
    named_officer = exists().where(
        CaseExclusion.case_id == Case.id, CaseExclusion.reason == "concerned",
        exists().where(StaffRole.staff_id == CaseExclusion.staff_id,
                       StaffRole.role.in_(OFFICER_ROLES)),
    )
    return or_(Case.concerns_rso.is_(True), named_officer)


# "accused": the cases the officers' pack leaves out (the Board's base minus the officers').
Base = Literal["board", "officers", "public", "accused"]


def _scope_filter(scope: Base, accused: Sequence[int] | None = None
                  ) -> list[ColumnElement[bool]]:
    if scope == "accused":
        return [Case.id.in_(accused)] if accused is not None else [accuses_an_officer()]
    return [~accuses_an_officer()] if scope == "officers" else []


def accused_cases(session: DbSession, start: date, end: date) -> list[int]:
    """The cases received in [start, end) that accuse an officer or director: one pass over
    the days, so that counting them then touches only these rows."""
    return list(session.scalars(select(Case.id).where(
        Case.received_on >= start, Case.received_on < end, accuses_an_officer())))


def _days(session: DbSession, later: Any, earlier: Any) -> Any:
    """Whole days between two DATE columns, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return later - earlier
    return cast(func.julianday(later) - func.julianday(earlier), Integer)


def _feedback_due(session: DbSession, start: Any) -> Any:
    """SQL: ``start`` + 3 calendar months, clamped to the month's end like
    ``deadline_policy.add_months`` (PostgreSQL's interval arithmetic clamps; SQLite's rolls
    over, so the end of the target month caps it)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(start + text(f"interval '{FEEDBACK_MONTHS} months'"), Date)
    return func.min(func.date(start, f"+{FEEDBACK_MONTHS} months"),
                    func.date(start, "start of month", f"+{FEEDBACK_MONTHS + 1} months",
                              "-1 day"))


def _quarter_index(column: Any, quarters: Sequence[Period]) -> Any:
    """SQL: which quarter of the window a date falls in (0-based), by comparisons only: much
    cheaper per row than extracting a month."""
    if len(quarters) == 1:
        return literal(0, Integer)
    return case(*[(column < q.next_first_day, i) for i, q in enumerate(quarters[:-1])],
                else_=len(quarters) - 1)


def _by_position(count: int) -> list[Any]:
    """GROUP BY 1, 2, ...: the grouped expressions carry bound parameters, which PostgreSQL
    would not recognise as the selected ones if they were repeated."""
    return [literal_column(str(n)) for n in range(1, count + 1)]


def gather(session: DbSession, quarters: Sequence[Period], scope: Base, today: date,
           taxonomy: Taxonomy, accused: Sequence[int] | None = None) -> Raw:
    """Every raw count for cases received in ``quarters`` (consecutive) in ``scope``: one
    grouped scan for the counts and clocks, one per duration, and two small ones over events.
    ``accused``: for the "accused" scope, those cases' ids when already known
    (``accused_cases``), so the counts read only their rows."""
    raw = Raw(quarters=list(quarters))
    start, end = quarters[0].first_day, quarters[-1].next_first_day
    # Never a case received today: a count that moved within the day would date a report
    # more finely than the day its row keeps (see the module docstring).
    in_window = [Case.received_on >= start, Case.received_on < min(end, today),
                 *_scope_filter(scope, accused)]
    width = len(quarters)
    slot = _quarter_index(Case.received_on, quarters)
    on = literal(today, Date)
    raw.by_category = {c.id: [0] * width for c in taxonomy.categories}
    raw.by_route = {r: [0] * width for r in ROUTES}
    raw.clocks = {name: [ClockCounts() for _ in range(width)] for name in
                  ("acknowledge", "feedback", "board_notice")}

    retaliation = or_(Case.category == "retaliation", Case.link_kind == "retaliation")
    risk = and_(Case.outcome.in_(SUBSTANTIATED), Case.material_risk_found.is_(True))
    # Comparisons with constants, not date arithmetic per row: the main scan stays cheap.
    ack_overdue = and_(Case.acknowledged_on.is_(None),
                       Case.received_on < literal(today - timedelta(days=ACKNOWLEDGE_DAYS),
                                                  Date))
    due = _feedback_due(session, Case.acknowledged_on)
    feedback = case(
        (Case.acknowledged_on.is_(None), None),
        (Case.findings_on.is_not(None), case((Case.findings_on <= due, "on_time"),
                                             else_="late")),
        (on > due, "late"), else_=None)
    columns = (slot, Case.category, Case.route, Case.status, Case.outcome, retaliation, risk,
               ack_overdue, feedback)
    grouped = select(*columns, func.count()).where(*in_window).group_by(
        *_by_position(len(columns)))
    for q, category, route, status, outcome, is_retaliation, is_risk, overdue, fb, count in \
            session.execute(grouped):
        raw.by_category.setdefault(category, [0] * width)[q] += count
        raw.by_route.setdefault(route, [0] * width)[q] += count
        raw.by_status[status] += count
        if outcome:
            raw.by_outcome[outcome] += count
        raw.retaliation += count if is_retaliation else 0
        raw.material_risk_found += count if is_risk else 0
        raw.clocks["acknowledge"][q].late += count if overdue else 0
        if fb is not None:
            bucket = raw.clocks["feedback"][q]
            bucket.on_time += count if fb == "on_time" else 0
            bucket.late += count if fb == "late" else 0

    for name, done in (("acknowledge", Case.acknowledged_on), ("feedback", Case.findings_on),
                       ("close", Case.closed_on)):
        days = _days(session, done, Case.received_on)
        per: dict[int | None, Counter[int]] = defaultdict(Counter)
        for q, d, count in session.execute(
                select(slot, days, func.count()).where(*in_window, done.is_not(None))
                .group_by(*_by_position(2))):
            per[q][int(d)] += count
            per[None][int(d)] += count
            if name == "acknowledge":
                bucket = raw.clocks["acknowledge"][q]
                bucket.on_time += count if d <= ACKNOWLEDGE_DAYS else 0
                bucket.late += count if d > ACKNOWLEDGE_DAYS else 0
        raw.durations[name] = dict(per)

    raw.corrective_actions = session.scalar(
        select(func.count(func.distinct(CaseEvent.case_id)))
        .join(Case, Case.id == CaseEvent.case_id)
        .where(CaseEvent.kind == "corrective_action", Case.outcome.in_(SUBSTANTIATED),
               *in_window)) or 0
    _board_notice_clock(session, raw, in_window, slot, today)
    # Events: of cases received in any quarter, so never restricted to ``accused``.
    raw.escalations, raw.board_notices = _events(session, quarters, scope)
    return raw


def _board_notice_clock(session: DbSession, raw: Raw, in_window: list[ColumnElement[bool]],
                        slot: Any, today: date) -> None:
    """Substantiated material-risk findings: was the Board told within 3 days?"""
    told = (select(CaseEvent.case_id, func.min(CaseEvent.occurred_on).label("told_on"))
            .where(CaseEvent.kind.in_(BOARD_NOTICE_EVENTS))
            .group_by(CaseEvent.case_id).subquery())
    state = case(
        (told.c.told_on.is_not(None),
         case((_days(session, told.c.told_on, Case.findings_on) <= BOARD_NOTICE_DAYS,
               "on_time"), else_="late")),
        (Case.findings_on < literal(today - timedelta(days=BOARD_NOTICE_DAYS), Date), "late"),
        else_=None)
    for q, value, count in session.execute(
            select(slot, state, func.count())
            .select_from(Case).outerjoin(told, told.c.case_id == Case.id)
            .where(*in_window, Case.outcome.in_(SUBSTANTIATED),
                   Case.material_risk_found.is_(True), Case.findings_on.is_not(None))
            .group_by(*_by_position(2))):
        if value is not None:
            bucket = raw.clocks["board_notice"][q]
            bucket.on_time += count if value == "on_time" else 0
            bucket.late += count if value == "late" else 0


def _events(session: DbSession, quarters: Sequence[Period], scope: Base
            ) -> tuple[list[int], list[int]]:
    """Cases escalated, and Board notices given, per quarter in which it happened."""
    start, end = quarters[0].first_day, quarters[-1].next_first_day
    slot = _quarter_index(CaseEvent.occurred_on, quarters)
    escalations, notices = [0] * len(quarters), [0] * len(quarters)
    for kind, q, count in session.execute(
            select(CaseEvent.kind, slot, func.count(func.distinct(CaseEvent.case_id)))
            .join(Case, Case.id == CaseEvent.case_id)
            .where(CaseEvent.kind.in_(("escalated", "board_notified")),
                   CaseEvent.occurred_on >= start, CaseEvent.occurred_on < end,
                   *_scope_filter(scope))
            .group_by(*_by_position(2))):
        (escalations if kind == "escalated" else notices)[q] += count
    return escalations, notices


# --- publication ------------------------------------------------------------------------------
def percentile(histogram: Mapping[int, int], fraction: float) -> int:
    """Nearest-rank percentile of a {value: count} histogram (the median is fraction 0.5)."""
    total = sum(histogram.values())
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    raise ValueError("empty histogram")


WITHHELD = "suppressed"


@dataclass(frozen=True)
class Figure:
    id: str
    title: str
    cases: Cell
    median: int | str
    p90: int | str
    unit: str = "days"


@dataclass(frozen=True)
class Rate:
    id: str
    title: str
    value: float | str  # a share from 0 to 1, or WITHHELD
    basis: str  # what it is a share of, in words

    def display(self) -> str:
        return WITHHELD if isinstance(self.value, str) else f"{round(self.value * 100)}%"


@dataclass(frozen=True)
class NamedTable:
    id: str
    title: str
    row_labels: list[str]
    column_labels: list[str]
    table: SuppressedTable


@dataclass(frozen=True)
class NamedSeries:
    id: str
    title: str
    labels: list[str]
    series: SuppressedSeries


@dataclass(frozen=True)
class Pack:
    scope: Scope
    title: str
    k: int
    quarter: Quarter
    quarters: list[Quarter]
    generated_on: date
    tables: list[NamedTable]
    series: list[NamedSeries]
    figures: list[Figure]
    rates: list[Rate]
    trend_columns: list[str]
    trends: list[tuple[str, list[str]]]  # per quarter label: its printed figures
    rule: str
    # per column: which release it shows, in words ("released 2026-10-15, frozen")
    column_notes: list[tuple[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        def cells(values: Iterable[Cell]) -> list[int | str]:
            return [c.as_json() for c in values]

        return {
            "title": self.title, "scope": self.scope, "k": self.k,
            "quarter": self.quarter.label, "quarters": [q.label for q in self.quarters],
            "generated_on": self.generated_on.isoformat(), "rule": self.rule,
            "releases": [{"quarter": label, "release": note}
                         for label, note in self.column_notes],
            "symbols": {f"<{self.k}": f"a count from 0 to {self.k - 1}",
                        suppression.COMPLEMENTARY_SYMBOL: "withheld so that small counts "
                        "cannot be worked out from this and earlier figures",
                        suppression.NOT_RELEASED_SYMBOL: "not released (yet), or a total "
                        "of figures not all shown"},
            "tables": [{
                "id": t.id, "title": t.title, "columns": t.column_labels,
                "rows": [{"label": label, "cells": cells(row), "total": total.as_json()}
                         for label, row, total in zip(t.row_labels, t.table.cells,
                                                      t.table.row_totals, strict=True)],
                "column_totals": cells(t.table.column_totals),
                "total": t.table.total.as_json()} for t in self.tables],
            "series": [{
                "id": s.id, "title": s.title,
                "items": [{"label": label, "value": cell.as_json()}
                          for label, cell in zip(s.labels, s.series.values, strict=True)],
                "total": s.series.total.as_json()} for s in self.series],
            "figures": [{"id": f.id, "title": f.title, "unit": f.unit,
                         "cases": f.cases.as_json(), "median": f.median, "p90": f.p90}
                        for f in self.figures],
            "rates": [{"id": r.id, "title": r.title, "basis": r.basis,
                       "value": r.value if isinstance(r.value, str) else round(r.value, 3)}
                      for r in self.rates],
            "trends": {"columns": self.trend_columns,
                       "rows": [{"quarter": label, "values": values}
                                for label, values in self.trends]},
        }

    def csv_rows(self) -> list[list[str]]:
        """One flat sheet: section, row, column, value (symbols as printed)."""
        rows = [["section", "row", "column", "value"],
                ["pack", self.title, "quarter", self.quarter.label],
                ["pack", self.title, "k", str(self.k)]]
        rows += [["pack", "release", label, note] for label, note in self.column_notes]
        for t in self.tables:
            for label, row, total in zip(t.row_labels, t.table.cells, t.table.row_totals,
                                         strict=True):
                rows += [[t.id, label, col, cell.display()]
                         for col, cell in zip(t.column_labels, row, strict=True)]
                rows.append([t.id, label, "total", total.display()])
            rows += [[t.id, "total", col, cell.display()]
                     for col, cell in zip(t.column_labels, t.table.column_totals, strict=True)]
            rows.append([t.id, "total", "total", t.table.total.display()])
        for s in self.series:
            rows += [[s.id, label, "count", cell.display()]
                     for label, cell in zip(s.labels, s.series.values, strict=True)]
            rows.append([s.id, "total", "count", s.series.total.display()])
        for f in self.figures:
            rows += [[f.id, "cases", "", f.cases.display()], [f.id, "median", f.unit,
                                                               str(f.median)],
                     [f.id, "p90", f.unit, str(f.p90)]]
        rows += [[r.id, r.basis, "share", r.display()] for r in self.rates]
        for label, values in self.trends:
            rows += [["trends", label, column, value]
                     for column, value in zip(self.trend_columns, values, strict=True)]
        return rows


TITLES: dict[Scope, str] = {
    "board": "Quarterly Board pack",
    "officers": "Quarterly pack for officers and directors",
    "public": "Transparency report",
}
RULES: dict[Scope, str] = {
    "board": "All cases received in the quarters shown.",
    "officers": "Leaves out every case that accuses an officer or director (SB 53): cases that "
                "concern the RSO, and cases whose reporter named as concerned anyone holding "
                "the RSO, executive or Board role.",
    "public": "All cases received in the quarters shown, with larger small-count protection.",
}
ROUTE_LABELS = {"rso": "Responsible Scaling Officer", "executive": "Executive outside the "
                "RSO's line", "board": "Board"}
CLOCK_TITLES = {"acknowledge": "Acknowledged within 7 days",
                "feedback": "Findings within 3 months of acknowledgement",
                "board_notice": "Board told within 72 hours of a material-risk finding"}
