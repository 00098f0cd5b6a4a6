"""The mediation part of the site page: the disputes at this site the user may see
(高 first, the open ones), and a link to open a case there for those who may."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from community.accounts.permissions import can
from community.duty.panels import register_duty_panel
from community.mediation import queries
from community.mediation.forms import LABELS
from community.mediation.permissions import opens_at_site
from community.places.models import Site
from community.places.panels import Panel, register_site_panel


@register_site_panel
def mediation_panel(session: Session, user: Any, site: Site) -> Panel | None:
    """Nothing for those who neither see a case here nor may open one."""
    cases = queries.site_cases(session, user, site) if can(user, "nav.mediation") else []
    may_open = can(user, "mediation.create") and opens_at_site(user, site)
    if not cases and not may_open:
        return None
    return Panel(
        template="mediation/_site_panel.html",
        order=60,
        context={"cases": cases, "may_open": may_open, **LABELS},
    )


@register_duty_panel
def duty_sessions_panel(session: Session, user: Any, task: Any) -> Panel | None:
    """On a 纠纷调解 duty the user claimed: the mediation sessions they staffed in the
    duty's time window (cancelled ones left out), each linking to its case."""
    if task.kind != "mediation":
        return None
    rows = queries.sessions_in_duty(session, user, task)
    if not rows:
        return None
    return Panel(template="mediation/_duty_panel.html", order=60, context={"sessions": rows})
