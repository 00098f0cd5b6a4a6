"""Site figures of the area dashboard (registered into core.figures): current stars,
safety admission and 双无, from the sites' area counters (places.stored) of
`ctx.area_ids`: one query over a few rows per area whatever the number of sites
(`site_counts_by_area`, which the dashboard's drill-down table sums per child area
too)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from community.core.charts import bar_chart
from community.core.figures import Figure, FigureContext, Headline, register_figure
from community.core.rollups import RollupMonth
from community.places.stored import ADMITTED, METRICS, SHUANGWU, SITES, STAR_METRICS

SITE_KEYS = ("total", "admitted", "shuangwu", "1", "2", "3", "4", "5")
_KEY_OF = {SITES: "total", ADMITTED: "admitted", SHUANGWU: "shuangwu"} | {
    metric: str(n) for n, metric in STAR_METRICS.items()
}


def site_counts_by_area(ctx: FigureContext) -> dict[int, dict[str, int]]:
    """{area id: {"total", "admitted", "shuangwu", "1".."5" (current stars)}} of the
    sites of each area of the subtree on its own: one query over the counters. A
    site counts as 双无 from its stored first day of the badge: its counter rows are
    dated, and those dated up to ctx.today are summed (places.stored)."""

    def load():
        rows = ctx.session.execute(
            select(RollupMonth.area_id, RollupMonth.metric, func.sum(RollupMonth.value))
            .where(
                RollupMonth.area_id.in_(ctx.area_ids),
                RollupMonth.metric.in_(METRICS),
                or_(RollupMonth.metric != SHUANGWU, RollupMonth.month <= ctx.today),
            )
            .group_by(RollupMonth.area_id, RollupMonth.metric)
        )
        result: dict[int, dict[str, int]] = {}
        for area_id, metric, n in rows:
            counts = result.setdefault(area_id, dict.fromkeys(SITE_KEYS, 0))
            counts[_KEY_OF[metric]] += int(n or 0)
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
