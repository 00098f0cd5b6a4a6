"""Sections of the duty page contributed by the packages above duty.

duty must not import mediation, yet a 纠纷调解 duty's page lists the mediation
sessions its volunteer staffed. Each higher package registers a panel function at
import time (as for the site page, community.places.panels); the duty page renders
the panels in order. A panel function gets the session, the acting user and the
duty and returns a Panel, or None to show nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from community.places.panels import Panel

DutyPanelFunction = Callable[[Session, Any, Any], Panel | None]
_PANELS: list[DutyPanelFunction] = []


def register_duty_panel(fn: DutyPanelFunction) -> DutyPanelFunction:
    if fn not in _PANELS:
        _PANELS.append(fn)
    return fn


def duty_panels(session: Session, user: Any, task: Any) -> list[Panel]:
    found = (fn(session, user, task) for fn in _PANELS)
    return sorted((p for p in found if p is not None), key=lambda p: p.order)
