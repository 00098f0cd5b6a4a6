"""The outreach part of the site page: the last visit of each kind held at the
site (one query), and "new event here" for those who publish."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from community.accounts.permissions import can
from community.outreach import queries
from community.outreach.forms import LABELS
from community.outreach.models import KINDS
from community.places.models import Site
from community.places.panels import Panel, register_site_panel


@register_site_panel
def outreach_panel(session: Session, user: Any, site: Site) -> Panel | None:
    can_create = can(user, "outreach.create")
    last = queries.last_visits(session, site_id=site.id)
    if not last and not can_create:
        return None
    return Panel(
        template="outreach/_panel.html",
        order=70,
        context={"last": last, "kinds": KINDS, "can_create": can_create, **LABELS},
    )
