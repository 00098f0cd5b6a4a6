"""Visit requests: asked by an enterprise or a property company, scheduled by an
event (services.events) or declined with a reason."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from community.accounts.models import Organization
from community.accounts.permissions import can
from community.accounts.services import member_user_ids
from community.core import audit
from community.core.errors import Conflict, RuleViolation
from community.core.notify import notify, path_for
from community.core.reviews import require_reason
from community.core.timeutil import today, utcnow
from community.core.validators import is_id
from community.outreach.models import (
    KINDS,
    OutreachEvent,
    VisitRequest,
)
from community.outreach.permissions import requester_orgs
from community.outreach.services.common import (
    DECLINED,
    DECLINED_NOTICE,
    REQUESTED,
    SCHEDULED,
    SCHEDULED_NOTICE,
    when,
)
from community.places.models import Site

# --- visit requests ------------------------------------------------------------------


def request_visit(
    session: Session,
    actor: Any,
    *,
    kind: str,
    organization_id: int | None,
    site_id: int | None,
    preferred_from: date | None,
    preferred_to: date | None,
    audience: int | None,
    note: str = "",
) -> VisitRequest:
    """An enterprise or property company asks for a session at its premises: its
    own organization (one of the actor's), for a property company one of its sites.
    RuleViolation on kind, organization_id, site_id, preferred_from (in the past),
    preferred_to (before preferred_from), audience (< 1)."""
    errors: list[tuple[str | None, str]] = []
    if kind not in KINDS:
        errors.append(("kind", _("Unknown kind of event.")))
    org = (
        session.get(Organization, organization_id)
        if is_id(organization_id) and organization_id in requester_orgs(actor)
        else None
    )
    if org is None:
        errors.append(("organization_id", _("Choose your organization.")))
    site = None
    if org is not None and org.kind == "property_company":
        site = (
            session.scalar(select(Site).where(Site.id == site_id, Site.company_id == org.id))
            if is_id(site_id)
            else None
        )
        if site is None:
            errors.append(("site_id", _("Choose one of your company's sites.")))
    if preferred_from is None:
        errors.append(("preferred_from", _("Give a date.")))
    elif preferred_from < today():
        errors.append(("preferred_from", _("The date lies in the past.")))
    if preferred_to is None:
        errors.append(("preferred_to", _("Give a date.")))
    elif preferred_from is not None and preferred_to < preferred_from:
        errors.append(("preferred_to", _("The last date comes before the first.")))
    if audience is None or audience < 1:
        errors.append(("audience", _("At least one person.")))
    if errors:
        raise RuleViolation.several(errors)
    visit = VisitRequest(
        kind=kind,
        organization_id=org.id,
        site_id=site.id if site else None,
        area_id=site.area_id if site else org.area_id,
        preferred_from=preferred_from,
        preferred_to=preferred_to,
        audience=audience,
        note=(note or "").strip()[:500] or None,
        status="waiting",
        requested_by_id=getattr(actor, "id", None),
    )
    session.add(visit)
    session.flush()
    audit.record(session, actor, REQUESTED, visit, {"kind": kind, "audience": audience})
    return visit


def _waiting_request(session: Session, actor: Any, request_id: Any) -> VisitRequest:
    visit = session.get(VisitRequest, int(request_id)) if is_id(_int(request_id)) else None
    if visit is None or not can(actor, "outreach.request.decide", visit):
        raise RuleViolation(None, _("The visit request is not one you decide."))
    if visit.status != "waiting":
        raise Conflict(_("This request was already decided."))
    return visit


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _decide(session: Session, visit: VisitRequest, actor: Any, **values: Any) -> None:
    result = session.execute(
        update(VisitRequest)
        .where(VisitRequest.id == visit.id, VisitRequest.status == "waiting")
        .values(decided_by_id=getattr(actor, "id", None), decided_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    session.expire(visit)
    if result.rowcount != 1:
        raise Conflict(_("This request was already decided."))


def _requesters(session: Session, visit: VisitRequest) -> list[int]:
    return member_user_ids(session, [visit.organization_id], "enterprise", "property_manager")


def _schedule(session: Session, actor: Any, visit: VisitRequest, event: OutreachEvent) -> None:
    _decide(session, visit, actor, status="scheduled", event_id=event.id)
    audit.record(session, actor, SCHEDULED, visit, {"event": event.id})
    notify(
        session,
        _requesters(session, visit),
        SCHEDULED_NOTICE,
        link=path_for("outreach.show_request", request_id=visit.id),
        when=when(event.starts_at),
    )


def decline_request(session: Session, actor: Any, visit: VisitRequest, reason: str) -> VisitRequest:
    """waiting -> declined with a reason the requester reads. RuleViolation("reason")
    when empty; Conflict when decided already."""
    reason = require_reason(reason, _("Say why the request is declined."))
    _decide(session, visit, actor, status="declined", reason=reason)
    audit.record(session, actor, DECLINED, visit, {"reason": reason})
    notify(
        session,
        _requesters(session, visit),
        DECLINED_NOTICE,
        link=path_for("outreach.show_request", request_id=visit.id),
        reason=reason,
    )
    session.flush()
    return visit
