"""Read side of the inspection pages: the due list, checklists, histories, incidents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from community.core.pagination import PER_PAGE, Page
from community.core.timeutil import today as _today
from community.inspections.models import ChecklistItem, Incident, Inspection, InspectionResult
from community.places.models import Site
from community.places.permissions import visible_sites
from community.places.queries import count, scoped_page
from community.places.stored import register_derived

# --- re-inspection cadence -------------------------------------------------
#
# Days between inspections. A site that is not admitted (never was, or failed its
# last inspection) is seen again after 14 days whatever its stars; an admitted site
# without stars yet after 30 days, like a 3-star site; otherwise by its stars.
# next_due_on() is the one definition; places.stored keeps its value on the site
# (Site.due_on, Site.cadence_days), which the lists read.
STAR_CADENCE_DAYS = {5: 90, 4: 60, 3: 30, 2: 14, 1: 14}


NOT_ADMITTED_CADENCE_DAYS = 14


UNRATED_CADENCE_DAYS = 30


# The due list shows sites due within this many days, and every overdue one.
DUE_SOON_DAYS = 7


def cadence_days(site: Site) -> int:
    """Days from the last inspection to the next one (see STAR_CADENCE_DAYS)."""
    if site.admitted_on is None:
        return NOT_ADMITTED_CADENCE_DAYS
    if site.stars is None:
        return UNRATED_CADENCE_DAYS
    return STAR_CADENCE_DAYS.get(site.stars, NOT_ADMITTED_CADENCE_DAYS)


def next_due_on(site: Site) -> date | None:
    """The date the next inspection is due; None when the site was never inspected
    (it is due now)."""
    if site.last_inspected_on is None:
        return None
    return site.last_inspected_on + timedelta(days=cadence_days(site))


def due_in_days(site: Site, today: date | None = None) -> int:
    """Days until the next inspection: negative when overdue, 0 when due today or
    never inspected."""
    due = site.due_on
    if due is None:
        return 0
    return (due - (today or _today())).days


def stored_due(site: Site) -> dict[str, Any]:
    """The columns places.stored keeps on the site from this package's rules."""
    return {"due_on": next_due_on(site), "cadence_days": cadence_days(site)}


register_derived("inspections", stored_due)


def due_by_sql(day: date):
    """SQL condition: the site's next inspection is due on or before `day` (never
    inspected, or its stored due date has come)."""
    return or_(Site.due_on.is_(None), Site.due_on <= day)


@dataclass
class DueSite:
    site: Site
    due_on: date | None  # None: never inspected
    days: int  # negative: overdue by -days


def list_due(
    session: Session,
    user: Any,
    *,
    today: date | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page:
    """Sites the user may see whose next inspection is due within DUE_SOON_DAYS or is
    overdue, never-inspected sites first (by name), then by due date.

    Reads the stored due date (Site.due_on, kept by places.stored). The two parts
    are counted and paged separately, each read in order from an index
    (ix_site_due: due_on, name; per area on PostgreSQL: ix_site_area_due), so a
    district with tens of thousands of due sites is not sorted for a page. Four
    queries at most."""
    today = today or _today()
    horizon = today + timedelta(days=DUE_SOON_DAYS)
    scoped = visible_sites(user)

    def never(stmt):
        return stmt.where(Site.due_on.is_(None))

    def seen(stmt):
        if session.get_bind().dialect.name == "sqlite":
            # The ids from the range of ix_site_due first: SQLite without statistics
            # would rather walk the area index (every site of a district).
            return stmt.where(Site.id.in_(select(Site.id).where(Site.due_on <= horizon)))
        return stmt.where(Site.due_on <= horizon)

    n_never = count(session, never(scoped))
    n_seen = count(session, seen(scoped))
    total = n_never + n_seen
    page = min(max(page, 1), max(1, -(-total // per_page)))
    offset = (page - 1) * per_page
    sites: list[Site] = []
    if offset < n_never:
        sites += scoped_page(session, user, never, (Site.name, Site.id), per_page, offset)
    if len(sites) < per_page and n_seen:
        sites += scoped_page(
            session,
            user,
            seen,
            (Site.due_on, Site.name, Site.id),
            per_page - len(sites),
            max(0, offset - n_never),
        )
    items = [DueSite(site=s, due_on=s.due_on, days=due_in_days(s, today)) for s in sites]
    return Page(items=items, page=page, per_page=per_page, total=total)


@dataclass
class Row:
    item: ChecklistItem
    result: InspectionResult | None


def active_items(session: Session) -> list[ChecklistItem]:
    return list(
        session.scalars(
            select(ChecklistItem)
            .where(ChecklistItem.active.is_(True))
            .order_by(ChecklistItem.position, ChecklistItem.id)
        )
    )


def get_item(session: Session, item_id: int) -> ChecklistItem | None:
    """An active checklist item, or None."""
    item = session.get(ChecklistItem, item_id)
    return item if item is not None and item.active else None


def checklist_rows(session: Session, inspection: Inspection) -> list[Row]:
    """The active checklist in order, each item with this inspection's answer."""
    answers = {
        r.item_id: r
        for r in session.scalars(
            select(InspectionResult).where(InspectionResult.inspection_id == inspection.id)
        )
    }
    return [Row(item, answers.get(item.id)) for item in active_items(session)]


def get_open_inspection(session: Session, site: Site) -> Inspection | None:
    return session.scalar(
        select(Inspection)
        .where(Inspection.site_id == site.id, Inspection.status == "open")
        .order_by(Inspection.id)
        .limit(1)
    )


def get_inspection(session: Session, inspection_id: int) -> Inspection | None:
    """An inspection with its site (and the site's area) and inspector (one query)."""
    return session.scalar(
        select(Inspection)
        .where(Inspection.id == inspection_id)
        .options(joinedload(Inspection.site, innerjoin=True), joinedload(Inspection.inspector))
    )


def cadence_table() -> dict[str, int]:
    """The re-inspection intervals for the due page's explanation."""
    return {
        **{f"stars_{stars}": days for stars, days in STAR_CADENCE_DAYS.items()},
        "unrated": UNRATED_CADENCE_DAYS,
        "not_admitted": NOT_ADMITTED_CADENCE_DAYS,
    }


def list_history(session: Session, site: Site, *, limit: int = 10) -> list[Inspection]:
    """The site's inspections, newest first, with their inspectors."""
    return list(
        session.scalars(
            select(Inspection)
            .where(Inspection.site_id == site.id)
            .options(joinedload(Inspection.inspector))
            .order_by(Inspection.inspected_on.desc(), Inspection.id.desc())
            .limit(limit)
        )
    )


# The site page lists the incidents of the last this-many years.
HISTORY_YEARS = 3


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def list_since(session: Session, site: Site, since: date) -> list[Incident]:
    """The site's incidents on or after `since` (those costing the 双无 badge), newest first."""
    return list(
        session.scalars(
            select(Incident)
            .where(Incident.site_id == site.id, Incident.occurred_on >= since)
            .order_by(Incident.occurred_on.desc(), Incident.id.desc())
        )
    )


def list_recent(session: Session, site: Site, today: date | None = None) -> list[Incident]:
    """The site's incidents of the last HISTORY_YEARS years, newest first."""
    since = _years_before(today or _today(), HISTORY_YEARS)
    return list(
        session.scalars(
            select(Incident)
            .where(Incident.site_id == site.id, Incident.occurred_on >= since)
            .order_by(Incident.occurred_on.desc(), Incident.id.desc())
        )
    )
