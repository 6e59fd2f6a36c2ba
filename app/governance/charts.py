"""Server-rendered SVG bar charts: geometry computed here, drawn by templates/governance/
_charts.html with classes from static/css/governance.css (no script, no inline style).

A withheld count has no bar: its label shows the symbol, so a chart never says more than the
table beside it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.services.suppression import Cell

BAR_HEIGHT = 26
BAR_GAP = 8
LABEL_WIDTH = 300
PLOT_WIDTH = 280
VALUE_WIDTH = 76
LABEL_CHARACTERS = 30  # SVG text does not wrap; the table beside the chart has it whole


@dataclass(frozen=True)
class Bar:
    label: str
    text: str  # the printed value or symbol
    y: int
    width: int  # 0 when withheld or zero


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    width: int
    height: int
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT

    @property
    def text_y_offset(self) -> int:
        return self.bar_height // 2 + 5


def bar_chart(title: str, labels: Sequence[str], cells: Sequence[Cell]) -> BarChart:
    values = [c.value if c.shown and c.value is not None else 0 for c in cells]
    top = max(values, default=0) or 1
    bars = [Bar(label=_short(label), text=cell.display(), y=i * (BAR_HEIGHT + BAR_GAP),
                width=round(PLOT_WIDTH * value / top))
            for i, (label, cell, value) in enumerate(zip(labels, cells, values, strict=True))]
    height = max(1, len(bars)) * (BAR_HEIGHT + BAR_GAP)
    return BarChart(title=title, bars=bars, width=LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH,
                    height=height)


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARACTERS else label[:LABEL_CHARACTERS - 1] + "\u2026"
