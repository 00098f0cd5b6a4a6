"""The residents' counters in core.rollups, by the site's area: residents moving
in and out (verified residences) per month, and the compliance ledger's timely
and late reports per month. The services call these functions in the transaction
that changes the residence; `_source` recomputes the same counters from the base
tables (`flask rebuild-rollups`).

Active residents at the end of month m = the sum of ACTIVE over the months <= m:
a verified residence adds 1 in its move-in month and -1 in its move-out month
(residents.queries._active_on: living there on day d when move_in <= d < move_out).
Dates are never in the future (services refuse them), so the sum over every month
is the number of residents living there now.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from community.core.rollups import bump, month_of, month_sql, register_source
from community.places.models import Building, Room, Site
from community.residents.compliance.models import PointsEntry
from community.residents.models import Residence

ACTIVE = "residents.active"  # moved in minus moved out, per month
TIMELY = "reports.timely"  # compliance ledger lines, per month of the report
LATE = "reports.late"


def _area_of_room(session: Session, room_id: int) -> int:
    return session.scalar(
        select(Site.area_id)
        .join(Building, Building.site_id == Site.id)
        .join(Room, Room.building_id == Building.id)
        .where(Room.id == room_id)
    )


def resident_arrived(session: Session, room_id: int, move_in: date) -> None:
    """A residence became verified: one more resident from its move-in month."""
    bump(session, _area_of_room(session, room_id), month_of(move_in), ACTIVE, 1)


def resident_left(session: Session, room_id: int, move_out: date) -> None:
    """A verified residence ended: one fewer resident from its move-out month."""
    bump(session, _area_of_room(session, room_id), month_of(move_out), ACTIVE, -1)


def report_counted(session: Session, area_id: int, month: date, late: bool, count: int = 1) -> None:
    """`count` compliance ledger lines (landlords' or companies' reports) in `month`."""
    bump(session, area_id, month, LATE if late else TIMELY, count)


def _source(session: Session, site_ids: list[int] | None):
    def place(stmt):
        stmt = stmt.join(Room, Residence.room_id == Room.id).join(
            Building, Room.building_id == Building.id
        )
        stmt = stmt.join(Site, Building.site_id == Site.id).where(Residence.status == "verified")
        return stmt.where(Site.id.in_(site_ids)) if site_ids is not None else stmt

    moved_in = month_sql(Residence.move_in, session)
    yield from session.execute(
        place(
            select(Site.area_id, moved_in, literal(ACTIVE), func.count()).select_from(Residence)
        ).group_by(Site.area_id, moved_in)
    )
    moved_out = month_sql(Residence.move_out, session)
    yield from session.execute(
        place(
            select(Site.area_id, moved_out, literal(ACTIVE), -func.count()).select_from(Residence)
        )
        .where(Residence.move_out.is_not(None))
        .group_by(Site.area_id, moved_out)
    )
    metric = case((PointsEntry.reason == "late", LATE), else_=TIMELY)
    stmt = (
        select(Site.area_id, PointsEntry.month, metric, func.count())
        .join(Site, PointsEntry.site_id == Site.id)
        .group_by(Site.area_id, PointsEntry.month, metric)
    )
    if site_ids is not None:
        stmt = stmt.where(Site.id.in_(site_ids))
    yield from session.execute(stmt)


register_source("residents", _source)
