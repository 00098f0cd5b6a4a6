"""The places' counter in core.rollups: the rooms' head counts (known occupants)
per area, a running total kept by add_room/update_room; `_source` recomputes it
(`flask rebuild-rollups`)."""

from __future__ import annotations

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from community.core.rollups import TOTAL, bump, register_source
from community.places.models import Building, Room, Site

OCCUPANTS = "rooms.occupants"


def occupants_changed(session: Session, building_id: int, delta: int) -> None:
    """The head count of a room of the building changed by `delta`."""
    if delta:
        area_id = session.scalar(
            select(Site.area_id)
            .join(Building, Building.site_id == Site.id)
            .where(Building.id == building_id)
        )
        bump(session, area_id, TOTAL, OCCUPANTS, delta)


def _source(session: Session, site_ids: list[int] | None):
    stmt = (
        select(Site.area_id, literal(TOTAL), literal(OCCUPANTS), func.sum(Room.occupants))
        .select_from(Room)
        .join(Building, Room.building_id == Building.id)
        .join(Site, Building.site_id == Site.id)
        .group_by(Site.area_id)
    )
    if site_ids is not None:
        stmt = stmt.where(Site.id.in_(site_ids))
    return session.execute(stmt)


register_source("places", _source)
