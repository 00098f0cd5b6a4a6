"""Review kind of outreach: visit requests waiting for the police or coordinators
of their area. Scheduling is done by publishing an event (the link opens the
request, whose "schedule" button prefills the event form); reject declines the
request with the reason the requester reads."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select

from community.accounts.models import Organization
from community.accounts.permissions import can
from community.core.reviews import ReviewKind, by_id, pending_select, register_review_kind
from community.outreach import queries, services
from community.outreach.models import VisitRequest
from community.outreach.permissions import decides_requests


def _waiting(user: Any) -> Select:
    return (
        pending_select(
            VisitRequest.id,
            Organization.name,
            VisitRequest.created_at,
            VisitRequest.area_id,
            kind=VisitRequest.kind,
            audience=VisitRequest.audience,
        )
        .join(Organization, Organization.id == VisitRequest.organization_id)
        .where(VisitRequest.status == "waiting", decides_requests(user, VisitRequest.area_id))
    )


def _describe(row: Any) -> str:
    from community.outreach.forms import KIND_LABELS

    return f"{row.title} · {KIND_LABELS.get(row.kind, row.kind)} · {row.audience}"


register_review_kind(
    ReviewKind(
        name="outreach_request",
        label=_l("Visit requests to schedule"),
        order=60,
        reviewer=lambda user: can(user, "outreach.review_queue"),
        pending=_waiting,
        describe=_describe,
        get=by_id(queries.get_request),
        view_action="outreach.request.view",
        decide_action="outreach.request.decide",
        link=lambda id: url_for("outreach.show_request", request_id=id),
        reject=services.decline_request,
        action_label=_l("Schedule"),
        audit_type="visitrequest",
    )
)
