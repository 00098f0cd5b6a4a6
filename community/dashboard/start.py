"""The start page's dashboard summary for police and coordinators: the headline
figures of the area they cover, with a link to the full dashboard."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from community.core.figures import build_figure
from community.core.start import StartSection, register_start_section
from community.dashboard import queries
from community.dashboard.permissions import shows_start_summary

# The figures whose headlines the start page repeats (each a query or two).
START_FIGURES = ("registration", "reports", "hazards")


@register_start_section
def dashboard_summary(session: Session, user: Any) -> StartSection | None:
    if not shows_start_summary(user):
        return None
    area = queries.default_area(user)
    ctx = queries.context(session, user, area)
    headlines = []
    for slug in START_FIGURES:
        figure = build_figure(ctx, slug)
        if figure is not None:
            headlines.extend(figure.headline)
    return StartSection(
        "dashboard/_start.html", order=20, context={"area": area, "headlines": headlines}
    )
