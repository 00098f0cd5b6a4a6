"""Read side of the dashboard: which area a request shows, its breadcrumb and
child areas (the drill-down table), and the FigureContext the providers read.
Every figure is a SQL aggregate; residences are read through core.rollups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from community.accounts.models import Area
from community.accounts.permissions import area_subtree_filter, can
from community.core.figures import FigureContext
from community.core.rollups import TOTAL, RollupMonth, add_months, month_of
from community.core.timeutil import today as local_today
from community.core.validators import is_id
from community.dashboard.permissions import covers_everything, dashboard_roots
from community.places.figures import site_counts_by_area
from community.places.rollups import OCCUPANTS
from community.residents.queries import Rate
from community.residents.rollups import ACTIVE

TREND_MONTHS = 12


def parse_area_id(raw: str | None) -> int | None | bool:
    """The ?area= value: None when absent, False when not a valid id."""
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        return False
    return value if is_id(value) else False


def get_area(session: Session, area_id: int) -> Area | None:
    return session.get(Area, area_id)


def default_area(user: Any) -> Area | None:
    """Without ?area=: the one area the user covers, or None (the overview of
    every area they cover; all districts for an administrator)."""
    if covers_everything(user):
        return None
    roots = dashboard_roots(user)
    return roots[0] if len(roots) == 1 else None


def area_ids(user: Any, area: Area | None):
    """SELECT of the ids of every area under `area` (or under the user's roots)."""
    if area is not None:
        return select(Area.id).where(Area.path.like(f"{area.path}%"))
    if covers_everything(user):
        return select(Area.id)
    return select(Area.id).where(area_subtree_filter(Area.path, dashboard_roots(user)))


def last_months(today: date, n: int = TREND_MONTHS) -> list[date]:
    this = month_of(today)
    return [add_months(this, i - n + 1) for i in range(n)]


def context(session: Session, user: Any, area: Area | None, today: date | None = None):
    day = today or local_today()
    return FigureContext(
        session=session,
        user=user,
        area=area,
        area_ids=area_ids(user, area),
        today=day,
        months=last_months(day),
    )


def breadcrumb(session: Session, user: Any, area: Area | None) -> list[Area]:
    """The area's ancestors the user may open, outermost first (one query)."""
    if area is None:
        return []
    ids = [int(p) for p in area.path.strip("/").split("/") if p][:-1]
    if not ids:
        return []
    found = session.scalars(select(Area).where(Area.id.in_(ids)).order_by(Area.path))
    return [a for a in found if can(user, "dashboard.view", a)]


# --- shared aggregates (each one query per page, memoised on the context) ------------


def subtree_areas(ctx: FigureContext) -> list[Area]:
    """Every area of the context's subtree (a district: about a hundred), by path."""
    return ctx.once(
        "areas",
        lambda: list(
            ctx.session.scalars(select(Area).where(Area.id.in_(ctx.area_ids)).order_by(Area.path))
        ),
    )


def rate_counters_by_area(ctx: FigureContext) -> dict[int, Rate]:
    """{area id: Rate} of each area of the subtree on its own (not its sub-areas)."""

    def load():
        rows = ctx.session.execute(
            select(RollupMonth.area_id, RollupMonth.metric, func.sum(RollupMonth.value))
            .where(
                RollupMonth.area_id.in_(ctx.area_ids),
                (RollupMonth.metric == ACTIVE)
                | ((RollupMonth.metric == OCCUPANTS) & (RollupMonth.month == TOTAL)),
            )
            .group_by(RollupMonth.area_id, RollupMonth.metric)
        )
        result: dict[int, Rate] = {}
        for area_id, metric, value in rows:
            part = Rate(int(value or 0), 0) if metric == ACTIVE else Rate(0, int(value or 0))
            result[area_id] = result.get(area_id, Rate()) + part
        return result

    return ctx.once("rates-by-area", load)


# --- drill-down ------------------------------------------------------------------------


@dataclass
class ChildRow:
    area: Area
    rate: Rate
    sites: int = 0
    admitted: int = 0


def children(ctx: FigureContext) -> list[ChildRow]:
    """The drill-down rows under the context's area (its child areas; for the
    overview the user's roots, or the districts for an administrator), each with
    its registration rate, sites and admitted sites, summed over its subtree from
    the shared per-area aggregates (no query per child)."""
    areas = subtree_areas(ctx)
    if ctx.area is not None:
        kids = [a for a in areas if a.parent_id == ctx.area.id]
    elif covers_everything(ctx.user):
        kids = [a for a in areas if a.parent_id is None]
    else:
        roots = {a.id for a in dashboard_roots(ctx.user)}
        kids = [a for a in areas if a.id in roots]
    if not kids:
        return []
    rates = rate_counters_by_area(ctx)
    sites = site_counts_by_area(ctx)
    rows = []
    for kid in sorted(kids, key=lambda a: (a.name, a.id)):
        row = ChildRow(kid, Rate())
        for a in areas:
            if a.path.startswith(kid.path):
                row.rate = row.rate + rates.get(a.id, Rate())
                counts = sites.get(a.id)
                if counts:
                    row.sites += counts["total"]
                    row.admitted += counts["admitted"]
        rows.append(row)
    return rows
