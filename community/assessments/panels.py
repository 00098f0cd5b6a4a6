"""The star assessment part of the site page: last 12 months, the chart, the start form."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from community.accounts.permissions import can
from community.assessments import queries, services
from community.assessments.forms import StartAssessmentForm
from community.places.models import Site
from community.places.panels import Panel, register_site_panel


@register_site_panel
def assessments_panel(session: Session, user: Any, site: Site) -> Panel:
    history = queries.site_history(session, site)
    can_start = can(user, "assessment.submit", site)
    default = services.default_month(session, site) if can_start else None
    return Panel(
        template="assessments/_panel.html",
        order=40,
        context={
            "history": history,
            "chart": queries.star_chart(
                history, title=_("Stars of %(site)s by month", site=site.name)
            ),
            "can_start": can_start,
            "default_month": default,
            "start_form": StartAssessmentForm(formdata=None, month=default) if can_start else None,
        },
    )
