"""The hazards part of the site page."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from community.accounts.permissions import can
from community.hazards import queries
from community.hazards.forms import LABELS
from community.places.models import Site
from community.places.panels import Panel, register_site_panel


@register_site_panel
def hazards_panel(session: Session, user: Any, site: Site) -> Panel:
    """Open and fixed hazards at the site, and a "report a hazard" link when allowed."""
    items, count = queries.site_hazards(session, site)
    return Panel(
        template="hazards/_panel.html",
        order=30,
        context={
            "hazards": items,
            "count": count,
            "can_report": can(user, "hazard.create", site),
            **LABELS,
        },
    )
