"""Small server-rendered SVG charts: the geometry here, the markup in
templates/_macros/charts.html (no JavaScript, no style attributes: CSP).

A chart is a row of equally spaced slots (e.g. months), each with a value or
None (a gap that breaks the line). Values are scaled into a fixed viewBox, so
the SVG scales with its container.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from flask import current_app
from markupsafe import Markup


@dataclass(frozen=True)
class Datum:
    tick: str  # short axis label under the slot ("03")
    value: float | None  # None: no value in this slot
    label: str = ""  # full text for the point's <title> ("2026-03: 4 stars")


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: float
    label: str


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str


@dataclass
class Chart:
    """What every chart has: its text, its viewBox, the plot area inside it
    (left/top/right/bottom) and the ticks on both axes."""

    title: str
    description: str
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


@dataclass
class LineChart(Chart):
    points: list[Point] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)  # polyline "x,y x,y ..." per run


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def line_chart(
    data: Sequence[Datum],
    *,
    title: str,
    y_min: float,
    y_max: float,
    y_ticks: Sequence[float] | None = None,
    step: bool = False,
    description: str = "",
    width: int = 320,
    height: int = 150,
) -> LineChart:
    """Scale `data` into a width x height viewBox. Consecutive values are joined
    (as steps when `step`); a None value breaks the line."""
    if y_max <= y_min:
        raise ValueError("y_max must be greater than y_min")
    chart = LineChart(
        title=title,
        description=description,
        width=width,
        height=height,
        left=24.0,
        top=10.0,
        right=float(width - 8),
        bottom=float(height - 22),
    )
    span_x = chart.right - chart.left
    span_y = chart.bottom - chart.top
    n = max(len(data), 1)
    slot = span_x / n

    def y_of(value: float) -> float:
        clamped = min(max(value, y_min), y_max)
        return chart.bottom - (clamped - y_min) / (y_max - y_min) * span_y

    run: list[Point] = []
    runs: list[list[Point]] = []
    for i, d in enumerate(data):
        x = chart.left + (i + 0.5) * slot
        chart.x_ticks.append(Tick(round(x, 1), d.tick))
        if d.value is None:
            if run:
                runs.append(run)
            run = []
            continue
        p = Point(round(x, 1), round(y_of(d.value), 1), d.value, d.label)
        chart.points.append(p)
        run.append(p)
    if run:
        runs.append(run)
    for r in runs:
        if len(r) < 2:
            continue
        coords: list[tuple[float, float]] = []
        for j, p in enumerate(r):
            if step and j:
                coords.append((p.x, r[j - 1].y))
            coords.append((p.x, p.y))
        chart.paths.append(" ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in coords))
    for v in y_ticks if y_ticks is not None else (y_min, y_max):
        chart.y_ticks.append(Tick(round(y_of(v), 1), _fmt(v)))
    return chart


def render_line_chart(chart: LineChart, chart_id: str) -> Markup:
    """The chart's <svg> markup (the same macro templates call)."""
    macro = current_app.jinja_env.get_template("_macros/charts.html").module.line_chart
    return Markup(macro(chart, chart_id))


# --- bar charts ----------------------------------------------------------------------
#
# Slots as in line_chart; each slot holds one value per series, stacked (a month's
# timely and late reports) or a single series (sites per star). The total is written
# above each slot, so the numbers are read without hovering.

SERIES_COLOURS = ("#1d6fd8", "#d9480f", "#2b8a3e", "#ae3ec9", "#868e96")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: float
    label: str
    colour: str


@dataclass(frozen=True)
class Total:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class LegendEntry:
    x: float
    label: str
    colour: str


@dataclass
class BarChart(Chart):
    bars: list[Bar] = field(default_factory=list)
    totals: list[Total] = field(default_factory=list)
    legend: list[LegendEntry] = field(default_factory=list)


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 x 10^k at or above `value` (at least 1)."""
    if value <= 1:
        return 1.0
    magnitude = 1.0
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return float(step * magnitude)
    return float(10 * magnitude)  # pragma: no cover


def bar_chart(
    ticks: Sequence[str],
    series: Sequence[Sequence[float]],
    *,
    title: str,
    series_labels: Sequence[str] = (),
    slot_labels: Sequence[str] = (),
    description: str = "",
    width: int = 320,
    height: int = 160,
) -> BarChart:
    """Stacked bars: `series[s][i]` is series s's value in slot i (under `ticks[i]`);
    `slot_labels[i]` names the slot in each bar's <title>. The y axis runs from 0 to
    a round number above the largest total."""
    n = max(len(ticks), 1)
    has_legend = len(series_labels) > 1
    totals = [sum(s[i] for s in series) for i in range(len(ticks))]
    y_max = nice_ceiling(max(totals, default=0))
    # Room for the longest y label (about 5 px per digit at font-size 9).
    chart = BarChart(
        title=title,
        description=description,
        width=width,
        height=height,
        left=float(8 + 5 * len(_fmt(y_max))),
        top=24.0 if has_legend else 14.0,
        right=float(width - 6),
        bottom=float(height - 22),
    )
    span_y = chart.bottom - chart.top
    slot = (chart.right - chart.left) / n
    bar_width = round(min(slot * 0.7, 40), 1)

    def height_of(value: float) -> float:
        return value / y_max * span_y

    for i, tick in enumerate(ticks):
        centre = chart.left + (i + 0.5) * slot
        chart.x_ticks.append(Tick(round(centre, 1), tick))
        base = chart.bottom
        name = slot_labels[i] if i < len(slot_labels) else tick
        for s, values in enumerate(series):
            value = values[i]
            if not value:
                continue
            h = height_of(value)
            part = series_labels[s] if s < len(series_labels) else ""
            label = f"{name} {part}: {_fmt(value)}" if part else f"{name}: {_fmt(value)}"
            chart.bars.append(
                Bar(
                    round(centre - bar_width / 2, 1),
                    round(base - h, 1),
                    bar_width,
                    round(h, 1),
                    value,
                    label,
                    SERIES_COLOURS[s % len(SERIES_COLOURS)],
                )
            )
            base -= h
        # A total wider than its slot would run into the next: the table has it.
        text = _fmt(totals[i])
        if len(text) * 5.2 <= slot:
            chart.totals.append(Total(round(centre, 1), round(base - 3, 1), text))
    for v in (0, y_max / 2, y_max):
        chart.y_ticks.append(Tick(round(chart.bottom - height_of(v), 1), _fmt(v)))
    if has_legend:
        step = (chart.right - chart.left) / len(series_labels)
        for s, label in enumerate(series_labels):
            chart.legend.append(
                LegendEntry(
                    round(chart.left + s * step, 1), label, SERIES_COLOURS[s % len(SERIES_COLOURS)]
                )
            )
    return chart


def render_chart(chart: Chart, chart_id: str) -> Markup:
    """The <svg> markup of either kind of chart (the macros templates call)."""
    module = current_app.jinja_env.get_template("_macros/charts.html").module
    macro = module.bar_chart if isinstance(chart, BarChart) else module.line_chart
    return Markup(macro(chart, chart_id))


__all__ = [
    "Bar",
    "BarChart",
    "Chart",
    "Datum",
    "LineChart",
    "Point",
    "Tick",
    "bar_chart",
    "line_chart",
    "nice_ceiling",
    "render_chart",
    "render_line_chart",
]
