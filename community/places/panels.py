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


# The site list (/sites/) shows columns contributed by the packages above places
# (residents: the registration rate). A column function gets the session, the
# acting user and the page's sites, computes its figures for all of them at once
# (one query per page, never one per row) and returns a SiteColumn, or None to
# show no column. Cells are plain text keyed by site id ("—" where missing).
@dataclass
class SiteColumn:
    name: str  # a CSS-safe name: the cells carry data-column="<name>"
    header: Any
    cells: dict[int, str] = field(default_factory=dict)
    order: int = 50


SiteColumnFunction = Callable[[Session, Any, list], SiteColumn | None]
_SITE_COLUMNS: list[SiteColumnFunction] = []


def register_site_column(fn: SiteColumnFunction) -> SiteColumnFunction:
    if fn not in _SITE_COLUMNS:
        _SITE_COLUMNS.append(fn)
    return fn


def site_columns(session: Session, user: Any, sites: list) -> list[SiteColumn]:
    if not sites:
        return []
    found = (fn(session, user, sites) for fn in _SITE_COLUMNS)
    return sorted((c for c in found if c is not None), key=lambda c: c.order)
