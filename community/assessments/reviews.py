"""Review kind of star assessments: submitted assessments wait for the police.
Rejecting (with a reason) happens in the queue; approving needs the manual items
scored, so the row links to the assessment page for it."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select

from community.accounts.permissions import can
from community.assessments import queries, services
from community.assessments.models import Assessment
from community.core.reviews import ReviewKind, by_id, pending_select, register_review_kind
from community.places.models import Site
from community.places.permissions import polices_areas


def _submitted(user: Any) -> Select:
    return (
        pending_select(
            Assessment.id, Site.name, Assessment.submitted_at, Site.area_id, month=Assessment.month
        )
        .join(Site, Site.id == Assessment.site_id)
        .where(Assessment.status == "submitted", polices_areas(user, Site.area_id))
    )


def _reject(session, user, assessment, reason: str):
    return services.decide_assessment(session, user, assessment, "reject", reason, {})


register_review_kind(
    ReviewKind(
        name="assessment",
        label=_l("Star assessments"),
        order=20,
        reviewer=lambda user: can(user, "assessment.review_queue"),
        pending=_submitted,
        describe=lambda row: f"{row.title} · {row.month:%Y-%m}",
        get=by_id(queries.get_assessment),
        view_action="assessment.view",
        decide_action="assessment.decide",
        link=lambda id: url_for("assessments.show", assessment_id=id),
        reject=_reject,
        action_label=_l("Score and approve"),
        audit_type="assessment",
    )
)
