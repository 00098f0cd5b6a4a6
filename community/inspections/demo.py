"""Demo inspections and incidents for seed-demo, through the public services."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from community.core.timeutil import today as _today
from community.inspections.queries import active_items
from community.inspections.services import (
    complete_inspection,
    record_incident,
    record_result,
    start_inspection,
)


def _inspections(session: Session, context: dict) -> None:
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


def _incidents(session: Session, context: dict) -> None:
    """Incidents at a few demo sites: some in the last year (no badge), some older than a
    year (the site keeps its badge). Deterministic."""
    sites = [context["sites"][name] for name in sorted(context.get("sites") or {})]
    police = (context.get("users") or {}).get("police")
    today = _today()
    notes = {
        "crime": _("Theft of an e-bike reported at the entrance; case filed."),
        "fire": _("Small fire from a charging battery; put out, no injuries."),
    }
    for n, site in enumerate(sites):
        if n % 5 == 1:
            kind, days_ago = ("crime" if n % 2 else "fire"), 30 + 7 * n
        elif n % 5 == 3:
            kind, days_ago = ("fire" if n % 2 else "crime"), 400 + 11 * n
        else:
            continue
        record_incident(
            session,
            police,
            site,
            kind=kind,
            occurred_on=today - timedelta(days=days_ago),
            note=notes[kind],
            today=today,
        )


def seed(session: Session, context: dict) -> None:
    """Inspections first (admission dates), then incidents."""
    _inspections(session, context)
    _incidents(session, context)
