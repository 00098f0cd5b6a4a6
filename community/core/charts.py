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
class LineChart:
    title: str
    description: str
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    points: list[Point] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)  # polyline "x,y x,y ..." per run
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


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


__all__ = ["Datum", "LineChart", "Point", "Tick", "line_chart", "render_line_chart"]
