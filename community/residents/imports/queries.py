"""Read side of the import: the sites a user imports into (the template downloads)
and a site with its buildings and rooms (the template, the import's room lookup)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from community.places.models import Building, Site
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
