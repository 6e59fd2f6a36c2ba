"""The release model: every governance figure is part of a release to an audience, recorded in
the ledger, and checked against everything that audience already holds before it goes out.

Audiences
---------
- ``board``: the Board and the governance roles on this site (``k`` = CANDOR_STATISTICS_MIN_CELL);
  they also see the officers' figures and the public report.
- ``officers``: officers and directors (SB 53). Their base leaves out every case that accuses
  an officer or director (app/services/statistics.py, ``accuses_an_officer``).
- ``public``: the transparency report (``k`` = CANDOR_PUBLIC_MIN_CELL), visible to everyone.

Fixed outputs
-------------
Figures are released per calendar quarter, never for an arbitrary window:

- **Quarter to date** (Board only): on the first day of each month, the cases received so far in
  the quarter, by category and by route. At most one per month: the figures never move within
  a month, so no day's change can be watched. A figure withheld here shows as a dash that says
  nothing, not even whether it is small: "<5" in January and "*" (5 or more) in February would
  tell that February had at least one.
- **The quarter** (all three audiences at once): every figure of the pack for the quarter, with
  clocks and statuses as they stand on the day of release: when its packs are recorded as
  delivered, or at the latest on the 15th day after the quarter ends. Then frozen: a quarter is
  released once and never again.

A pack for four quarters prints the four quarters' releases side by side; a total over them is
printed only when every part is shown (it is then a sum anyone could do), else as a dash.

Quarters share no case, so the releases of one quarter are checked only against the other
releases of the same quarter: at most four to the Board, one each to officers and the public.
The Board's base contains the officers' base; how many cases one holds and the other does not
(cases that accuse an officer or director) is a protected count like any other, so an accused
director learns nothing from comparing the two packs.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import DbSession
from app.models import ReleasedFigure, StatisticsRelease
from app.quarters import Quarter
from app.services import disclosure
from app.services.disclosure import Figure, Known, Quantity, Relation
from app.services.statistics import (
    CLOCK_TITLES,
    ROUTES,
    SUBSTANTIATED,
    Raw,
    Scope,
    accused_cases,
    gather,
    months_of,
    percentile,
)
from app.services.suppression import Cell, Suppression
from app.taxonomy import Taxonomy
from app.vocabulary import OUTCOMES, STATUSES

log = logging.getLogger(__name__)
AUDIENCES: tuple[Scope, ...] = ("board", "officers", "public")
BASE: dict[str, Scope] = {"board": "board", "officers": "officers", "public": "board"}
# Cheaper to withhold first: the officers' figures, then the public's, then the Board's.
AUDIENCE_COST = {"officers": 0, "public": 10, "board": 20}
RELEASE_AFTER_DAYS = 14
ACCUSED_LIST_LIMIT = 5000  # beyond this, the accused cases are found by the filter itself
QUARTER, TO_DATE = "quarter", "to_date"
CLOCKS = tuple(CLOCK_TITLES)
DURATIONS = ("acknowledge", "feedback", "close")
STATISTIC = "statistic"  # a median or a percentile: printed, not a count


class ReleaseNotDue(ValueError):
    """The quarter has not ended: its figures cannot be released yet."""


@dataclass(frozen=True)
class Limits:
    internal_k: int
    public_k: int

    def k(self, audience: str) -> int:
        return self.public_k if audience == "public" else self.internal_k


# --- what a release holds ---------------------------------------------------------------------
def _count_layout(base: str, months: Sequence[int], taxonomy: Taxonomy,
                  whole_quarter: bool) -> list[tuple[str, tuple[str, ...], int]]:
    """(key, terms, cost) of every count figure: the quarter's whole set, or (quarter to
    date) the received counts only. The Board's base is counted by month, so that the
    quarter-to-date releases and the quarter's own can be checked together."""

    def by_month(dimension: str, value: str) -> tuple[str, ...]:
        if base == "officers":
            return (f"{base}/{dimension}/{value}",)
        return tuple(f"{base}/{dimension}/{value}/m{m}" for m in months)

    categories = [c.id for c in taxonomy.categories]
    everything = tuple(t for c in categories for t in by_month("cat", c))
    layout = [("total", everything, 2)]
    layout += [(f"category/{c}", by_month("cat", c), 0) for c in categories]
    layout += [(f"route/{r}", by_month("route", r), 0) for r in ROUTES]
    if not whole_quarter:
        return layout
    layout += [(f"status/{s}", (f"{base}/status/{s}",), 0) for s in STATUSES]
    layout += [(f"outcome/{o}", (f"{base}/outcome/{o}",), 0) for o in OUTCOMES]
    layout.append(("outcomes", tuple(f"{base}/outcome/{o}" for o in OUTCOMES), 1))
    layout += [(f"clock/{c}/{side}", (f"{base}/clock/{c}/{side}",), 0)
               for c in CLOCKS for side in ("on_time", "late")]
    layout += [(name, (f"{base}/{name}",), 0) for name in
               ("retaliation", "risk", "corrective", "escalated", "notified")]
    layout += [(f"done/{d}", (f"{base}/done/{d}",), 1) for d in DURATIONS]
    return layout


def _variables(base: str, raw: Raw, taxonomy: Taxonomy) -> dict[str, int]:
    """True values of the finest counts (never stored)."""
    values: dict[str, int] = {}
    months = range(len(raw.quarters))

    def put(dimension: str, value: str, per_month: list[int]) -> None:
        if base == "officers":
            values[f"{base}/{dimension}/{value}"] = sum(per_month)
        else:
            for m in months:
                values[f"{base}/{dimension}/{value}/m{m + 1}"] = per_month[m]

    for c in taxonomy.categories:
        put("cat", c.id, raw.by_category.get(c.id, [0] * len(months)))
    for r in ROUTES:
        put("route", r, raw.by_route.get(r, [0] * len(months)))
    for s in STATUSES:
        values[f"{base}/status/{s}"] = raw.by_status.get(s, 0)
    for o in OUTCOMES:
        values[f"{base}/outcome/{o}"] = raw.by_outcome.get(o, 0)
    for clock in CLOCKS:
        counts = raw.clocks.get(clock, [])
        values[f"{base}/clock/{clock}/on_time"] = sum(x.on_time for x in counts)
        values[f"{base}/clock/{clock}/late"] = sum(x.late for x in counts)
    values[f"{base}/retaliation"] = raw.retaliation
    values[f"{base}/risk"] = raw.material_risk_found
    values[f"{base}/corrective"] = raw.corrective_actions
    values[f"{base}/escalated"] = sum(raw.escalations)
    values[f"{base}/notified"] = sum(raw.board_notices)
    for d in DURATIONS:
        values[f"{base}/done/{d}"] = sum((raw.durations.get(d, {}).get(None) or {}).values())
    return values


def _relations(base: str, months: Sequence[int], taxonomy: Taxonomy,
               whole_quarter: bool) -> list[Relation]:
    """Identities an attacker knows whatever is printed."""
    suffixes = [""] if base == "officers" else [f"/m{m}" for m in months]
    relations = [Relation(tuple(f"{base}/cat/{c.id}{s}" for c in taxonomy.categories),
                          tuple(f"{base}/route/{r}{s}" for r in ROUTES), equal=True)
                 for s in suffixes]
    if not whole_quarter:
        return relations
    total = tuple(f"{base}/cat/{c.id}{s}" for c in taxonomy.categories for s in suffixes)
    substantiated = tuple(f"{base}/outcome/{o}" for o in SUBSTANTIATED)
    relations.append(Relation(tuple(f"{base}/status/{s}" for s in STATUSES), total, True))
    relations.append(Relation(tuple(f"{base}/outcome/{o}" for o in OUTCOMES), total))
    for c in CLOCKS:
        whole = substantiated if c == "board_notice" else total
        relations.append(Relation((f"{base}/clock/{c}/on_time", f"{base}/clock/{c}/late"),
                                  whole))
    relations += [Relation((f"{base}/retaliation",), total),
                  Relation((f"{base}/risk",), substantiated),
                  Relation((f"{base}/corrective",), substantiated),
                  Relation((f"{base}/clock/acknowledge/on_time",),
                           (f"{base}/done/acknowledge",))]
    relations += [Relation((f"{base}/done/{d}",), total) for d in DURATIONS]
    return relations


def _inside(months: Sequence[int], taxonomy: Taxonomy) -> list[tuple[tuple[str, ...], str]]:
    """Each officers' count and the Board's count it lies inside (the same cell)."""
    officer = {key: terms for key, terms, _ in _count_layout("officers", months, taxonomy,
                                                                 True)}
    return [(terms, officer[key][0])
            for key, terms, _ in _count_layout("board", months, taxonomy, True)
            if key not in ("total", "outcomes")]


# --- the ledger -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Released:
    """One release read back from the ledger, as its audience saw it."""

    audience: str
    kind: str
    quarter: Quarter
    covers_until: date
    released_on: date
    k: int
    cells: dict[str, Cell]
    statistics: dict[str, int]

    def cell(self, key: str) -> Cell:
        return self.cells.get(key, Cell(None, Suppression.NOT_RELEASED, self.k))

    @property
    def note(self) -> str:
        last = (self.covers_until - timedelta(days=1)).isoformat()
        if self.kind == TO_DATE:
            return (f"quarter to date: cases received up to {last}, released "
                    f"{self.released_on.isoformat()}")
        return f"released {self.released_on.isoformat()}, frozen"


def _read(session: DbSession, row: StatisticsRelease) -> Released:
    cells: dict[str, Cell] = {}
    statistics: dict[str, int] = {}
    k = 0
    for key, state, value, figure_k in session.execute(
            select(ReleasedFigure.key, ReleasedFigure.state, ReleasedFigure.value,
                   ReleasedFigure.k).where(ReleasedFigure.release_id == row.id)):
        if state == STATISTIC:
            if value is not None:
                statistics[key] = value
            continue
        k = figure_k
        cells[key] = Cell(value, Suppression(state), figure_k)
    return Released(row.audience, row.kind, Quarter.parse(row.period), row.covers_until,
                    row.released_on, k, cells, statistics)


def _held(session: DbSession, audiences: Iterable[str], quarter: Quarter) -> list[Known]:
    rows = session.execute(
        select(ReleasedFigure.terms, ReleasedFigure.value, ReleasedFigure.state,
               ReleasedFigure.k)
        .join(StatisticsRelease, StatisticsRelease.id == ReleasedFigure.release_id)
        .where(StatisticsRelease.audience.in_(list(audiences)),
               StatisticsRelease.period == quarter.label, ReleasedFigure.state != STATISTIC))
    return [Known.of(terms.split(), value, Suppression(state), k)
            for terms, value, state, k in rows]


def _release(session: DbSession, quarter: Quarter, kind: str, covers_until: date,
             released_on: date, taxonomy: Taxonomy, results: dict[str, list[tuple[
                 Figure, Suppression]]], statistics: dict[str, dict[str, int]]) -> None:
    for audience, figures in results.items():
        withheld = sum(1 for _, state in figures if state is not Suppression.SHOWN)
        row = StatisticsRelease(audience=audience, kind=kind, period=quarter.label,
                                covers_until=covers_until, released_on=released_on,
                                taxonomy_version=taxonomy.version, figures=len(figures),
                                withheld=withheld)
        session.add(row)
        session.flush()
        session.add_all([ReleasedFigure(
            release_id=row.id, key=f.key, terms=" ".join(f.terms), state=state.value,
            value=f.value if state is Suppression.SHOWN else None, k=f.k)
            for f, state in figures])
        session.add_all([ReleasedFigure(release_id=row.id, key=key, terms="", state=STATISTIC,
                                        value=value, k=0)
                         for key, value in statistics.get(audience, {}).items()])


def _record_once(session: DbSession, quarter: Quarter, kind: str, covers_until: date,
                 released_on: date, taxonomy: Taxonomy,
                 results: dict[str, list[tuple[Figure, Suppression]]],
                 statistics: dict[str, dict[str, int]]) -> bool:
    """Record and commit a release; False when another request or tick made the same one
    first (the unique constraint on the ledger), whose figures then stand."""
    try:
        _release(session, quarter, kind, covers_until, released_on, taxonomy, results,
                 statistics)
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def _find(session: DbSession, audience: str, kind: str, quarter: Quarter,
          covers_until: date | None = None) -> StatisticsRelease | None:
    query = select(StatisticsRelease).where(
        StatisticsRelease.audience == audience, StatisticsRelease.kind == kind,
        StatisticsRelease.period == quarter.label)
    if covers_until is not None:
        query = query.where(StatisticsRelease.covers_until == covers_until)
    return session.scalars(query.order_by(StatisticsRelease.covers_until.desc())).first()


# --- making releases --------------------------------------------------------------------------
def _quantities(values: dict[str, int], figures: Iterable[Figure], held_terms: Iterable[
        tuple[str, ...]], k: int, extra: Iterable[tuple[str, tuple[str, ...],
                                                        tuple[str, ...]]] = ()
                ) -> list[Quantity]:
    """Every finest count, every figure's sum and every extra difference, with its value."""
    seen: set[tuple[tuple[str, ...], tuple[str, ...]]] = set()
    quantities = []

    def add(name: str, plus: tuple[str, ...], minus: tuple[str, ...] = ()) -> None:
        key = (tuple(sorted(plus)), tuple(sorted(minus)))
        if key in seen or any(t not in values for t in (*plus, *minus)):
            return
        seen.add(key)
        value = sum(values[t] for t in plus) - sum(values[t] for t in minus)
        if 1 <= value < k:
            quantities.append(Quantity(name, plus, minus, value, k))

    for name in values:
        add(name, (name,))
    for figure in figures:
        add(figure.key, figure.terms)
    for terms in held_terms:
        add(" ".join(terms), terms)
    for name, plus, minus in extra:
        add(name, plus, minus)
    return quantities


def _month_totals(values: dict[str, int], months: Sequence[int], taxonomy: Taxonomy
                  ) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    return [(f"board/received/m{m}", tuple(f"board/cat/{c.id}/m{m}"
                                           for c in taxonomy.categories), ())
            for m in months]


def release_to_date(session: DbSession, quarter: Quarter, today: date, taxonomy: Taxonomy,
                    limits: Limits) -> Released | None:
    """The latest quarter-to-date release due on ``today`` (made now if not yet), or None
    before the quarter's first month has ended."""
    months = months_of(quarter)
    ended = [m for m in months if m.next_first_day <= today]
    if not ended:
        return None
    covers_until = ended[-1].next_first_day
    existing = _find(session, "board", TO_DATE, quarter, covers_until)
    if existing is None:
        numbers = list(range(1, len(ended) + 1))
        raw = gather(session, ended, "board", covers_until, taxonomy)
        values = _variables("board", raw, taxonomy)
        k = limits.internal_k
        figures = [Figure(key, terms, sum(values[t] for t in terms), k, AUDIENCE_COST["board"]
                          + cost, withheld_as=Suppression.NOT_RELEASED)
                   for key, terms, cost in _count_layout("board", numbers, taxonomy, False)]
        held = _held(session, ("board", "officers", "public"), quarter)
        quantities = _quantities(values, figures, [h.terms for h in held], k,
                                 _month_totals(values, numbers, taxonomy))
        outcome = disclosure.protect(figures, held, _relations("board", [1, 2, 3], taxonomy,
                                                               False), quantities)
        for name in outcome.unresolved:
            log.error("statistics release %s to date: %s is exposed by earlier releases",
                      quarter, name)
        _record_once(session, quarter, TO_DATE, covers_until, today, taxonomy,
                     {"board": [(f, outcome.states[f.key]) for f in figures]}, {})
        existing = _find(session, "board", TO_DATE, quarter, covers_until)
    return _read(session, existing) if existing is not None else None


def _says_nothing(audience: str, key: str) -> Suppression | None:
    """Which withheld figures show a dash that says nothing, rather than "<k" or "*":

    - counts of reports received (in total, by category, by route): a quarter-to-date release
      may have printed the first months exactly, and "<5" or "*" (5 or more) for the whole
      quarter beside it would bound the months after;
    - every figure of the officers' pack: its "*" (5 or more) beside the Board's count of the
      same cell bounds how many cases the officers' pack leaves out, and its "<5" beside the
      Board's "*" says that at least one was (a case accusing an officer or director)."""
    if audience == "officers" or key == "total" or key.startswith(("category/", "route/")):
        return Suppression.NOT_RELEASED
    return None


def quarter_release_due(quarter: Quarter, today: date) -> bool:
    return today >= quarter.next_first_day + timedelta(days=RELEASE_AFTER_DAYS)


def release_quarter(session: DbSession, quarter: Quarter, today: date, taxonomy: Taxonomy,
                    limits: Limits) -> bool:
    """Release the quarter to all three audiences at once (False if it already was)."""
    if today < quarter.next_first_day:
        raise ReleaseNotDue(f"{quarter.label} has not ended yet")
    if _find(session, "board", QUARTER, quarter) is not None:
        return False
    months = [1, 2, 3]
    periods = months_of(quarter)
    # The officers' base is the Board's without the accused cases: two scans of the quarter
    # where the second matches only those few, rather than two full ones.
    board = gather(session, periods, "board", today, taxonomy)
    ids = accused_cases(session, quarter.first_day, min(quarter.next_first_day, today))
    raws = {"board": board,
            "officers": board.minus(gather(session, periods, "accused", today, taxonomy,
                                           ids if len(ids) <= ACCUSED_LIST_LIMIT else None))}
    values = {**_variables("board", raws["board"], taxonomy),
              **_variables("officers", raws["officers"], taxonomy)}
    figures: dict[str, list[Figure]] = {}
    for audience in AUDIENCES:
        base, k = BASE[audience], limits.k(audience)
        figures[audience] = [
            Figure(f"{audience}:{key}", terms, sum(values[t] for t in terms), k,
                   AUDIENCE_COST[audience] + cost, cell=key,
                   withheld_as=_says_nothing(audience, key))
            for key, terms, cost in _count_layout(base, months, taxonomy, True)]
    relations = [*_relations("board", months, taxonomy, True),
                 *_relations("officers", months, taxonomy, True),
                 *[Relation((officer,), board) for board, officer in _inside(months,
                                                                             taxonomy)]]
    # The public first, against what the public holds (nothing else of this quarter)...
    public_values = {t: values[t] for f in figures["public"] for t in f.terms}
    public = disclosure.protect(
        figures["public"], [], _relations("board", months, taxonomy, True),
        [q for q in _quantities(public_values, figures["public"], [], limits.public_k)
         if q.name.startswith("public:")])
    # ... then everything together against what the Board holds: the officers' pack and the
    # public report are both in its hands, and so are the quarter-to-date releases.
    held = _held(session, ("board", "officers", "public"), quarter)
    together = [*figures["officers"], *figures["board"], *figures["public"]]
    differences: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
        (f"board-officers/{' '.join(board)}", board, (officer,))
        for board, officer in _inside(months, taxonomy)]
    differences.append(("board-officers/total",
                        next(f.terms for f in figures["board"] if f.key == "board:total"),
                        next(f.terms for f in figures["officers"] if f.key == "officers:total")))
    quantities = _quantities(values, together, [h.terms for h in held], limits.internal_k,
                             [*differences, *_month_totals(values, months, taxonomy)])
    outcome = disclosure.protect(together, held, relations, quantities,
                                 initial=public.states)
    for name in (*public.unresolved, *outcome.unresolved):
        log.error("statistics release %s: %s is exposed by earlier releases", quarter, name)
    results: dict[str, list[tuple[Figure, Suppression]]] = {
        a: [(Figure(f.key.split(":", 1)[1], f.terms, f.value, f.k, f.cost),
             outcome.states[f.key]) for f in figures[a]] for a in AUDIENCES}
    statistics: dict[str, dict[str, int]] = {
        a: _order_statistics(raws[BASE[a]], dict(results[a]), limits.k(a)) for a in AUDIENCES}
    return _record_once(session, quarter, QUARTER, quarter.next_first_day, today, taxonomy,
                        results, statistics)


def _order_statistics(raw: Raw, states: dict[Figure, Suppression], k: int) -> dict[str, int]:
    """Medians and 90th percentiles, printed only over a shown count of at least k cases."""
    shown = {f.key for f, state in states.items() if state is Suppression.SHOWN and f.value >= k}
    result = {}
    for d in DURATIONS:
        histogram: Counter[int] = Counter(raw.durations.get(d, {}).get(None) or {})
        if f"done/{d}" in shown and histogram:
            result[f"median/{d}"] = percentile(histogram, 0.5)
            result[f"p90/{d}"] = percentile(histogram, 0.9)
    return result


def released(session: DbSession, audience: str, quarter: Quarter, today: date,
             taxonomy: Taxonomy, limits: Limits) -> Released | None:
    """What ``audience`` is shown for ``quarter`` on ``today``: the quarter's release (made
    now when due), else for the Board the latest quarter to date, else nothing."""
    row = _find(session, audience, QUARTER, quarter)
    if row is None and quarter_release_due(quarter, today):
        release_quarter(session, quarter, today, taxonomy, limits)
        row = _find(session, audience, QUARTER, quarter)
    if row is not None:
        return _read(session, row)
    if audience == "board":
        return release_to_date(session, quarter, today, taxonomy, limits)
    return None


def release_due(session: DbSession, today: date, taxonomy: Taxonomy, limits: Limits
                ) -> list[str]:
    """The scheduler's daily call: the releases due today that are not made yet."""
    made = []
    current = Quarter.of(today)
    last = current.shifted(-1)
    if quarter_release_due(last, today) and release_quarter(session, last, today, taxonomy,
                                                            limits):
        made.append(f"{last.label} quarter")
    for quarter in (last, current):
        if _find(session, "board", QUARTER, quarter) is not None:
            continue
        before = _find(session, "board", TO_DATE, quarter)
        now = release_to_date(session, quarter, today, taxonomy, limits)
        if now is not None and (before is None or before.covers_until != now.covers_until):
            made.append(f"{quarter.label} to date")
    return made


@dataclass(frozen=True)
class LedgerLine:
    audience: str
    kind: str
    period: str
    covers_until: date
    released_on: date
    figures: int
    withheld: int


def ledger(session: DbSession) -> list[LedgerLine]:
    return [LedgerLine(r.audience, r.kind, r.period, r.covers_until, r.released_on, r.figures,
                       r.withheld)
            for r in session.scalars(select(StatisticsRelease).order_by(
                StatisticsRelease.period, StatisticsRelease.covers_until,
                StatisticsRelease.id))]
