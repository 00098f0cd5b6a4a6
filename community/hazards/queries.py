"""Read side of the hazard pages: lists per tab, the site panel, the history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from community.accounts.models import User
from community.core.models import AuditEvent
from community.core.pagination import PER_PAGE, Page, paginate
from community.hazards.models import Hazard
from community.hazards.permissions import assigned_to
from community.hazards.services import HISTORY_ACTIONS
from community.places.models import Site
from community.places.permissions import at_visible_site

ACTIVE_STATES = ("open", "fixed")


def get_hazard(session: Session, hazard_id: int) -> Hazard | None:
    """The hazard with its site (permissions need it), reporter and assignees."""
    return session.scalar(
        select(Hazard)
        .where(Hazard.id == hazard_id)
        .options(
            joinedload(Hazard.site, innerjoin=True),
            joinedload(Hazard.reported_by),
            joinedload(Hazard.assignee_user),
            joinedload(Hazard.assignee_org),
        )
    )


def list_hazards(
    session: Session,
    user: Any,
    *,
    tab: str = "area",
    status: str = "",
    page: int = 1,
    per_page: int = PER_PAGE,
    site: Site | None = None,
) -> Page:
    """Hazards of one tab ("assigned", "area", "reported") at sites the user may see,
    newest first; status "" = open or fixed, "all" = every state. Two queries."""
    stmt = select(Hazard).where(at_visible_site(user, Hazard.site_id))
    if tab == "assigned":
        stmt = stmt.where(assigned_to(user))
    elif tab == "reported":
        stmt = stmt.where(Hazard.reported_by_id == user.id)
    if site is not None:
        stmt = stmt.where(Hazard.site_id == site.id)
    if status == "":
        stmt = stmt.where(Hazard.status.in_(ACTIVE_STATES))
    elif status != "all":
        stmt = stmt.where(Hazard.status == status)
    stmt = stmt.options(
        joinedload(Hazard.site, innerjoin=True),
        joinedload(Hazard.assignee_user),
        joinedload(Hazard.assignee_org),
    ).order_by(Hazard.created_at.desc(), Hazard.id.desc())
    return paginate(session, stmt, page, per_page)


def site_hazards(session: Session, site: Site, limit: int = 10) -> tuple[list[Hazard], int]:
    """Open and fixed hazards at one site (newest first, at most `limit`) and their count.
    The caller has checked that the user may see the site."""
    where = (Hazard.site_id == site.id, Hazard.status.in_(ACTIVE_STATES))
    count = session.scalar(select(func.count()).select_from(Hazard).where(*where)) or 0
    items = list(
        session.scalars(
            select(Hazard)
            .where(*where)
            .order_by(Hazard.created_at.desc(), Hazard.id.desc())
            .limit(limit)
        )
    )
    return items, count


def count_open(session: Session, site_id: int) -> int:
    """Hazards at the site not fixed yet (for assessments and plaques)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Hazard)
            .where(Hazard.site_id == site_id, Hazard.status == "open")
        )
        or 0
    )


@dataclass
class HistoryEntry:
    action: str
    at: datetime
    actor: str | None
    detail: dict


def history(session: Session, hazard: Hazard) -> list[HistoryEntry]:
    """Reported, fixed (with note), reopened (with reason), closed — oldest first."""
    rows = session.execute(
        select(AuditEvent, User.display_name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(
            AuditEvent.object_type == "hazard",
            AuditEvent.object_id == hazard.id,
            AuditEvent.action.in_(HISTORY_ACTIONS),
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return [HistoryEntry(e.action, e.at, name, e.detail or {}) for e, name in rows]
