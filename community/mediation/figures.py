"""Mediation figures of the area dashboard (registered into core.figures), over the
cases of `ctx.area_ids` in the last months of `ctx.months` (local months; a case
counts in the month it was opened, concluded or visited):

- `mediation-cases`: per month, cases opened, cases concluded, agreements and the
  agreement rate (agreements / concluded), the amount settled by agreements, the
  median days from acceptance to conclusion, follow-up visits performed; the
  headline adds the high-risk cases open now. The teams' counts summed (below)
  and one query for the medians of the whole scope.
- `mediation-teams`: the same per team and month (months with nothing for a team
  left out of the table), and the high-risk cases open at each month's end. Four
  aggregate queries and the teams' names, whatever the number of teams.
- `mediation-mediators`: the 调解能手 ranking of the period per team — per lead
  mediator, cases concluded, agreements, agreement rate, amount settled and
  median days to conclude, the ten with most agreements of each team. One
  aggregate query.

Per area: the dashboard's drill-down (?area=) narrows `ctx.area_ids`, so each
figure and its CSV is the chosen area's.

Medians: PostgreSQL's percentile_cont(0.5) WITHIN GROUP; SQLite has no median
aggregate, so each group's values are numbered by a window (row_number, count)
and the middle one, or the mean of the middle two, is averaged — in the same
aggregate query either way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, case, func, literal_column, select

from community.accounts.models import Organization, User
from community.core.charts import bar_chart
from community.core.figures import Figure, FigureContext, Headline, register_figure
from community.core.timeutil import day_start, next_month
from community.duty.queries import hours_between
from community.mediation.models import RISK_RANK, CaseMediator, MediationCase

RANKED = 10


def _bounds(months) -> list[datetime]:
    """UTC starts of the months and the end of the last one."""
    return [day_start(m) for m in months] + [day_start(next_month(months[-1]))]


def _month_of(column, bounds: list[datetime]):
    """SQL: the index of the month `column` falls in (within the bounds)."""
    return case(*((column < b, i) for i, b in enumerate(bounds[1:-1])), else_=len(bounds) - 2)


def _in(column, bounds):
    return (column >= bounds[0], column < bounds[-1])


def with_median(session, stmt: Select, keys: tuple[str, ...] = ("k",)):
    """(rows, median): `stmt` (columns labelled by `keys`, the group, and `v`, the
    value, plus any others) as a subquery to aggregate over grouped by those key
    columns, and the SQL aggregate of the median of `v` in each group (NULLs
    ignored)."""
    if session.get_bind().dialect.name == "postgresql":
        rows = stmt.subquery()
        return rows, func.percentile_cont(0.5).within_group(rows.c.v)
    inner = stmt.subquery()
    rows = select(
        inner,
        func.row_number()
        .over(partition_by=[inner.c[k] for k in keys], order_by=inner.c.v.nulls_last())
        .label("rn"),
        func.count(inner.c.v).over(partition_by=[inner.c[k] for k in keys]).label("n"),
    ).subquery()
    # Floor division: rows (n+1)//2 and (n+2)//2 are the one middle row of an odd
    # count and the two middle rows of an even one.
    middle = rows.c.rn.between((rows.c.n + 1) // 2, (rows.c.n + 2) // 2)
    return rows, func.avg(case((middle & rows.c.v.is_not(None), rows.c.v)))


def _days(value) -> float | None:
    return None if value is None else round(float(value), 1)


def _empty_month() -> dict:
    return {
        "opened": 0,
        "high": 0,
        "concluded": 0,
        "agreements": 0,
        "settled": 0,
        "days": None,
        "followups": 0,
        "high_open": 0,
    }


def monthly_by(ctx: FigureContext, key, *, medians_only: bool = False) -> dict[Any, list[dict]]:
    """{group: per month (oldest first)} of the cases of the context grouped by the
    SQL expression `key` (a literal for the whole scope, the team for the teams):
    opened, high (high-risk opened), concluded, agreements, settled, days (median
    acceptance -> conclusion), followups. Three aggregate queries, whatever the
    number of groups (one, the concluded cases, with `medians_only`). A group
    appears once it has any of these in the period."""
    bounds = _bounds(ctx.months)
    session = ctx.session
    scope = MediationCase.area_id.in_(ctx.area_ids)
    found: dict[Any, list[dict]] = {}

    def row(k, m) -> dict:
        if k not in found:
            found[k] = [_empty_month() for _m in ctx.months]
        return found[k][int(m)]

    opened = select(
        key.label("g"),
        _month_of(MediationCase.opened_at, bounds).label("m"),
        func.count(),
        func.sum(case((MediationCase.risk == "high", 1), else_=0)),
    ).where(scope, *_in(MediationCase.opened_at, bounds))
    if not medians_only:
        for k, m, n, high in session.execute(opened.group_by("g", "m")):
            row(k, m).update(opened=int(n), high=int(high or 0))
    cases, median = with_median(
        session,
        select(
            key.label("g"),
            _month_of(MediationCase.concluded_at, bounds).label("k"),
            MediationCase.outcome,
            MediationCase.settled_amount,
            _days_to_conclude(session).label("v"),
        ).where(
            scope,
            MediationCase.concluded_at.is_not(None),
            *_in(MediationCase.concluded_at, bounds),
        ),
        keys=("g", "k"),
    )
    agreed = cases.c.outcome == "agreement"
    concluded = select(
        cases.c.g,
        cases.c.k,
        func.count(),
        func.sum(case((agreed, 1), else_=0)),
        func.sum(case((agreed, func.coalesce(cases.c.settled_amount, 0)), else_=0)),
        median,
    ).group_by(cases.c.g, cases.c.k)
    for k, m, n, agreements, settled, days in session.execute(concluded):
        row(k, m).update(
            concluded=int(n),
            agreements=int(agreements or 0),
            settled=int(settled or 0),
            days=_days(days),
        )
    visited = select(
        key.label("g"), _month_of(MediationCase.followup_at, bounds).label("m"), func.count()
    ).where(
        scope, MediationCase.followup_performed.is_(True), *_in(MediationCase.followup_at, bounds)
    )
    if not medians_only:
        for k, m, n in session.execute(visited.group_by("g", "m")):
            row(k, m)["followups"] = int(n)
    return found


def by_team(ctx: FigureContext) -> dict[int, list[dict]]:
    """monthly_by team, once per page (the area figure sums it, the team figure
    shows it)."""
    return ctx.once("mediation-by-team", lambda: monthly_by(ctx, MediationCase.team_id))


SUMMED = ("opened", "high", "concluded", "agreements", "settled", "followups")


def monthly(ctx: FigureContext) -> list[dict]:
    """Per month (oldest first) over the whole scope: the teams' counts summed (a
    case belongs to one team), and the medians of the whole scope (one more query,
    only when a case was concluded)."""
    rows = [_empty_month() for _m in ctx.months]
    for per_month in by_team(ctx).values():
        for total, r in zip(rows, per_month, strict=True):
            for k in SUMMED:
                total[k] += r[k]
    if any(r["concluded"] for r in rows):
        medians = monthly_by(ctx, literal_column("0"), medians_only=True).get(0, [])
        for total, r in zip(rows, medians, strict=True):
            total["days"] = r["days"]
    return rows


def high_open_at_month_end(ctx: FigureContext, key) -> dict[Any, list[int]]:
    """{group: per month} the high-risk cases open (opened, not yet closed) at the
    end of each month of the context, grouped by `key` (one aggregate query over
    the high-risk cases not closed before the first month ended)."""
    ends = _bounds(ctx.months)[1:]
    c = MediationCase
    still_open = [
        func.sum(
            case(((c.opened_at < end) & (c.closed_at.is_(None) | (c.closed_at >= end)), 1), else_=0)
        )
        for end in ends
    ]
    stmt = (
        select(key.label("g"), *still_open)
        .where(
            c.area_id.in_(ctx.area_ids),
            c.risk_rank == RISK_RANK["high"],
            c.opened_at < ends[-1],
            c.closed_at.is_(None) | (c.closed_at >= ends[0]),
        )
        .group_by("g")
    )
    return {k: [int(v or 0) for v in counts] for k, *counts in ctx.session.execute(stmt)}


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
    """(team, rank, name, concluded, agreements, settled, median days to conclude)
    of the lead mediators of the cases concluded in the period, ranked within each
    team (most agreements, then most concluded, then by name), the first RANKED of
    each team, teams by name (one query)."""
    bounds = _bounds(ctx.months)
    session = ctx.session
    rows, median = with_median(
        session,
        select(
            MediationCase.team_id,
            User.id.label("user_id"),
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
        # The median's group: one mediator in one team.
        keys=("team_id", "user_id"),
    )
    agreed = rows.c.outcome == "agreement"
    per_mediator = (
        select(
            rows.c.team_id,
            rows.c.name.label("team"),
            rows.c.display_name.label("mediator"),
            func.count().label("concluded"),
            func.sum(case((agreed, 1), else_=0)).label("agreements"),
            func.sum(case((agreed, func.coalesce(rows.c.settled_amount, 0)), else_=0)).label(
                "settled"
            ),
            median.label("days"),
        )
        .group_by(rows.c.team_id, rows.c.name, rows.c.user_id, rows.c.display_name)
        .subquery()
    )
    rank = (
        func.row_number()
        .over(
            partition_by=per_mediator.c.team_id,
            order_by=(
                per_mediator.c.agreements.desc(),
                per_mediator.c.concluded.desc(),
                per_mediator.c.mediator,
            ),
        )
        .label("rank")
    )
    ranked = select(per_mediator, rank).subquery()
    stmt = (
        select(
            ranked.c.team,
            ranked.c.rank,
            ranked.c.mediator,
            ranked.c.concluded,
            ranked.c.agreements,
            ranked.c.settled,
            ranked.c.days,
        )
        .where(ranked.c.rank <= RANKED)
        .order_by(ranked.c.team, ranked.c.team_id, ranked.c.rank)
    )
    return [(*r[:-1], _days(r[-1])) for r in session.execute(stmt)]


def _mediators(ctx: FigureContext) -> Figure | None:
    rows = ranking(ctx)
    if not rows:
        return None
    return Figure(
        title=_("Best mediators (调解能手)"),
        columns=[
            _("Team"),
            _("Rank"),
            _("Mediator"),
            _("Concluded"),
            _("Agreements"),
            _("Agreement rate (%)"),
            _("Amount settled (yuan)"),
            _("Median days to conclude"),
        ],
        rows=[
            [
                team,
                int(rank),
                name,
                int(n),
                int(a or 0),
                _rate(int(a or 0), int(n)),
                int(s or 0),
                "" if d is None else d,
            ]
            for team, rank, name, n, a, s, d in rows
        ],
        chart=bar_chart(
            [str(i + 1) for i in range(len(rows))],
            [[int(a or 0) for *_head, a, _s, _d in rows]],
            title=_("Agreements per mediator, last 12 months"),
            slot_labels=[f"{team} {rank}. {name}" for team, rank, name, *_rest in rows],
        ),
        note=_(
            "The lead mediators of the cases concluded in the last 12 months, ranked "
            "within each team: the most agreements first, then the most cases concluded."
        ),
    )


def team_months(ctx: FigureContext) -> list[tuple[Any, list[dict]]]:
    """[(team, per month)] of the teams with cases in the context's areas during
    the period, by name: monthly_by per team plus the high-risk cases open at each
    month's end (four aggregate queries and one for the teams' names)."""
    found = by_team(ctx)
    for team_id, counts in high_open_at_month_end(ctx, MediationCase.team_id).items():
        months = found.setdefault(team_id, [_empty_month() for _m in ctx.months])
        for month, n in zip(months, counts, strict=True):
            month["high_open"] = n
    if not found:
        return []
    teams = ctx.session.scalars(
        select(Organization).where(Organization.id.in_(sorted(found))).order_by(Organization.name)
    )
    return [(team, found[team.id]) for team in teams]


def _teams(ctx: FigureContext) -> Figure | None:
    data = team_months(ctx)
    if not data:
        return None
    months = [m.strftime("%Y-%m") for m in ctx.months]
    rows = [
        [
            team.name,
            month,
            r["opened"],
            r["concluded"],
            r["agreements"],
            "" if not r["concluded"] else _rate(r["agreements"], r["concluded"]),
            r["settled"],
            "" if r["days"] is None else r["days"],
            r["followups"],
            r["high_open"],
        ]
        for team, per_month in data
        for month, r in zip(months, per_month, strict=True)
        # A month without anything for this team is left out of the table (not of
        # the chart): a district of ten teams would otherwise list 120 rows.
        if any(r[k] for k in ("opened", "concluded", "followups", "high_open"))
    ]
    return Figure(
        title=_("Mediation cases per team"),
        columns=[
            _("Team"),
            _("Month"),
            _("Cases opened"),
            _("Concluded"),
            _("Agreements"),
            _("Agreement rate (%)"),
            _("Amount settled (yuan)"),
            _("Median days to conclude"),
            _("Follow-ups performed"),
            _("High-risk open at month end"),
        ],
        rows=rows,
        chart=bar_chart(
            [m[2:] for m in months],
            [[r["concluded"] for r in per_month] for _team, per_month in data],
            title=_("Cases concluded per month and team"),
            series_labels=[team.name for team, _per_month in data],
            slot_labels=months,
        ),
        note=_(
            "Each team's cases by the month they were opened, concluded or visited after "
            "an agreement; months with nothing for a team are left out of the table. "
            "High-risk open: the high-risk cases opened and not yet closed when the "
            "month ended."
        ),
    )


register_figure("mediation-cases", _cases, order=85)
register_figure("mediation-teams", _teams, order=86)
register_figure("mediation-mediators", _mediators, order=87)
