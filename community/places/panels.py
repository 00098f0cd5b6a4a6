"""Sections of the site and building pages contributed by the packages above places.

places must not import ratings (or later residents, duty), yet the site page
shows their figures. Each higher package registers a panel function at import
time; the site page renders the panels in order. A panel function gets the
session, the acting user and the site and returns a Panel, or None to show
nothing (e.g. the user may not see that part).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session


@dataclass
class Panel:
    template: str  # rendered with {% include %}; gets `panel` and `site` in its context
    order: int = 50
    context: dict[str, Any] = field(default_factory=dict)


PanelFunction = Callable[[Session, Any, Any], Panel | None]
_PANELS: list[PanelFunction] = []


def register_site_panel(fn: PanelFunction) -> PanelFunction:
    if fn not in _PANELS:
        _PANELS.append(fn)
    return fn


def site_panels(session: Session, user: Any, site: Any) -> list[Panel]:
    panels = [p for p in (fn(session, user, site) for fn in _PANELS) if p is not None]
    return sorted(panels, key=lambda p: p.order)


# The building page (the 一幢一册 ledger) has its own panels: residents register one
# showing each room's current residents. A building panel function gets the
# session, the acting user, the building (with its site) and its rooms.
BuildingPanelFunction = Callable[[Session, Any, Any, list], Panel | None]
_BUILDING_PANELS: list[BuildingPanelFunction] = []


def register_building_panel(fn: BuildingPanelFunction) -> BuildingPanelFunction:
    if fn not in _BUILDING_PANELS:
        _BUILDING_PANELS.append(fn)
    return fn


def building_panels(session: Session, user: Any, building: Any, rooms: list) -> list[Panel]:
    found = (fn(session, user, building, rooms) for fn in _BUILDING_PANELS)
    return sorted((p for p in found if p is not None), key=lambda p: p.order)
