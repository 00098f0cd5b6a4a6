"""Factories for star assessments."""

from __future__ import annotations

from datetime import date, datetime

from community.assessments.models import Assessment


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
