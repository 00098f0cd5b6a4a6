"""Read side of the dashboard: which area a request shows, its breadcrumb and
child areas (the drill-down table), and the FigureContext the providers read.
Every figure is a SQL aggregate; residences are read through core.rollups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from community.accounts.models import Area
from community.accounts.permissions import area_subtree_filter, can
from community.core.figures import FigureContext
from community.core.rollups import TOTAL, RollupMonth, add_months, month_of
from community.core.timeutil import today as utc_today
from community.core.validators import is_id
from community.dashboard.permissions import covers_everything, dashboard_roots
from community.places.models import Site
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
    day = today or utc_today()
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


@dataclass
class ChildRow:
    area: Area
    rate: Rate
    sites: int = 0
    admitted: int = 0


def children(session: Session, user: Any, area: Area | None) -> list[ChildRow]:
    """The drill-down rows under `area` (its child areas; for the overview the
    user's roots), each with its registration rate, sites and admitted sites:
    three queries however many children."""
    if area is not None:
        stmt = select(Area).where(Area.parent_id == area.id)
    elif covers_everything(user):
        stmt = select(Area).where(Area.parent_id.is_(None))
    else:
        roots = dashboard_roots(user)
        stmt = select(Area).where(Area.id.in_([a.id for a in roots]))
    kids = list(session.scalars(stmt.order_by(Area.name, Area.id)))
    if not kids:
        return []
    child, sub = aliased(Area), aliased(Area)
    kid_ids = [k.id for k in kids]
    counters = session.execute(
        select(child.id, RollupMonth.metric, func.sum(RollupMonth.value))
        .join(sub, sub.path.like(child.path + "%"))
        .join(RollupMonth, RollupMonth.area_id == sub.id)
        .where(child.id.in_(kid_ids), RollupMonth.metric.in_((ACTIVE, OCCUPANTS)))
        .where((RollupMonth.metric == ACTIVE) | (RollupMonth.month == TOTAL))
        .group_by(child.id, RollupMonth.metric)
    ).all()
    sites = session.execute(
        select(
            child.id,
            func.count(Site.id),
            func.coalesce(func.sum(case((Site.admitted_on.is_not(None), 1), else_=0)), 0),
        )
        .join(sub, sub.path.like(child.path + "%"))
        .join(Site, Site.area_id == sub.id)
        .where(child.id.in_(kid_ids))
        .group_by(child.id)
    ).all()
    values: dict[tuple[int, str], int] = {(k, m): int(v or 0) for k, m, v in counters}
    site_counts = {k: (int(n), int(a)) for k, n, a in sites}
    return [
        ChildRow(
            k,
            Rate(values.get((k.id, ACTIVE), 0), values.get((k.id, OCCUPANTS), 0)),
            *site_counts.get(k.id, (0, 0)),
        )
        for k in kids
    ]
