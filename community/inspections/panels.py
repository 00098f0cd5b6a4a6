"""The inspection parts of the site page: admission status and history; incidents
and the 双无 badge."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from community.accounts.permissions import can
from community.core.forms import OnceForm
from community.inspections import queries
from community.inspections.forms import INCIDENT_KIND_LABELS, IncidentForm
from community.places.models import Site
from community.places.panels import Panel, register_site_panel
from community.places.queries import shuangwu_status


@register_site_panel
def admission_panel(session: Session, user: Any, site: Site) -> Panel:
    """Admission status, next inspection due, history, and "start inspection"."""
    can_start = can(user, "inspection.create", site)
    return Panel(
        template="inspections/_panel_admission.html",
        order=20,
        context={
            "history": queries.list_history(session, site),
            "open_inspection": queries.get_open_inspection(session, site),
            "next_due": queries.next_due_on(site),
            "due_in": queries.due_in_days(site),
            "can_start": can_start,
            "start_form": OnceForm(formdata=None) if can_start else None,
        },
    )


@register_site_panel
def incidents_panel(
    session: Session, user: Any, site: Site, *, form: IncidentForm | None = None
) -> Panel:
    """The 双无 badge for everyone who sees the site, or why it has none (a record
    younger than a year; the dates and kinds of the incidents that cost it); the
    incidents of the last years for police, coordinators and admins; the record form
    for the police."""
    can_view = can(user, "incident.view", site)
    can_record = can(user, "incident.create", site)
    shuangwu = shuangwu_status(site)
    return Panel(
        template="inspections/_panel_incidents.html",
        order=25,
        context={
            "badge": shuangwu.badge,
            "shuangwu": shuangwu,
            "counted": (
                queries.list_since(session, site, shuangwu.since) if shuangwu.incident_on else []
            ),
            "can_view": can_view,
            "incidents": queries.list_recent(session, site) if can_view else [],
            "history_years": queries.HISTORY_YEARS,
            "form": (form or IncidentForm(formdata=None)) if can_record else None,
            "kind_labels": INCIDENT_KIND_LABELS,
        },
    )
