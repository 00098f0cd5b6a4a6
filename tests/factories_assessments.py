"""Factories for the star assessment tests: sites, hazards, incidents, assessments.

Hazards and incidents are built from their models directly (their services are
another feature's): only the columns the criteria read matter here.
"""

from __future__ import annotations

from datetime import date, datetime

from community.ratings.models import Assessment, Hazard, Incident
from tests.factories_places import make_site

__all__ = ["make_assessment", "make_hazard", "make_incident", "make_site"]


def make_hazard(
    session,
    *,
    site,
    severity="low",
    status="open",
    created_at: datetime,
    fixed_at: datetime | None = None,
    closed_at: datetime | None = None,
):
    hazard = Hazard(
        site_id=site.id,
        description="Blocked escape route",
        severity=severity,
        status=status,
        created_at=created_at,
        fixed_at=fixed_at,
        closed_at=closed_at,
    )
    session.add(hazard)
    session.flush()
    return hazard


def make_incident(session, *, site, occurred_on: date, kind="crime"):
    incident = Incident(site_id=site.id, kind=kind, occurred_on=occurred_on, note="case")
    session.add(incident)
    session.flush()
    return incident


def make_assessment(
    session,
    *,
    site,
    month: date,
    status="submitted",
    computed=None,
    manual=None,
    score=None,
    stars=None,
    submitted_by=None,
    submitted_at=None,
    reason=None,
):
    """An assessment row as it would stand in `status` (no rules run)."""
    if computed is None:
        computed = {
            "admission": {"points": 25, "max": 25, "detail": "Admitted."},
            "hazards": {"points": 15, "max": 15, "detail": "No open hazard."},
            "incidents": {"points": 20, "max": 20, "detail": "No incident."},
        }
    assessment = Assessment(
        site=site,
        month=month.replace(day=1),
        status=status,
        computed=computed,
        manual=manual or {},
        score=score,
        stars=stars,
        submitted_by_id=getattr(submitted_by, "id", None),
        submitted_at=submitted_at
        or (datetime(2020, 1, 1) if status in ("submitted", "approved", "rejected") else None),
        reason=reason,
    )
    session.add(assessment)
    session.flush()
    return assessment
