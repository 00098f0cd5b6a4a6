"""The assessments section of the start page `/` (core.start): for a landlord or
property company, the sites whose monthly star assessment of last month is still
to submit this month, and assessments sent back to correct (two queries)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from community.assessments.models import Assessment
from community.assessments.services import SUBMITTABLE_STATES, last_complete_month
from community.core.start import StartSection, register_start_section
from community.places.models import Site
from community.places.permissions import run_sites

SHOWN = 5


@dataclass(frozen=True)
class Due:
    site_id: int
    site: str
    assessment_id: int | None  # None: not started yet
    status: str | None


@dataclass(frozen=True)
class SentBack:
    id: int
    site: str
    month: date
    reason: str | None


def sites_due(
    session: Session, sites, month: date, limit: int = SHOWN, offset: int = 0
) -> tuple[int, list[Due]]:
    """Sites (a condition on Site) whose assessment of `month` is not submitted yet
    (not started, draft or sent back), by name, with how many there are (one query: a
    windowed count); the start page shows the first few, /assessments/due all."""
    rows = session.execute(
        select(Site.id, Site.name, Assessment.id, Assessment.status, func.count().over())
        .outerjoin(Assessment, and_(Assessment.site_id == Site.id, Assessment.month == month))
        .where(sites, Assessment.id.is_(None) | Assessment.status.in_(SUBMITTABLE_STATES))
        .order_by(Site.name, Site.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return (rows[0][-1] if rows else 0), [Due(*r[:-1]) for r in rows]


@register_start_section
def assessments_section(session: Session, user: Any) -> StartSection | None:
    """Sites the user runs whose assessment of last month is not submitted yet (not
    started, draft or sent back), and their assessments of earlier months sent back;
    each list one query with a windowed count. None when nothing is due."""
    sites = run_sites(user)
    if sites is None:
        return None
    month = last_complete_month()
    due_count, due = sites_due(session, sites, month)
    back_rows = session.execute(
        select(Assessment.id, Site.name, Assessment.month, Assessment.reason, func.count().over())
        .join(Site, Assessment.site_id == Site.id)
        .where(sites, Assessment.status == "rejected", Assessment.month != month)
        .order_by(Assessment.month.desc(), Assessment.id.desc())
        .limit(SHOWN)
    ).all()
    if not due and not back_rows:
        return None
    return StartSection(
        "assessments/_start.html",
        order=40,
        context={
            "month": month,
            "due_count": due_count,
            "due": due,
            "back_count": back_rows[0][-1] if back_rows else 0,
            "back": [SentBack(*r[:-1]) for r in back_rows],
        },
    )
