"""The compliance section of the start page: a landlord's or property company's
points this month."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from community.core.start import StartSection, register_start_section
from community.core.timeutil import today
from community.residents.compliance.models import PointsEntry
from community.residents.compliance.permissions import points_targets


@register_start_section
def points_section(session: Session, user: Any) -> StartSection | None:
    """Landlords and property managers: this month's compliance points (timely and
    late reports and the month's balance) — one aggregate query."""
    targets = points_targets(user)
    if targets is None:
        return None
    month = today().replace(day=1)
    timely, late, points = session.execute(
        select(
            func.coalesce(func.sum(case((PointsEntry.reason == "timely", 1), else_=0)), 0),
            func.coalesce(func.sum(case((PointsEntry.reason == "late", 1), else_=0)), 0),
            func.coalesce(func.sum(PointsEntry.points), 0),
        ).where(PointsEntry.month == month, targets)
    ).one()
    return StartSection(
        "residents/compliance/_start.html",
        order=25,
        context={"month": month, "timely": int(timely), "late": int(late), "points": int(points)},
    )
