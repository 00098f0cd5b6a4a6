"""Mediation figures of the area dashboard (registered into core.figures), over the
cases of `ctx.area_ids` in the last months of `ctx.months` (local months; a case
counts in the month it was opened, concluded or visited):

- `mediation-cases`: per month, cases opened, cases concluded, agreements and the
  agreement rate (agreements / concluded), the amount settled by agreements, the
  median days from acceptance to conclusion, follow-up visits performed; the
  headline adds the high-risk cases open now. Three aggregate queries.
- `mediation-mediators`: the 调解能手 ranking of the period — per lead mediator
  (and team), cases concluded, agreements, agreement rate, amount settled and
  median days to conclude, the ten with most agreements first. One aggregate
  query.

Medians: PostgreSQL's percentile_cont(0.5) WITHIN GROUP; SQLite has no median
aggregate, so each group's values are numbered by a window (row_number, count)
and the middle one, or the mean of the middle two, is averaged — in the same
aggregate query either way.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Select, case, func, select

from community.accounts.models import Organization, User
from community.core.charts import bar_chart
from community.core.figures import Figure, FigureContext, Headline, register_figure
from community.core.timeutil import day_start, next_month
from community.duty.queries import hours_between
from community.mediation.models import CaseMediator, MediationCase

RANKED = 10


def _bounds(months) -> list[datetime]:
    """UTC starts of the months and the end of the last one."""
    return [day_start(m) for m in months] + [day_start(next_month(months[-1]))]


def _month_of(column, bounds: list[datetime]):
    """SQL: the index of the month `column` falls in (within the bounds)."""
    return case(*((column < b, i) for i, b in enumerate(bounds[1:-1])), else_=len(bounds) - 2)


def _in(column, bounds):
    return (column >= bounds[0], column < bounds[-1])


def with_median(session, stmt: Select):
    """(rows, median): `stmt` (columns labelled `k`, the group, and `v`, the value,
    plus any others) as a subquery to aggregate over grouped by `rows.c.k`, and the
    SQL aggregate of the median of `v` in each group (NULLs ignored)."""
    if session.get_bind().dialect.name == "postgresql":
        rows = stmt.subquery()
        return rows, func.percentile_cont(0.5).within_group(rows.c.v)
    inner = stmt.subquery()
    rows = select(
        inner,
        func.row_number().over(partition_by=inner.c.k, order_by=inner.c.v.nulls_last()).label("rn"),
        func.count(inner.c.v).over(partition_by=inner.c.k).label("n"),
    ).subquery()
    # Floor division: rows (n+1)//2 and (n+2)//2 are the one middle row of an odd
    # count and the two middle rows of an even one.
    middle = rows.c.rn.between((rows.c.n + 1) // 2, (rows.c.n + 2) // 2)
    return rows, func.avg(case((middle & rows.c.v.is_not(None), rows.c.v)))


def _days(value) -> float | None:
    return None if value is None else round(float(value), 1)


def monthly(ctx: FigureContext) -> list[dict]:
    """Per month (oldest first): opened, high (high-risk opened), concluded,
    agreements, settled, days (median acceptance -> conclusion), followups."""
    bounds = _bounds(ctx.months)
    session = ctx.session
    scope = MediationCase.area_id.in_(ctx.area_ids)
    rows = [
        {
            "opened": 0,
            "high": 0,
            "concluded": 0,
            "agreements": 0,
            "settled": 0,
            "days": None,
            "followups": 0,
        }
        for _m in ctx.months
    ]
    opened = select(
        _month_of(MediationCase.opened_at, bounds).label("m"),
        func.count(),
        func.sum(case((MediationCase.risk == "high", 1), else_=0)),
    ).where(scope, *_in(MediationCase.opened_at, bounds))
    for m, n, high in session.execute(opened.group_by("m")):
        rows[int(m)].update(opened=int(n), high=int(high or 0))
    cases, median = with_median(
        session,
        select(
            _month_of(MediationCase.concluded_at, bounds).label("k"),
            MediationCase.outcome,
            MediationCase.settled_amount,
            _days_to_conclude(session).label("v"),
        ).where(
            scope,
            MediationCase.concluded_at.is_not(None),
            *_in(MediationCase.concluded_at, bounds),
        ),
    )
    agreed = cases.c.outcome == "agreement"
    concluded = select(
        cases.c.k,
        func.count(),
        func.sum(case((agreed, 1), else_=0)),
        func.sum(case((agreed, func.coalesce(cases.c.settled_amount, 0)), else_=0)),
        median,
    ).group_by(cases.c.k)
    for m, n, agreements, settled, days in session.execute(concluded):
        rows[int(m)].update(
            concluded=int(n),
            agreements=int(agreements or 0),
            settled=int(settled or 0),
            days=_days(days),
        )
    visited = select(_month_of(MediationCase.followup_at, bounds).label("m"), func.count()).where(
        scope, MediationCase.followup_performed.is_(True), *_in(MediationCase.followup_at, bounds)
    )
    for m, n in session.execute(visited.group_by("m")):
        rows[int(m)]["followups"] = int(n)
    return rows


def _days_to_conclude(session):
    """SQL: days from a case's acceptance to its conclusion."""
    return hours_between(session, MediationCase.accepted_at, MediationCase.concluded_at) / 24


def _rate(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None


def _cases(ctx: FigureContext) -> Figure | None:
    data = monthly(ctx)
    if not any(r["opened"] or r["concluded"] for r in data):
        return None
    open_high = (
        ctx.session.scalar(
            select(func.count(MediationCase.id)).where(
                MediationCase.area_id.in_(ctx.area_ids),
                MediationCase.status.in_(("new", "accepted", "concluded")),
                MediationCase.risk == "high",
            )
        )
        or 0
    )
    concluded = sum(r["concluded"] for r in data)
    agreements = sum(r["agreements"] for r in data)
    rate = _rate(agreements, concluded)
    months = [m.strftime("%Y-%m") for m in ctx.months]
    return Figure(
        title=_("Mediation cases"),
        columns=[
            _("Month"),
            _("Cases opened"),
            _("High risk opened"),
            _("Concluded"),
            _("Agreements"),
            _("Agreement rate (%)"),
            _("Amount settled (yuan)"),
            _("Median days to conclude"),
            _("Follow-ups performed"),
        ],
        rows=[
            [
                month,
                r["opened"],
                r["high"],
                r["concluded"],
                r["agreements"],
                "" if not r["concluded"] else _rate(r["agreements"], r["concluded"]),
                r["settled"],
                "" if r["days"] is None else r["days"],
                r["followups"],
            ]
            for month, r in zip(months, data, strict=True)
        ],
        chart=bar_chart(
            [m[2:] for m in months],
            [[r["agreements"] for r in data], [r["concluded"] - r["agreements"] for r in data]],
            title=_("Mediation cases concluded per month"),
            series_labels=[_("Agreements"), _("Other outcomes")],
            slot_labels=months,
        ),
        headline=[
            Headline(_("Mediation agreement rate"), "—" if rate is None else f"{rate}%"),
            Headline(_("High-risk disputes open"), str(open_high), warn=open_high > 0),
        ],
        note=_(
            "Cases by the month they were opened, concluded (an agreement, a referral or a "
            "withdrawal) or visited after an agreement. The agreement rate is agreements "
            "among the cases concluded; the median days run from acceptance to conclusion."
        ),
    )


def ranking(ctx: FigureContext) -> list:
    """(name, team, concluded, agreements, settled, median days to conclude) of the
    lead mediators of the cases concluded in the period, most agreements first
    (one query)."""
    bounds = _bounds(ctx.months)
    session = ctx.session
    rows, median = with_median(
        session,
        select(
            User.id.label("k"),
            User.display_name,
            Organization.name,
            MediationCase.outcome,
            MediationCase.settled_amount,
            _days_to_conclude(session).label("v"),
        )
        .select_from(MediationCase)
        .join(CaseMediator, (CaseMediator.case_id == MediationCase.id) & CaseMediator.is_lead)
        .join(User, User.id == CaseMediator.user_id)
        .join(Organization, Organization.id == MediationCase.team_id)
        .where(
            MediationCase.area_id.in_(ctx.area_ids),
            MediationCase.concluded_at.is_not(None),
            *_in(MediationCase.concluded_at, bounds),
        ),
    )
    agreed = rows.c.outcome == "agreement"
    agreements = func.sum(case((agreed, 1), else_=0))
    stmt = (
        select(
            rows.c.display_name,
            rows.c.name,
            func.count(),
            agreements,
            func.sum(case((agreed, func.coalesce(rows.c.settled_amount, 0)), else_=0)),
            median,
        )
        .group_by(rows.c.k, rows.c.display_name, rows.c.name)
        .order_by(agreements.desc(), rows.c.display_name)
        .limit(RANKED)
    )
    return [(*r[:-1], _days(r[-1])) for r in session.execute(stmt)]


def _mediators(ctx: FigureContext) -> Figure | None:
    rows = ranking(ctx)
    if not rows:
        return None
    return Figure(
        title=_("Best mediators (调解能手)"),
        columns=[
            _("Mediator"),
            _("Team"),
            _("Concluded"),
            _("Agreements"),
            _("Agreement rate (%)"),
            _("Amount settled (yuan)"),
            _("Median days to conclude"),
        ],
        rows=[
            [
                name,
                team,
                int(n),
                int(a or 0),
                _rate(int(a or 0), int(n)),
                int(s or 0),
                "" if d is None else d,
            ]
            for name, team, n, a, s, d in rows
        ],
        chart=bar_chart(
            [str(i + 1) for i in range(len(rows))],
            [[int(a or 0) for _n, _t, _c, a, _s, _d in rows]],
            title=_("Agreements per mediator, last 12 months"),
            slot_labels=[name for name, *_rest in rows],
        ),
        note=_(
            "The lead mediators of the cases concluded in the last 12 months, those with "
            "the most agreements first."
        ),
    )


register_figure("mediation-cases", _cases, order=85)
register_figure("mediation-mediators", _mediators, order=86)
