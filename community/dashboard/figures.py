"""The dashboard's own figure providers (registered into core.figures), built on
the features below it. Each reads SQL aggregates: residence counters from
core.rollups, sites and hazards by one grouped query each.

Duty registers its figures from its own package (see core.figures); the pending
reviews figure counts the review queue (community.reviews) per kind."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from community.core.charts import Datum, bar_chart, line_chart
from community.core.figures import Figure, FigureContext, Headline, register_figure
from community.core.reviews import kinds_for
from community.core.rollups import TOTAL
from community.core.timeutil import day_start
from community.dashboard.queries import rollup_counters, site_counts
from community.hazards.models import Hazard
from community.places.models import Site
from community.places.rollups import OCCUPANTS
from community.residents.queries import Rate
from community.residents.rollups import ACTIVE, LATE, TIMELY
from community.reviews.queries import counts as review_counts


def _percent(value: int | None) -> str:
    return "–" if value is None else f"{value}%"


def _month(m) -> str:
    return m.strftime("%Y-%m")


def registration_rates(ctx: FigureContext) -> tuple[Rate, list[tuple[Any, Rate]]]:
    """The rate now and at the end of each of the context's months. Active residents
    at a month's end are the ACTIVE flows up to that month (residents.rollups); the
    known occupants are today's head counts (rooms keep no history of them), as
    the star assessment's rate for a past month also uses them."""
    sums = rollup_counters(ctx)
    occupants = sums.get((OCCUPANTS, TOTAL), 0)
    flows = sorted((m, v) for (metric, m), v in sums.items() if metric == ACTIVE)
    trend = []
    for month in ctx.months:
        active = sum(v for m, v in flows if m <= month)
        trend.append((month, Rate(active, occupants)))
    return Rate(sum(v for _m, v in flows), occupants), trend


def _registration(ctx: FigureContext) -> Figure:
    now, trend = registration_rates(ctx)
    data = [
        Datum(m.strftime("%m"), rate.percent, f"{_month(m)}: {_percent(rate.percent)}")
        for m, rate in trend
    ]
    return Figure(
        title=_("Registration rate"),
        columns=[_("Month"), _("Registered residents"), _("Known occupants"), _("Rate (%)")],
        rows=[
            [_month(m), rate.active, rate.occupants, "" if rate.percent is None else rate.percent]
            for m, rate in trend
        ],
        chart=line_chart(
            data,
            title=_("Registration rate, last 12 months (%)"),
            y_min=0,
            y_max=100,
            y_ticks=(0, 50, 100),
        ),
        headline=[
            Headline(_("Registration rate"), _percent(now.percent)),
            Headline(_("Registered residents"), str(now.active)),
            Headline(_("Known occupants"), str(now.occupants)),
        ],
        note=_(
            "Registered residents (verified, living there at the month's end) divided by "
            "the larger of the rooms' head counts and the registered residents. Past "
            "months use today's head counts."
        ),
    )


def _reports(ctx: FigureContext) -> Figure:
    sums = rollup_counters(ctx)
    timely = [sums.get((TIMELY, m), 0) for m in ctx.months]
    late = [sums.get((LATE, m), 0) for m in ctx.months]
    rows = []
    for m, t, lt in zip(ctx.months, timely, late, strict=True):
        share = round(100 * lt / (t + lt)) if t + lt else ""
        rows.append([_month(m), t, lt, share])
    return Figure(
        title=_("Timely and late reports"),
        columns=[_("Month"), _("Timely"), _("Late"), _("Late (%)")],
        rows=rows,
        chart=bar_chart(
            [m.strftime("%m") for m in ctx.months],
            [timely, late],
            title=_("Reports by landlords and companies per month"),
            series_labels=[_("Timely"), _("Late")],
            slot_labels=[_month(m) for m in ctx.months],
        ),
        headline=[Headline(_("Late reports this month"), str(late[-1]), warn=late[-1] > 0)],
        note=_("Reports by landlords and property companies (the compliance ledger)."),
    )


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


def pending_reviews(ctx: FigureContext) -> list[tuple[str, int]] | None:
    """[(kind label, count)] of what waits in the user's review queue within the
    chosen area (ctx.area; none chosen: the whole queue), every kind of the user's
    queue in the queue's order, by the queue's own counting (one query). None when
    the user's queue holds no kind: the figure is left out."""
    kinds = kinds_for(ctx.user)
    if not kinds:
        return None
    found = review_counts(ctx.session, ctx.user, area=ctx.area)
    return [(str(k.label), found.get(k.name, 0)) for k in kinds]


def _reviews(ctx: FigureContext) -> Figure | None:
    pending = pending_reviews(ctx)
    if pending is None:
        return None
    labels = [label for label, _n in pending]
    counts = [n for _label, n in pending]
    return Figure(
        title=_("Pending reviews"),
        columns=[_("Kind"), _("Waiting")],
        rows=[[label, n] for label, n in pending],
        chart=bar_chart(labels, [counts], title=_("Pending reviews"), slot_labels=labels),
        headline=[Headline(_("Pending reviews"), str(sum(counts)), warn=sum(counts) > 0)],
    )


register_figure("registration", _registration, order=10)
register_figure("reports", _reports, order=20)
register_figure("stars", _stars, order=30)
register_figure("admission", _admission, order=40)
register_figure("hazards", _hazards, order=50)
register_figure("reviews", _reviews, order=60)
