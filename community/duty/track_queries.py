"""Read side of the routes walked: a claim's route as the duty page draws it (the
polyline, its checkpoints ticked with their times, distance, time on route, gaps),
and the coordinator's "on patrol now" list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from community.duty.models import DutyClaim, DutyTask
from community.duty.permissions import managed_scope
from community.duty.services import geo, tracks


@dataclass
class RouteView:
    summary: geo.RouteSummary
    drawing: geo.Drawing | None
    ticks: list[tuple[int, str, datetime, bool | None]]  # number, name, time, near


def routes_for(
    session: Session, claims: list[DutyClaim], names: dict[int, str]
) -> dict[int, RouteView]:
    """Each claim's route (claims loaded with their visits), in one query."""
    points = tracks.route_points(session, [c.id for c in claims])
    out = {}
    for claim in claims:
        ticks, marks = [], []
        for n, visit in enumerate(sorted(claim.visits, key=lambda v: v.visited_at), start=1):
            name = names.get(visit.checkpoint_id, "?")
            ticks.append((n, name, visit.visited_at, visit.near))
            if visit.lat is not None:
                marks.append((visit.lat, visit.lon, str(n), visit.visited_at, visit.near))
        route = points[claim.id]
        if route or marks:
            out[claim.id] = RouteView(geo.summarise(route), geo.draw(route, marks), ticks)
    return out


@dataclass
class Patrol:
    claim: DutyClaim
    last: geo.Point | None


def on_patrol(session: Session, user: Any) -> list[Patrol]:
    """The claims on duty now on the duties the user manages, each with its latest
    position (None when the volunteer records no route)."""
    claims = list(
        session.scalars(
            select(DutyClaim)
            .join(DutyTask, DutyTask.id == DutyClaim.task_id)
            .where(DutyClaim.status == "on_duty", managed_scope(user))
            .options(
                joinedload(DutyClaim.volunteer, innerjoin=True),
                joinedload(DutyClaim.task, innerjoin=True),
            )
            .order_by(DutyClaim.checked_in_at)
            .limit(200)
        )
    )
    last = tracks.last_positions(session, [c.id for c in claims])
    return [Patrol(c, last.get(c.id)) for c in claims]
