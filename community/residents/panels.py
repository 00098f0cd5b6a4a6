"""The residents parts of the places pages: on the building page (一幢一册) each
room's current residents (masked) against its head count with its registration
rate, and "report" and "move out" for those who may; on the site page the
registration rate per building; on the site list a registration rate column."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from community.accounts.permissions import can
from community.places.models import Building, Site
from community.places.panels import (
    Panel,
    SiteColumn,
    register_building_panel,
    register_site_column,
    register_site_panel,
)
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
    rates = queries.room_rates(session, building)
    # "Move out" is offered where the residence page offers it (an active residence).
    can_move_out = can(user, "residence.move_out", site)
    movable = {r.id for row in rows for r in row.residents if can_move_out and r.is_active}
    return Panel(
        template="residents/_building_panel.html",
        order=20,
        context={
            "rows": rows,
            "rates": rates,
            "total": sum(rates.values(), queries.Rate()),
            "active": sum(r.active for r in rows),
            "occupants": sum(r.room.occupants for r in rows),
            "can_report": can(user, "residence.report", site),
            "movable": movable,
            **LABELS,
        },
    )


def rate_text(rate: queries.Rate | None) -> str:
    """ "80%" (or "—" when nobody is counted or registered)."""
    percent = rate.percent if rate is not None else None
    return "—" if percent is None else f"{percent}%"


@register_site_panel
def registration_panel(session: Session, user: Any, site: Site) -> Panel | None:
    """The registration rate per building and in total (one query)."""
    if not can(user, "residence.view_site", site):
        return None
    rates = queries.building_rates(session, site)
    return Panel(
        template="residents/_site_panel.html",
        order=25,
        context={"buildings": rates, "total": sum((b.rate for b in rates), queries.Rate())},
    )


@register_site_column
def registration_column(session: Session, user: Any, sites: list) -> SiteColumn | None:
    """The registration rate of the page's sites whose residents the user sees (one
    query for the page); no column for those who see none."""
    shown = [s.id for s in sites if can(user, "residence.view_site", s)]
    if not shown:
        return None
    rates = queries.site_rates(session, shown)
    return SiteColumn(
        name="registration-rate",
        header=_l("Registration rate"),
        cells={site_id: rate_text(rates.get(site_id)) for site_id in shown},
        order=20,
    )
