"""Residents figures of the area dashboard (registered into core.figures): the
registration rate and its trend, and the timely and late reports, read from the
residence counters of core.rollups (one grouped query per page, shared by both)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from community.core.charts import Datum, bar_chart, line_chart
from community.core.figures import Figure, FigureContext, Headline, register_figure
from community.core.rollups import TOTAL, RollupMonth
from community.places.rollups import OCCUPANTS
from community.residents.queries import Rate
from community.residents.rollups import ACTIVE, LATE, TIMELY


def rollup_counters(ctx: FigureContext) -> dict[tuple[str, Any], int]:
    """{(metric, month): sum over the context's areas} (core.rollups)."""

    def load():
        rows = ctx.session.execute(
            select(RollupMonth.metric, RollupMonth.month, func.sum(RollupMonth.value))
            .where(RollupMonth.area_id.in_(ctx.area_ids))
            .group_by(RollupMonth.metric, RollupMonth.month)
        )
        return {(metric, month): int(v or 0) for metric, month, v in rows}

    return ctx.once("rollups", load)


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


register_figure("registration", _registration, order=10)
register_figure("reports", _reports, order=20)
