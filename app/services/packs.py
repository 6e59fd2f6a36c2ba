"""Packs and the dashboard, assembled from released figures only (app/services/releases.py).

A pack puts the releases of four quarters side by side. It prints nothing that is not in a
release, except sums and shares of figures that are all printed (which anyone could work out):
a total over figures not all printed shows as a dash, a share with a withheld part as
"withheld".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from app.extensions import DbSession
from app.quarters import Quarter
from app.services.releases import CLOCKS, Limits, Released, released
from app.services.statistics import (
    CLOCK_TITLES,
    ROUTE_LABELS,
    ROUTES,
    RULES,
    SUBSTANTIATED,
    TITLES,
    WINDOW_QUARTERS,
    WITHHELD,
    Figure,
    NamedSeries,
    NamedTable,
    Pack,
    Rate,
    Scope,
    window,
)
from app.services.suppression import Cell, SuppressedSeries, SuppressedTable, Suppression
from app.taxonomy import Taxonomy
from app.vocabulary import OUTCOME_LABELS, OUTCOMES, STATUS_LABELS, STATUSES


def _not_released(k: int) -> Cell:
    return Cell(None, Suppression.NOT_RELEASED, k)


def _sum(cells: Sequence[Cell], k: int) -> Cell:
    """A sum printed only when every part is (else it would be a new figure)."""
    if cells and all(c.shown and c.value is not None for c in cells):
        return Cell(sum(c.value or 0 for c in cells), Suppression.SHOWN, k)
    return _not_released(k)


def _cell(column: Released | None, key: str, k: int) -> Cell:
    return column.cell(key) if column is not None else _not_released(k)


def _table(id_: str, title: str, labels: list[str], keys: list[str], total_key: str,
           columns: list[Released | None], column_labels: list[str], k: int) -> NamedTable:
    cells = tuple(tuple(_cell(c, key, k) for c in columns) for key in keys)
    column_totals = tuple(_cell(c, total_key, k) for c in columns)
    return NamedTable(id_, title, labels, column_labels, SuppressedTable(
        k=k, cells=cells, row_totals=tuple(_sum(row, k) for row in cells),
        column_totals=column_totals, total=_sum(column_totals, k)))


def _share(part: Cell, whole: Cell) -> float | str:
    if part.shown and whole.shown and part.value is not None and whole.value:
        return part.value / whole.value
    return WITHHELD


def _display(value: float | str) -> str:
    return value if isinstance(value, str) else f"{round(value * 100)}%"


def pack(session: DbSession, scope: Scope, last: Quarter, today: date, taxonomy: Taxonomy,
         limits: Limits, quarters: int = WINDOW_QUARTERS) -> Pack:
    """The pack of ``scope`` for the ``quarters`` quarters ending with ``last``, as released
    (releases due and not yet made are made now: app/services/releases.py)."""
    k = limits.k(scope)
    periods = window(last, quarters)
    columns = [released(session, scope, q, today, taxonomy, limits) for q in periods]
    labels = [q.label if c is None or c.kind == "quarter" else f"{q.label} to date"
              for q, c in zip(periods, columns, strict=True)]
    notes = [(q.label, c.note if c is not None else "not released yet")
             for q, c in zip(periods, columns, strict=True)]
    categories = [c.id for c in taxonomy.categories]
    tables = [
        _table("category_by_quarter", "Reports by category and quarter received",
               [c.label for c in taxonomy.categories], [f"category/{c}" for c in categories],
               "total", columns, labels, k),
        _table("route_by_quarter", "Reports by route and quarter received",
               [ROUTE_LABELS[r] for r in ROUTES], [f"route/{r}" for r in ROUTES], "total",
               columns, labels, k),
        _table("status_by_quarter", "Where the cases are (status on the day of release)",
               [STATUS_LABELS[s] for s in STATUSES], [f"status/{s}" for s in STATUSES],
               "total", columns, labels, k),
        _table("outcome_by_quarter", "Findings recorded (on the day of release)",
               [OUTCOME_LABELS[o] for o in OUTCOMES], [f"outcome/{o}" for o in OUTCOMES],
               "outcomes", columns, labels, k),
    ]
    series = []
    for id_, key, title in (("escalations", "escalated",
                             "Cases escalated to the Board tier, by quarter"),
                            ("board_notices", "notified", "Board notices given, by quarter")):
        values = tuple(_cell(c, key, k) for c in columns)
        series.append(NamedSeries(id_, title, labels, SuppressedSeries(k, values,
                                                                       _sum(values, k))))
    latest = next((c for c in reversed(columns) if c is not None and c.kind == "quarter"),
                  None)
    figures, rates = _latest(latest, k)
    trend_columns = ["Reports received", "Acknowledged within 7 days",
                     "Share acknowledged within 7 days", "Median days to acknowledge",
                     "Share with findings within 3 months"]
    trends = []
    for label, column in zip(labels, columns, strict=True):
        total = _cell(column, "total", k)
        on_time = _cell(column, "clock/acknowledge/on_time", k)
        late = _cell(column, "clock/acknowledge/late", k)
        feedback = [_cell(column, f"clock/feedback/{side}", k) for side in ("on_time", "late")]
        median = column.statistics.get("median/acknowledge") if column else None
        trends.append((label, [total.display(), on_time.display(),
                               _display(_share(on_time, _sum([on_time, late], k))),
                               str(median) if median is not None else WITHHELD,
                               _display(_share(feedback[0], _sum(feedback, k)))]))
    return Pack(scope=scope, title=TITLES[scope], k=k, quarter=last, quarters=periods,
                generated_on=today, tables=tables, series=series, figures=figures,
                rates=rates, trend_columns=trend_columns, trends=trends, rule=RULES[scope],
                column_notes=notes)


def _latest(column: Released | None, k: int) -> tuple[list[Figure], list[Rate]]:
    """Timeliness and shares of the latest quarter released in the window."""
    label = f" ({column.quarter.label})" if column is not None else ""
    figures = []
    for name, title in (("acknowledge", "Days from receipt to acknowledgement"),
                        ("feedback", "Days from receipt to findings"),
                        ("close", "Days from receipt to closure")):
        stats = column.statistics if column is not None else {}
        figures.append(Figure(f"time_to_{name}", title + label, _cell(column, f"done/{name}", k),
                              stats.get(f"median/{name}", WITHHELD),
                              stats.get(f"p90/{name}", WITHHELD)))
    rates = []
    for clock in CLOCKS:
        parts = [_cell(column, f"clock/{clock}/{side}", k) for side in ("on_time", "late")]
        rates.append(Rate(f"on_time_{clock}", CLOCK_TITLES[clock] + label,
                          _share(parts[0], _sum(parts, k)), "cases whose deadline has come"))
    outcomes = {o: _cell(column, f"outcome/{o}", k) for o in OUTCOMES}
    substantiated = _sum([outcomes[o] for o in SUBSTANTIATED], k)
    findings = _sum([outcomes[o] for o in OUTCOMES if o != "out_of_scope"], k)
    rates += [
        Rate("substantiation", "Substantiated or partly substantiated" + label,
             _share(substantiated, findings), "findings recorded, out of scope excluded"),
        Rate("corrective_action", "Substantiated cases with corrective action recorded" + label,
             _share(_cell(column, "corrective", k), substantiated), "substantiated cases"),
        Rate("retaliation", "Reports of retaliation" + label,
             _share(_cell(column, "retaliation", k), _cell(column, "total", k)),
             "all reports received"),
    ]
    return figures, rates
