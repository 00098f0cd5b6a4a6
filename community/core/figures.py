"""Figures of the area dashboard, contributed by the features (a registry, like the
start-page sections): core knows none of them.

A provider is `fn(ctx: FigureContext) -> Figure | None`, registered at import time
with `register_figure(slug, fn, order=...)` (the slug names its CSV download,
/dashboard/<slug>.csv). It answers from SQL aggregates over `ctx.area_ids` (a
SELECT of the ids of every area in the chosen subtree) and returns None when it
has nothing for this user. Its table (`columns`, `rows`) is what the page shows
under the chart and what the CSV holds, so the two never disagree.

A feature below the dashboard (duty, layer 4) registers from its own package:

    # community/duty/figures.py, imported in community/duty/__init__.py
    from community.core.charts import bar_chart
    from community.core.figures import Figure, FigureContext, Headline, register_figure

    def _duty_fill(ctx: FigureContext) -> Figure | None:
        rows = ...  # one aggregate query over duties in ctx.area_ids, per week
        return Figure(
            title=_("Duty fill rate"),
            columns=[_("Week"), _("Places"), _("Claimed"), _("Fill rate")],
            rows=rows,
            chart=bar_chart(...),
            headline=[Headline(_("Duty fill rate"), "87%")],
        )

    register_figure("duty-fill", _duty_fill, order=70)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Headline:
    """One big number: on the dashboard's summary and on the start page."""

    label: Any
    value: str
    warn: bool = False


@dataclass
class Figure:
    title: Any
    columns: list[Any]
    rows: list[list[Any]]
    chart: Any = None  # core.charts LineChart or BarChart
    headline: list[Headline] = field(default_factory=list)
    note: Any = ""
    slug: str = ""  # set by the registry


@dataclass
class FigureContext:
    session: Session
    user: Any
    area: Any  # the chosen Area, or None for every area the user covers
    area_ids: Any  # SELECT of the ids of the areas in the chosen subtree
    today: date
    months: list[date]  # first days of the last 12 months, oldest first
    memo: dict[str, Any] = field(default_factory=dict)

    def once(self, key: str, fn: Callable[[], Any]) -> Any:
        """fn() computed once per page (providers sharing one aggregate query)."""
        if key not in self.memo:
            self.memo[key] = fn()
        return self.memo[key]


Provider = Callable[[FigureContext], "Figure | None"]


@dataclass(frozen=True)
class _Entry:
    slug: str
    fn: Provider
    order: int


_FIGURES: dict[str, _Entry] = {}


def register_figure(slug: str, fn: Provider, *, order: int = 50) -> Provider:
    """Add a provider; the slug is part of a URL ([a-z0-9-])."""
    if not slug.replace("-", "").isalnum() or slug.lower() != slug:
        raise ValueError(f"bad figure slug {slug!r}")
    if slug in _FIGURES and _FIGURES[slug].fn is not fn:
        raise KeyError(f"figure {slug!r} already registered")
    _FIGURES[slug] = _Entry(slug, fn, order)
    return fn


def figure_slugs() -> list[str]:
    return [e.slug for e in sorted(_FIGURES.values(), key=lambda e: e.order)]


def build_figure(ctx: FigureContext, slug: str) -> Figure | None:
    entry = _FIGURES.get(slug)
    if entry is None:
        return None
    figure = entry.fn(ctx)
    if figure is not None:
        figure.slug = slug
    return figure


def build_figures(ctx: FigureContext) -> list[Figure]:
    """Every provider's figure for the context, in order (None ones left out)."""
    found = (build_figure(ctx, slug) for slug in figure_slugs())
    return [f for f in found if f is not None]
