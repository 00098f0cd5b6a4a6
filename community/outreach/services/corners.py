"""Experience corners (心防体验区): a place open at fixed local hours."""

from __future__ import annotations

from datetime import time
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from community.core import audit
from community.core.errors import RuleViolation
from community.core.validators import is_id
from community.outreach.models import (
    OutreachCorner,
)
from community.outreach.services.common import (
    CORNER,
)
from community.outreach.services.events import _in_publish_areas
from community.places.models import Site

# --- experience corners --------------------------------------------------------------


def create_corner(
    session: Session,
    actor: Any,
    *,
    name: str,
    area_id: int | None,
    site_id: int | None,
    place: str,
    opens: time | None,
    closes: time | None,
    capacity: int | None,
) -> OutreachCorner:
    """A 心防体验区 in one of the actor's areas, at a site of it or a named place,
    open `opens`–`closes` local time. RuleViolation on name, area_id, site_id,
    place, closes, capacity."""
    errors: list[tuple[str | None, str]] = []
    name = " ".join((name or "").split())[:120]
    if not name:
        errors.append(("name", _("Give the corner a name.")))
    area = _in_publish_areas(session, actor, area_id)
    if area is None:
        errors.append(("area_id", _("Choose a community of your areas.")))
    site = None
    if site_id:
        site = session.get(Site, site_id) if is_id(site_id) else None
        if site is None or area is None or not site.area.path.startswith(area.path):
            errors.append(("site_id", _("Give the number of a site of that community.")))
    place = " ".join((place or "").split())[:200]
    if site is None and not place:
        errors.append(("place", _("Name the place, or give a site.")))
    if opens is None or closes is None or closes <= opens:
        errors.append(("closes", _("It must close after it opens.")))
    if capacity is None or capacity < 1:
        errors.append(("capacity", _("At least one visitor.")))
    if errors:
        raise RuleViolation.several(errors)
    corner = OutreachCorner(
        name=name,
        area_id=area.id,
        site_id=site.id if site else None,
        place=place or None,
        opens=opens,
        closes=closes,
        capacity=capacity,
    )
    corner.area = area
    session.add(corner)
    session.flush()
    audit.record(session, actor, CORNER, corner, {"name": name})
    return corner
