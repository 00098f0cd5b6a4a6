"""Safety admission (安全标准准入): inspections against the checklist, the admission
decision, and the re-inspection cadence that follows a site's stars."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Date, Integer, and_, case, cast, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.sql.functions import FunctionElement

from community.accounts.permissions import visible_sites
from community.core.audit import record
from community.core.errors import Conflict, RuleViolation
from community.core.pagination import PER_PAGE, Page, paginate
from community.core.timeutil import today as _today
from community.core.timeutil import utcnow
from community.places.models import Site
from community.ratings.models import RESULTS, ChecklistItem, Inspection, InspectionResult

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
NOTE_MAX = 255


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
    """SQL condition: the site's next inspection is due on or before `horizon`.

    One comparison of last_inspected_on with a date computed here per cadence level,
    so the database compares plain dates (no date arithmetic per row)."""
    admitted = Site.admitted_on.is_not(None)
    levels = [
        Site.last_inspected_on.is_(None),
        and_(
            Site.admitted_on.is_(None),
            Site.last_inspected_on <= horizon - timedelta(days=NOT_ADMITTED_CADENCE_DAYS),
        ),
        and_(
            admitted,
            Site.stars.is_(None),
            Site.last_inspected_on <= horizon - timedelta(days=UNRATED_CADENCE_DAYS),
        ),
    ]
    by_days: dict[int, list[int]] = {}
    for stars, days in STAR_CADENCE_DAYS.items():
        by_days.setdefault(days, []).append(stars)
    for days, stars in by_days.items():
        levels.append(
            and_(
                admitted,
                Site.stars.in_(stars),
                Site.last_inspected_on <= horizon - timedelta(days=days),
            )
        )
    return or_(*levels)


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
    overdue, never-inspected sites first, then by due date. Two queries."""
    today = today or _today()
    stmt = (
        visible_sites(user)
        .where(_due_by_sql(today + timedelta(days=DUE_SOON_DAYS)))
        .order_by(
            case((Site.last_inspected_on.is_(None), 0), else_=1),
            _plus_days(Site.last_inspected_on, _cadence_sql()),
            Site.name,
            Site.id,
        )
    )
    result = paginate(session, stmt, page, per_page)
    result.items = [
        DueSite(site=s, due_on=next_due_on(s), days=due_in_days(s, today)) for s in result.items
    ]
    return result


# --- inspections -------------------------------------------------------------


@dataclass
class Row:
    item: ChecklistItem
    result: InspectionResult | None


@dataclass
class Summary:
    passed: int = 0
    failed: int = 0
    na: int = 0
    unanswered: int = 0
    required_failing: list[ChecklistItem] = field(default_factory=list)
    required_unanswered: list[ChecklistItem] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every required item has an answer: the inspection may be completed."""
        return not self.required_unanswered

    @property
    def would_admit(self) -> bool:
        return self.complete and not self.required_failing


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


def summarize(rows: list[Row]) -> Summary:
    """Counts per answer, and the required items that block admission: a required
    item passes only with "pass" ("na" does not count as passing)."""
    summary = Summary()
    for row in rows:
        answer = row.result.result if row.result is not None else None
        if answer == "pass":
            summary.passed += 1
        elif answer == "fail":
            summary.failed += 1
        elif answer == "na":
            summary.na += 1
        else:
            summary.unanswered += 1
        if row.item.required:
            if answer is None:
                summary.required_unanswered.append(row.item)
            elif answer != "pass":
                summary.required_failing.append(row.item)
    return summary


def get_open_inspection(session: Session, site: Site) -> Inspection | None:
    return session.scalar(
        select(Inspection)
        .where(Inspection.site_id == site.id, Inspection.status == "open")
        .order_by(Inspection.id)
        .limit(1)
    )


def start_inspection(
    session: Session, inspector: Any, site: Site, *, on: date | None = None
) -> Inspection:
    """Open an inspection of `site`, or return the one already open (a site has at most
    one open inspection; a second "start" continues it)."""
    existing = get_open_inspection(session, site)
    if existing is not None:
        return existing
    inspection = Inspection(
        site_id=site.id,
        inspector_id=getattr(inspector, "id", None),
        inspected_on=on or _today(),
        status="open",
    )
    session.add(inspection)
    session.flush()
    return inspection


def record_result(
    session: Session,
    actor: Any,
    inspection: Inspection,
    item: ChecklistItem,
    result: str,
    note: str | None = None,
) -> InspectionResult:
    """Set the answer (pass/fail/na) and optional note of one checklist item.

    Raises Conflict when the inspection is completed (completed inspections are read
    only) and RuleViolation("result"/"note") for an unknown answer or a too long note."""
    if inspection.status != "open":
        raise Conflict(_("This inspection is completed; its answers can no longer change."))
    if result not in RESULTS:
        raise RuleViolation("result", _("Choose pass, fail or not applicable."))
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise RuleViolation(
            "note", _("The note is too long (at most %(n)d characters).", n=NOTE_MAX)
        )
    stmt = select(InspectionResult).where(
        InspectionResult.inspection_id == inspection.id, InspectionResult.item_id == item.id
    )
    answer = session.scalar(stmt)
    if answer is None:
        answer = InspectionResult(
            inspection_id=inspection.id, item_id=item.id, result=result, note=note
        )
        try:
            with session.begin_nested():  # a concurrent tick of the same item may win
                session.add(answer)
        except IntegrityError:
            answer = session.scalars(stmt).one()
    answer.result = result
    answer.note = note
    session.flush()
    return answer


def complete_inspection(
    session: Session, actor: Any, inspection: Inspection, *, on: date | None = None
) -> Inspection:
    """Conclude an inspection and decide the site's admission.

    Rule: the inspection can be completed only when every required active checklist
    item has an answer (else RuleViolation(None, ...)). It passes when every required
    item is "pass": "na" is not acceptable for a required item, an item the inspector
    cannot check is not admitted. Optional items never block. On pass the site is
    admitted from the inspection date, keeping an earlier admission date; on fail the
    site loses its admission (admitted_on = None, flagged wherever it appears). The
    inspection is dated `on` (default today: the day it is concluded), the actor
    becomes its inspector and the site's last_inspected_on follows. Raises Conflict
    when the inspection is already completed. Writes an audit event."""
    if inspection.status != "open":
        raise Conflict(_("This inspection is already completed."))
    summary = summarize(checklist_rows(session, inspection))
    if not summary.complete:
        raise RuleViolation(
            None,
            _(
                "Answer every required item before completing the inspection; "
                "%(n)d still unanswered.",
                n=len(summary.required_unanswered),
            ),
        )
    inspected_on = on or _today()
    site = session.get(Site, inspection.site_id)
    inspection.status = "completed"
    inspection.passed = summary.would_admit
    inspection.inspected_on = inspected_on
    inspection.completed_at = utcnow()
    if actor is not None and getattr(actor, "id", None) is not None:
        inspection.inspector_id = actor.id
    if inspection.passed:
        if site.admitted_on is None:
            site.admitted_on = inspected_on
    else:
        site.admitted_on = None
    if site.last_inspected_on is None or site.last_inspected_on < inspected_on:
        site.last_inspected_on = inspected_on
    record(
        session,
        actor,
        "inspection.completed",
        inspection,
        {
            "site_id": site.id,
            "passed": inspection.passed,
            "failing": [item.code for item in summary.required_failing],
            "admitted_on": site.admitted_on.isoformat() if site.admitted_on else None,
        },
    )
    session.flush()
    return inspection


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


# --- demo ------------------------------------------------------------------------


def demo(session: Session, context: dict) -> None:
    """Completed inspections of the demo sites: most admitted, about a third not
    admitted, some inspected long ago so they are overdue. Deterministic."""
    sites = [context["sites"][name] for name in sorted(context.get("sites") or {})]
    inspector = (context.get("users") or {}).get("police")
    if not sites:
        return
    session.flush()
    today = _today()
    items = active_items(session)
    failing = {"ebike_charging", "no_indoor_ebike"}
    for n, site in enumerate(sites):
        if n % 4 == 0:  # an earlier inspection too: history, and the admission date kept
            _demo_inspection(session, inspector, site, items, today - timedelta(days=400 + n))
        if n % 3 == 2:
            answers = {i.code: ("fail" if i.code in failing else "pass") for i in items}
            _demo_inspection(
                session, inspector, site, items, today - timedelta(days=20 + n), answers
            )
            continue
        # every fourth admitted site was last inspected long ago: overdue
        days_ago = 120 + 3 * n if n % 4 == 1 else 5 + 2 * n
        _demo_inspection(session, inspector, site, items, today - timedelta(days=days_ago))


def _demo_inspection(session, inspector, site, items, on, answers=None):
    inspection = start_inspection(session, inspector, site, on=on)
    for item in items:
        result = (answers or {}).get(item.code, "pass")
        note = _("Fix within 14 days") if result == "fail" else None
        record_result(session, inspector, inspection, item, result, note)
    return complete_inspection(session, inspector, inspection, on=on)
