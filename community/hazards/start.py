"""The hazards section of the start page `/` (core.start): the open hazards a
landlord or property company must fix — how many, and the oldest few (one
query)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from community.core.start import StartSection, register_start_section
from community.hazards.forms import LABELS
from community.hazards.models import Hazard
from community.hazards.permissions import assigned_to, fixes_hazards
from community.places.models import Site

SHOWN = 3


@dataclass(frozen=True)
class OpenHazard:
    id: int
    description: str
    severity: str
    created_at: datetime
    site: str


@register_start_section
def hazards_section(session: Session, user: Any) -> StartSection | None:
    """Open hazards assigned to the user or their company, oldest first, with their
    count (a windowed count: one query); None when there is none."""
    if not fixes_hazards(user):
        return None
    rows = session.execute(
        select(
            Hazard.id,
            Hazard.description,
            Hazard.severity,
            Hazard.created_at,
            Site.name,
            func.count().over(),
        )
        .join(Site, Hazard.site_id == Site.id)
        .where(assigned_to(user), Hazard.status == "open")
        .order_by(Hazard.created_at, Hazard.id)
        .limit(SHOWN)
    ).all()
    if not rows:
        return None
    return StartSection(
        "hazards/_start.html",
        order=30,
        context={
            "count": rows[0][-1],
            "oldest": [OpenHazard(*r[:-1]) for r in rows],
            **LABELS,
        },
    )
