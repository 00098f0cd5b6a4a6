"""Read side of the inspection pages: the due list, checklists, histories, incidents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, Integer, case, cast, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.sql.functions import FunctionElement

from community.core.pagination import PER_PAGE, Page
from community.core.timeutil import today as _today
from community.inspections.models import ChecklistItem, Incident, Inspection, InspectionResult
from community.places.models import Site
from community.places.permissions import visible_sites

# --- re-inspection cadence -------------------------------------------------
#
# Days between inspections. A site that is not admitted (never was, or failed its
# last inspection) is seen again after 14 days whatever its stars; an admitted site
# without stars yet after 30 days, like a 3-star site; otherwise by its stars.
# Both next_due_on() and the SQL of list_due() are built from these numbers.
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
    due = next_due_on(site)
    if due is None:
        return 0
    return (due - (today or _today())).days


class _plus_days(FunctionElement):
    """date + integer days, for SQLite and PostgreSQL (SQL has no portable form)."""

    type = Date()
    name = "plus_days"
    inherit_cache = True


@compiles(_plus_days)
def _plus_days_default(element, compiler, **kw):  # PostgreSQL: date + integer = date
    day, days = list(element.clauses)
    return f"({compiler.process(day, **kw)} + {compiler.process(days, **kw)})"


@compiles(_plus_days, "sqlite")
def _plus_days_sqlite(element, compiler, **kw):
    day, days = list(element.clauses)
    return f"date({compiler.process(day, **kw)}, '+' || {compiler.process(days, **kw)} || ' days')"


def _cadence_sql():
    """cadence_days() as a SQL CASE on the site row."""
    return cast(
        case(
            (Site.admitted_on.is_(None), NOT_ADMITTED_CADENCE_DAYS),
            (Site.stars.is_(None), UNRATED_CADENCE_DAYS),
            *[(Site.stars == stars, days) for stars, days in STAR_CADENCE_DAYS.items()],
            else_=NOT_ADMITTED_CADENCE_DAYS,
        ),
        Integer,
    )


def _due_by_sql(horizon: date):
    """SQL condition: the site's next inspection is due on or before `horizon`:
    never inspected, or last inspected on or before its cadence level's cutoff.

    One comparison of last_inspected_on with a date picked by a CASE of dates
    computed here (no date arithmetic per row). Not an OR per level: SQLite would
    answer that with a multi-index OR over the admission and star indexes, reading
    every unadmitted site instead of the range of ix_site_due a caller bounds."""
    cutoff = case(
        (Site.admitted_on.is_(None), horizon - timedelta(days=NOT_ADMITTED_CADENCE_DAYS)),
        (Site.stars.is_(None), horizon - timedelta(days=UNRATED_CADENCE_DAYS)),
        *[
            (Site.stars == stars, horizon - timedelta(days=days))
            for stars, days in STAR_CADENCE_DAYS.items()
        ],
        else_=horizon - timedelta(days=NOT_ADMITTED_CADENCE_DAYS),
    )
    return or_(Site.last_inspected_on.is_(None), Site.last_inspected_on <= cutoff)


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

    The two parts are counted and paged separately: never-inspected sites are walked
    in name order from ix_site_due (last_inspected_on, name, area_id), so a district
    with tens of thousands of uninspected sites neither sorts them all for a page nor
    reads their rows to count them. Four queries at most."""
    today = today or _today()
    scoped = visible_sites(user)
    never = scoped.where(Site.last_inspected_on.is_(None))
    horizon = today + timedelta(days=DUE_SOON_DAYS)
    # Every cadence compares last_inspected_on with horizon - cadence; the widest bound
    # first lets the database range-scan ix_site_due instead of OR-ing indexes.
    widest = horizon - timedelta(days=min(_all_cadences()))
    # The ids first, from the range of ix_site_due: SQLite without statistics would
    # rather walk the area index (every site of a district) and test each row.
    due_ids = select(Site.id).where(Site.last_inspected_on <= widest, _due_by_sql(horizon))
    seen = scoped.where(Site.id.in_(due_ids))
    n_never = _count(session, never)
    n_seen = _count(session, seen)
    total = n_never + n_seen
    page = min(max(page, 1), max(1, -(-total // per_page)))
    offset = (page - 1) * per_page
    sites: list[Site] = []
    if offset < n_never:
        sites += session.scalars(
            never.order_by(Site.name, Site.id).limit(per_page).offset(offset)
        ).unique()
    if len(sites) < per_page and n_seen:
        sites += session.scalars(
            seen.order_by(_plus_days(Site.last_inspected_on, _cadence_sql()), Site.name, Site.id)
            .limit(per_page - len(sites))
            .offset(max(0, offset - n_never))
        ).unique()
    items = [DueSite(site=s, due_on=next_due_on(s), days=due_in_days(s, today)) for s in sites]
    return Page(items=items, page=page, per_page=per_page, total=total)


def _all_cadences() -> list[int]:
    return [NOT_ADMITTED_CADENCE_DAYS, UNRATED_CADENCE_DAYS, *STAR_CADENCE_DAYS.values()]


def _count(session: Session, stmt) -> int:
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


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
