"""The outreach section of the start page `/`: for police and coordinators the
visit requests waiting in their areas and their next events; for an enterprise or
property company its requests still waiting. Two queries at most."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from community.accounts.permissions import can
from community.core.start import StartSection, register_start_section
from community.core.timeutil import utcnow
from community.outreach.forms import LABELS
from community.outreach.models import OutreachEvent, VisitRequest
from community.outreach.permissions import (
    asks_for_visits,
    decides_requests,
    event_scope,
    requester_orgs,
)

SHOWN = 3


@register_start_section
def outreach_section(session: Session, user: Any) -> StartSection | None:
    if can(user, "outreach.review_queue"):
        waiting = session.scalar(
            select(func.count())
            .select_from(VisitRequest)
            .where(VisitRequest.status == "waiting", decides_requests(user, VisitRequest.area_id))
        )
        upcoming = list(
            session.scalars(
                select(OutreachEvent)
                .where(
                    event_scope(user),
                    OutreachEvent.status == "published",
                    OutreachEvent.ends_at >= utcnow(),
                )
                .order_by(OutreachEvent.starts_at, OutreachEvent.id)
                .limit(SHOWN)
            )
        )
    elif asks_for_visits(user):
        waiting = session.scalar(
            select(func.count())
            .select_from(VisitRequest)
            .where(
                VisitRequest.status == "waiting",
                VisitRequest.organization_id.in_(requester_orgs(user)),
            )
        )
        upcoming = []
    else:
        return None
    if not waiting and not upcoming:
        return None
    return StartSection(
        "outreach/_start.html",
        order=45,
        context={"waiting": int(waiting or 0), "upcoming": upcoming, **LABELS},
    )
