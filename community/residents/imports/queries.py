"""Read side of the import: the sites a user imports into (the template downloads),
a site with its buildings and rooms (the template) and its rooms' ids and names (the
import's room lookup)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from community.places.models import Building, Room, Site
from community.residents.imports.permissions import importable_sites

# The import page lists at most this many sites for a template (by name), like the
# report form's site choices.
MAX_TEMPLATE_SITES = 500


def template_sites(session: Session, user: Any) -> list[tuple[int, str]]:
    """(id, name) of the sites where `user` may import, by name."""
    rows = session.execute(
        select(Site.id, Site.name)
        .where(importable_sites(user))
        .order_by(Site.name, Site.id)
        .limit(MAX_TEMPLATE_SITES)
    )
    return [(site_id, name) for site_id, name in rows]


def site_with_rooms(session: Session, site_id: int) -> Site | None:
    """The site with its buildings and their rooms loaded (two more queries)."""
    return session.scalar(
        select(Site)
        .where(Site.id == site_id)
        .options(selectinload(Site.buildings).selectinload(Building.rooms))
    )


def site_rooms(session: Session, site_id: int) -> list[tuple[int, str, str]]:
    """(room id, building name, room number) of every room of the site: one query of
    plain rows (a chunk of an import looks its rows' rooms up in them)."""
    rows = session.execute(
        select(Room.id, Building.name, Room.number)
        .join(Building, Room.building_id == Building.id)
        .where(Building.site_id == site_id)
    )
    return [(room_id, building, number) for room_id, building, number in rows]
