"""Read side of outreach: event and request lists, the live count, the last visit
of each kind at a target, and coverage per area (SQL aggregates: a fixed number
of queries whatever the number of enterprises and sites)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, distinct, exists, func, select
from sqlalchemy.orm import Session, selectinload

from community.accounts.models import Area, Organization
from community.core.pagination import PER_PAGE, Page, paginate
from community.core.timeutil import day_start, utcnow
from community.core.validators import is_id
from community.outreach.models import (
    KINDS,
    OutreachCorner,
    OutreachEvent,
    OutreachSignin,
    VisitRequest,
)
from community.outreach.permissions import (
    coverage_areas,
    event_scope,
    publish_areas,
    request_scope,
)
from community.places.models import Site
from community.places.queries import count_sites
from community.residents.models import Residence


def get_event(session: Session, event_id: int) -> OutreachEvent | None:
    if not is_id(event_id):
        return None
    return session.scalar(
        select(OutreachEvent)
        .where(OutreachEvent.id == event_id)
        .options(selectinload(OutreachEvent.photos))
    )


def get_event_by_token(session: Session, token: str) -> OutreachEvent | None:
    if not token or len(token) > 40:
        return None
    return session.scalar(select(OutreachEvent).where(OutreachEvent.signin_token == token))


def get_request(session: Session, request_id: int) -> VisitRequest | None:
    return session.get(VisitRequest, request_id) if is_id(request_id) else None


def list_events(
    session: Session, user: Any, *, when: str = "upcoming", kind: str = "", page: int = 1
) -> Page:
    """Events the user may see: upcoming (not ended yet, soonest first) or past
    (latest first), of one kind or all. Two queries."""
    now = utcnow()
    stmt = select(OutreachEvent).where(event_scope(user))
    if kind in KINDS:
        stmt = stmt.where(OutreachEvent.kind == kind)
    if when == "past":
        stmt = stmt.where(OutreachEvent.ends_at < now).order_by(
            OutreachEvent.starts_at.desc(), OutreachEvent.id.desc()
        )
    else:
        stmt = stmt.where(OutreachEvent.ends_at >= now).order_by(
            OutreachEvent.starts_at, OutreachEvent.id
        )
    return paginate(session, stmt, page, PER_PAGE)


def list_requests(session: Session, user: Any, *, status: str = "", page: int = 1) -> Page:
    stmt = select(VisitRequest).where(request_scope(user))
    if status:
        stmt = stmt.where(VisitRequest.status == status)
    stmt = stmt.order_by(VisitRequest.created_at.desc(), VisitRequest.id.desc())
    return paginate(session, stmt, page, PER_PAGE)


def list_corners(session: Session, user: Any) -> list[OutreachCorner]:
    """Corners of the areas the user publishes in (those they may book)."""
    return list(
        session.scalars(
            select(OutreachCorner)
            .join(Area, Area.id == OutreachCorner.area_id)
            .where(publish_areas(user))
            .order_by(OutreachCorner.name)
        )
    )


@dataclass(frozen=True)
class LiveCount:
    signins: int
    answered: int
    right: int

    @property
    def right_share(self) -> int | None:
        """Right answers among all answers given, in percent (None: no answer yet)."""
        if not self.answered:
            return None
        return round(100 * self.right / (5 * self.answered))


def live_count(session: Session, event_id: int) -> LiveCount:
    """Sign-ins, quizzes answered and right answers of an event: one query, no write."""
    signins, answered, right = session.execute(
        select(
            func.count(OutreachSignin.id),
            func.count(OutreachSignin.quiz_at),
            func.coalesce(func.sum(OutreachSignin.quiz_correct), 0),
        ).where(OutreachSignin.event_id == event_id)
    ).one()
    return LiveCount(int(signins), int(answered), int(right))


def last_visits(session: Session, *, site_id: int | None = None, enterprise_id: int | None = None):
    """kind -> the start (UTC) of the latest event held there of that kind (one query)."""
    column = OutreachEvent.site_id if site_id is not None else OutreachEvent.enterprise_id
    target = site_id if site_id is not None else enterprise_id
    rows = session.execute(
        select(OutreachEvent.kind, func.max(OutreachEvent.starts_at))
        .where(column == target, OutreachEvent.status == "closed")
        .group_by(OutreachEvent.kind)
    )
    return {kind: at for kind, at in rows}


# --- coverage ------------------------------------------------------------------------


def twelve_months_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def since_of(today: date) -> datetime:
    """The first instant (UTC) of the last 12 months: local midnight a year ago."""
    return day_start(twelve_months_before(today))


@dataclass
class KindCoverage:
    kind: str
    events: int = 0
    people: int = 0
    enterprises: int = 0
    sites: int = 0


@dataclass
class Coverage:
    enterprises_total: int
    sites_total: int
    rows: list[KindCoverage]
    any_kind: KindCoverage
    never_enterprises: list[tuple[int, str, int]] = field(default_factory=list)  # id, name, staff
    never_enterprises_count: int = 0
    never_sites: list[tuple[int, str, int]] = field(default_factory=list)  # id, name, rooms
    never_sites_count: int = 0


def area_ids_for(user: Any, area: Area | None) -> Select:
    """SELECT of the ids of the areas in `area`'s subtree, or of every area whose
    coverage the user reads."""
    if area is not None:
        return select(Area.id).where(Area.path.like(f"{area.path}%"))
    return select(Area.id).where(coverage_areas(user))


def _held(area_ids: Select, since: datetime, kind: str | None = None) -> list:
    where = [
        OutreachEvent.status == "closed",
        OutreachEvent.starts_at >= since,
        OutreachEvent.area_id.in_(area_ids),
    ]
    if kind:
        where.append(OutreachEvent.kind == kind)
    return where


def coverage_by_kind(session: Session, area_ids: Select, since: datetime) -> Coverage:
    """Per kind, over the events held (closed) since `since` in the areas: events,
    people reached (their attendance), distinct enterprises and sites visited; the
    same over every kind; the enterprises and sites of the areas (the sites from
    the area counters, places.stored). Four queries."""
    rows = {k: KindCoverage(k) for k in KINDS}
    columns = (
        func.count(OutreachEvent.id),
        func.coalesce(func.sum(OutreachEvent.attendance), 0),
        func.count(distinct(OutreachEvent.enterprise_id)),
        func.count(distinct(OutreachEvent.site_id)),
    )
    for kind, *values in session.execute(
        select(OutreachEvent.kind, *columns)
        .where(*_held(area_ids, since))
        .group_by(OutreachEvent.kind)
    ):
        rows[kind] = KindCoverage(kind, *(int(v) for v in values))
    any_values = session.execute(select(*columns).where(*_held(area_ids, since))).one()
    enterprises_total = session.scalar(
        select(func.count())
        .select_from(Organization)
        .where(Organization.kind == "enterprise", Organization.area_id.in_(area_ids))
    )
    return Coverage(
        enterprises_total=int(enterprises_total or 0),
        sites_total=int(count_sites(session, area_ids)),
        rows=[rows[k] for k in KINDS],
        any_kind=KindCoverage("", *(int(v) for v in any_values)),
    )


def _visited(column, since: datetime, kind: str | None):
    where = [
        column.is_not(None),
        OutreachEvent.status == "closed",
        OutreachEvent.starts_at >= since,
    ]
    if kind:
        where.append(OutreachEvent.kind == kind)
    return where


def employees_registered(enterprise: Any = Organization):
    """SQL: the active residences (verified, not moved out) naming the enterprise as
    employer, read from the partial index ix_residence_employer_active (one index
    range per enterprise, no residence row)."""
    return (
        select(func.count())
        .select_from(Residence)
        .where(
            Residence.employer == enterprise.name,
            Residence.status == "verified",
            Residence.move_out.is_(None),
            Residence.employer.is_not(None),
        )
        .correlate(enterprise)
        .scalar_subquery()
    )


def never_visited_enterprises(
    session: Session, area_ids: Select, since: datetime, kind: str | None, limit: int = 20
) -> list[tuple[int, str, int]]:
    """Enterprises of the areas with no event of `kind` (any kind: None) held there
    since `since`, those with most employees registered as residents first. One
    query: an index range per enterprise not visited, none for the others."""
    visited = (
        select(OutreachEvent.id)
        .where(
            OutreachEvent.enterprise_id == Organization.id,
            *_visited(OutreachEvent.enterprise_id, since, kind),
        )
        .correlate(Organization)
    )
    employees = employees_registered().label("employees")
    rows = session.execute(
        select(Organization.id, Organization.name, employees)
        .where(
            Organization.kind == "enterprise",
            Organization.area_id.in_(area_ids),
            ~exists(visited),
        )
        .order_by(employees.desc(), Organization.name, Organization.id)
        .limit(limit)
    ).all()
    return [(i, n, int(e)) for i, n, e in rows]


def never_visited_sites(
    session: Session, area_ids: Select, since: datetime, kind: str | None, limit: int = 20
) -> list[tuple[int, str, int]]:
    """Sites of the areas with no event of `kind` (any: None) held there since
    `since`, those with most rooms first (the stored room count, read in order from
    ix_site_rooms: the query stops after a page). One query."""
    visited = (
        select(OutreachEvent.id)
        .where(OutreachEvent.site_id == Site.id, *_visited(OutreachEvent.site_id, since, kind))
        .correlate(Site)
    )
    rows = session.execute(
        select(Site.id, Site.name, Site.room_count)
        .where(Site.area_id.in_(area_ids), ~exists(visited))
        .order_by(Site.room_count.desc(), Site.name, Site.id)
        .limit(limit)
    ).all()
    return [(i, n, int(r)) for i, n, r in rows]


def coverage(
    session: Session, area_ids: Select, today: date, kind: str | None = None, limit: int = 20
) -> Coverage:
    """The coverage page: per kind, and the targets never visited (for `kind`).
    How many were never visited is the targets of the areas minus those visited,
    the figures of the table above (a visit counts in the area it was held in, the
    target's area at the time): no query reads every target to count them."""
    since = since_of(today)
    result = coverage_by_kind(session, area_ids, since)
    visited = next((r for r in result.rows if r.kind == kind), result.any_kind)
    result.never_enterprises = never_visited_enterprises(
        session, area_ids, since, kind or None, limit
    )
    result.never_enterprises_count = max(result.enterprises_total - visited.enterprises, 0)
    result.never_sites = never_visited_sites(session, area_ids, since, kind or None, limit)
    result.never_sites_count = max(result.sites_total - visited.sites, 0)
    return result


def waiting_requests(session: Session, condition) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(VisitRequest)
            .where(VisitRequest.status == "waiting", condition)
        )
        or 0
    )
