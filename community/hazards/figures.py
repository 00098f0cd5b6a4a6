"""Hazard figures of the area dashboard (registered into core.figures): the open
hazards at the sites of `ctx.area_ids` by how long they have been open (one
query)."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from community.core.charts import bar_chart
from community.core.figures import Figure, FigureContext, Headline, register_figure
from community.core.timeutil import day_start
from community.hazards.models import Hazard
from community.places.models import Site

# Age buckets of open hazards: (upper bound in days or None, label).
HAZARD_BUCKETS = ((7, "0–7"), (30, "8–30"), (90, "31–90"), (None, "91+"))


def hazard_ages(ctx: FigureContext) -> list[int]:
    """Open hazards at the context's sites, per age bucket (one query)."""
    start_of_today = day_start(ctx.today)
    columns = []
    lower = None
    for days, _label in HAZARD_BUCKETS:
        # Age in whole days: created on day d is `today - d` days old.
        cond = []
        if days is not None:
            cond.append(Hazard.created_at >= start_of_today - timedelta(days=days))
        if lower is not None:
            cond.append(Hazard.created_at < start_of_today - timedelta(days=lower))
        condition = cond[0] if len(cond) == 1 else cond[0] & cond[1]
        columns.append(func.coalesce(func.sum(case((condition, 1), else_=0)), 0))
        lower = days
    row = ctx.session.execute(
        select(*columns)
        .join(Site, Site.id == Hazard.site_id)
        .where(Hazard.status == "open", Site.area_id.in_(ctx.area_ids))
    ).one()
    return [int(v or 0) for v in row]


def _hazards(ctx: FigureContext) -> Figure:
    counts = hazard_ages(ctx)
    labels = [_("%(days)s days", days=label) for _d, label in HAZARD_BUCKETS]
    older = sum(counts[2:])
    return Figure(
        title=_("Open hazards by age"),
        columns=[_("Open for"), _("Hazards")],
        rows=[[label, n] for label, n in zip(labels, counts, strict=True)],
        chart=bar_chart(
            [label for _d, label in HAZARD_BUCKETS],
            [counts],
            title=_("Open hazards by days open"),
            slot_labels=labels,
        ),
        headline=[
            Headline(_("Open hazards"), str(sum(counts))),
            Headline(_("Open over 30 days"), str(older), warn=older > 0),
        ],
    )


register_figure("hazards", _hazards, order=50)
