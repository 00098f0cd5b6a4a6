"""Incidents (crime/public-security cases and fire accidents) recorded by the police,
and the 双无 badge: no incident of either kind in the last 365 days."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from community.core.audit import record
from community.core.errors import RuleViolation
from community.core.timeutil import today as _today
from community.places.models import Site
from community.places.queries import is_shuangwu  # noqa: F401 - the badge rule lives there
from community.ratings.models import INCIDENT_KINDS, Incident

# The site page lists the incidents of the last this-many years.
HISTORY_YEARS = 3
NOTE_MAX = 500


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


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


def record_incident(
    session: Session,
    actor: Any,
    site: Site,
    *,
    kind: str,
    occurred_on: date | None,
    note: str | None,
    today: date | None = None,
) -> Incident:
    """Record a crime/public-security case or a fire at `site`.

    Rules: kind is crime or fire; the date is required and not in the future; the note
    is required (at most NOTE_MAX characters). The site's last_incident_on becomes the
    latest incident date (recording an older case never moves it back). Raises
    RuleViolation naming the field. Writes an audit event (without the note, which may
    name people)."""
    if kind not in INCIDENT_KINDS:
        raise RuleViolation("kind", _("Choose crime or fire."))
    if occurred_on is None:
        raise RuleViolation("occurred_on", _("Enter the date (YYYY-MM-DD)."))
    if occurred_on > (today or _today()):
        raise RuleViolation("occurred_on", _("The date cannot be in the future."))
    note = (note or "").strip()
    if not note:
        raise RuleViolation("note", _("Describe what happened."))
    if len(note) > NOTE_MAX:
        raise RuleViolation(
            "note", _("The note is too long (at most %(n)d characters).", n=NOTE_MAX)
        )
    incident = Incident(
        site_id=site.id,
        kind=kind,
        occurred_on=occurred_on,
        note=note,
        recorded_by_id=getattr(actor, "id", None),
    )
    session.add(incident)
    if site.last_incident_on is None or site.last_incident_on < occurred_on:
        site.last_incident_on = occurred_on
    session.flush()
    record(
        session,
        actor,
        "incident.recorded",
        incident,
        {"site_id": site.id, "kind": kind, "occurred_on": occurred_on.isoformat()},
    )
    return incident


def demo(session: Session, context: dict) -> None:
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
