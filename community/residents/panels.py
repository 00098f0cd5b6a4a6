"""The residents part of the building page (一幢一册): each room's current residents
(masked) against its head count, with "report" and "move out" for those who may."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from community.accounts.permissions import can
from community.places.models import Building
from community.places.panels import Panel, register_building_panel
from community.residents import queries
from community.residents.forms import LABELS


@register_building_panel
def residents_panel(session: Session, user: Any, building: Building, rooms: list) -> Panel | None:
    """Nothing for those who may not see the site's residents (volunteers, associations)."""
    site = building.site
    if not can(user, "residence.view_site", site):
        return None
    by_room = queries.building_residents(session, building)
    rows = [queries.RoomResidents(room, by_room.get(room.id, [])) for room in rooms]
    return Panel(
        template="residents/_building_panel.html",
        order=20,
        context={
            "rows": rows,
            "active": sum(r.active for r in rows),
            "occupants": sum(r.room.occupants for r in rows),
            "can_report": can(user, "residence.report", site),
            "can_move_out": can(user, "residence.move_out", site),
            **LABELS,
        },
    )
