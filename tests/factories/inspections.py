"""Factories for the ratings package: inspections and incidents.

Shared by the inspections, hazards and assessments tests; hazards and assessments keep
their own factories in tests.factories.hazards.py and tests.factories.assessments.py.
"""

from __future__ import annotations

import itertools
from datetime import date

from sqlalchemy import select

from community.core.timeutil import today, utcnow
from community.inspections.models import ChecklistItem, Incident, Inspection, InspectionResult

_seq = itertools.count(1)


def checklist(session, *, required_only=False) -> list[ChecklistItem]:
    """The active checklist items in order."""
    stmt = select(ChecklistItem).where(ChecklistItem.active.is_(True))
    if required_only:
        stmt = stmt.where(ChecklistItem.required.is_(True))
    return list(session.scalars(stmt.order_by(ChecklistItem.position, ChecklistItem.id)))


def make_checklist_item(session, *, required=False, code=None, position=100) -> ChecklistItem:
    n = next(_seq)
    item = ChecklistItem(
        code=code or f"extra_{n}",
        title_zh=f"附加项{n}",
        title_en=f"Extra item {n}",
        required=required,
        position=position,
        active=True,
    )
    session.add(item)
    session.flush()
    return item


def make_inspection(
    session,
    *,
    site,
    inspector=None,
    inspected_on: date | None = None,
    results: dict[str, str] | str | None = None,
    completed: bool = False,
    update_site: bool = True,
) -> Inspection:
    """An inspection of `site`. `results` maps item codes to pass/fail/na, or is one of
    those words for every active item. `completed=True` stores the outcome (all required
    items pass) and, with `update_site`, sets the site's admission like the service does."""
    inspected_on = inspected_on or today()
    inspection = Inspection(
        site_id=site.id,
        inspector_id=inspector.id if inspector is not None else None,
        inspected_on=inspected_on,
        status="open",
    )
    session.add(inspection)
    session.flush()
    items = checklist(session)
    if isinstance(results, str):
        results = {item.code: results for item in items}
    results = results or {}
    for item in items:
        if item.code in results:
            session.add(
                InspectionResult(
                    inspection_id=inspection.id, item_id=item.id, result=results[item.code]
                )
            )
    if completed:
        passed = all(results.get(i.code) == "pass" for i in items if i.required)
        inspection.status = "completed"
        inspection.passed = passed
        inspection.completed_at = utcnow()
        if update_site:
            if passed:
                site.admitted_on = site.admitted_on or inspected_on
            else:
                site.admitted_on = None
            if site.last_inspected_on is None or site.last_inspected_on < inspected_on:
                site.last_inspected_on = inspected_on
    session.flush()
    return inspection


def make_incident(
    session,
    *,
    site,
    kind="crime",
    occurred_on: date | None = None,
    note=None,
    recorded_by=None,
    update_site: bool = True,
) -> Incident:
    """An incident at `site`; with `update_site` the site's last_incident_on follows."""
    occurred_on = occurred_on or today()
    incident = Incident(
        site_id=site.id,
        kind=kind,
        occurred_on=occurred_on,
        note=note or f"incident {next(_seq)}",
        recorded_by_id=recorded_by.id if recorded_by is not None else None,
    )
    session.add(incident)
    if update_site and (site.last_incident_on is None or site.last_incident_on < occurred_on):
        site.last_incident_on = occurred_on
    session.flush()
    return incident
