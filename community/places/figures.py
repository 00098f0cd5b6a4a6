"""Site figures of the area dashboard (registered into core.figures): current stars,
safety admission and 双无, from one grouped query over the sites of
`ctx.area_ids` per page (`site_counts_by_area`, which the dashboard's drill-down
table sums per child area too)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from community.core.charts import bar_chart
from community.core.figures import Figure, FigureContext, Headline, register_figure
from community.places.models import Site
from community.places.queries import shuangwu_sql

SITE_KEYS = ("total", "admitted", "shuangwu", "1", "2", "3", "4", "5")


def site_counts_by_area(ctx: FigureContext) -> dict[int, dict[str, int]]:
    """{area id: {"total", "admitted", "shuangwu", "1".."5" (current stars)}} of the
    sites of each area of the subtree on its own: one grouped query."""

    def load():
        # Grouped by the few values that matter (not a CASE per figure and row):
        # about half the work on 50,000 sites.
        shuangwu = shuangwu_sql(ctx.today)
        admitted = Site.admitted_on.is_not(None)
        rows = ctx.session.execute(
            select(Site.area_id, Site.stars, admitted, shuangwu, func.count())
            .where(Site.area_id.in_(ctx.area_ids))
            .group_by(Site.area_id, Site.stars, admitted, shuangwu)
        )
        result: dict[int, dict[str, int]] = {}
        for area_id, stars, is_admitted, is_shuangwu, n in rows:
            counts = result.setdefault(area_id, dict.fromkeys(SITE_KEYS, 0))
            counts["total"] += n
            counts["admitted"] += n if is_admitted else 0
            counts["shuangwu"] += n if is_shuangwu else 0
            if stars:
                counts[str(stars)] += n
        return result

    return ctx.once("sites-by-area", load)


def site_counts(ctx: FigureContext) -> dict[str, int]:
    """The subtree's sites by admission, 双无 and stars ("unrated": no stars yet)."""
    counts = dict.fromkeys(SITE_KEYS, 0)
    for per_area in site_counts_by_area(ctx).values():
        for key, value in per_area.items():
            counts[key] += value
    counts["unrated"] = counts["total"] - sum(counts[str(n)] for n in range(1, 6))
    return counts


def _stars(ctx: FigureContext) -> Figure:
    counts = site_counts(ctx)
    keys = ["5", "4", "3", "2", "1", "unrated"]
    names = {k: _("%(n)s stars", n=k) for k in keys[:-1]} | {"unrated": _("Not rated")}
    ticks = ["★5", "★4", "★3", "★2", "★1", "–"]
    rated = counts["total"] - counts["unrated"]
    good = counts["5"] + counts["4"]
    return Figure(
        title=_("Star ratings"),
        columns=[_("Stars"), _("Sites")],
        rows=[[names[k], counts[k]] for k in keys],
        chart=bar_chart(
            ticks,
            [[counts[k] for k in keys]],
            title=_("Sites by current stars"),
            slot_labels=[names[k] for k in keys],
        ),
        headline=[Headline(_("Sites with 4 or 5 stars"), f"{good} / {rated}")],
    )


def _admission(ctx: FigureContext) -> Figure:
    c = site_counts(ctx)
    labels = [_("Sites"), _("Admitted"), _("Not admitted"), _("双无")]
    values = [c["total"], c["admitted"], c["total"] - c["admitted"], c["shuangwu"]]
    return Figure(
        title=_("Safety admission and 双无"),
        columns=[_("Sites"), _("Count")],
        rows=[[label, v] for label, v in zip(labels, values, strict=True)],
        chart=bar_chart(labels, [values], title=_("Sites admitted and 双无"), slot_labels=labels),
        headline=[
            Headline(_("Admitted sites"), f"{c['admitted']} / {c['total']}"),
            Headline(_("双无 sites"), str(c["shuangwu"])),
        ],
        note=_("双无: no crime or public-security case and no fire in the last 12 months."),
    )


register_figure("stars", _stars, order=30)
register_figure("admission", _admission, order=40)
