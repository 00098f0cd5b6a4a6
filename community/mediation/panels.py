"""The mediation part of the site page: the disputes at this site the user may see
(高 first, the open ones), and a link to open a case there for those who may."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from community.accounts.permissions import can
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
