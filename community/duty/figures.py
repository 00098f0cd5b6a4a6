"""Duty figures of the area dashboard (registered into core.figures), one
aggregate query each over the duties of `ctx.area_ids` in the last WEEKS weeks
(local weeks from Monday, the current one last; a duty belongs to the week of its
start). Cancelled duties are left out. A figure is left out when its weeks hold
no duty.

- `duty-fill`: places (the duties' capacity) and claimed places, i.e. the claims
  holding a place (DutyTask.taken: claimed, on duty, reported, approved,
  rejected and no-show; a no-show or a returned report still took the place from
  someone else, waiting and cancelled claims take none); fill rate = claimed /
  places.
- `volunteer-hours`: approved claims (a coordinator accepted the report) and
  their hours, check-in to check-out, or the duty's planned length when a claim
  lacks either time.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from community.core.charts import bar_chart
from community.core.figures import Figure, FigureContext, Headline, register_figure
from community.core.timeutil import day_start
from community.duty.models import DutyClaim, DutyTask
from community.duty.queries import hours_between

WEEKS = 8


def week_starts(today: date) -> list[date]:
    """Mondays of the last WEEKS weeks, oldest first (the week of `today` last)."""
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=WEEKS - 1 - i) for i in range(WEEKS)]


def _bounds(weeks: list[date]) -> list[datetime]:
    """UTC starts of the weeks and the end of the last one (WEEKS + 1 instants)."""
    days = [*weeks, weeks[-1] + timedelta(weeks=1)]
    return [day_start(d) for d in days]


def _week_of(column, bounds: list[datetime]):
    """SQL: the index (0 .. WEEKS - 1) of the week `column` falls in."""
    return case(*((column < b, i) for i, b in enumerate(bounds[1:-1])), else_=len(bounds) - 2)


def _duties(ctx: FigureContext, bounds: list[datetime]):
    return (
        DutyTask.area_id.in_(ctx.area_ids),
        DutyTask.status != "cancelled",
        DutyTask.starts_at >= bounds[0],
        DutyTask.starts_at < bounds[-1],
    )


def fill_by_week(ctx: FigureContext) -> list[tuple[int, int]]:
    """[(places, claimed places)] per week, oldest first (one query)."""
    bounds = _bounds(week_starts(ctx.today))
    sub = (
        select(
            _week_of(DutyTask.starts_at, bounds).label("week"),
            DutyTask.capacity.label("capacity"),
            DutyTask.taken.label("taken"),
        )
        .where(*_duties(ctx, bounds))
        .subquery()
    )
    found = {
        int(week): (int(places or 0), int(taken or 0))
        for week, places, taken in ctx.session.execute(
            select(sub.c.week, func.sum(sub.c.capacity), func.sum(sub.c.taken)).group_by(sub.c.week)
        )
    }
    return [found.get(i, (0, 0)) for i in range(WEEKS)]


def hours_by_week(ctx: FigureContext) -> list[tuple[int, float]] | None:
    """[(approved claims, hours)] per week, oldest first, or None when the weeks hold
    no duty (one query: the duties, outer-joined to their approved claims)."""
    bounds = _bounds(week_starts(ctx.today))
    session = ctx.session
    hours = case(
        (
            DutyClaim.id.is_not(None),
            func.coalesce(
                hours_between(session, DutyClaim.checked_in_at, DutyClaim.checked_out_at),
                hours_between(session, DutyTask.starts_at, DutyTask.ends_at),
            ),
        )
    )
    sub = (
        select(
            _week_of(DutyTask.starts_at, bounds).label("week"),
            DutyClaim.id.label("claim_id"),
            hours.label("hours"),
        )
        .select_from(DutyTask)
        .outerjoin(DutyClaim, (DutyClaim.task_id == DutyTask.id) & (DutyClaim.status == "approved"))
        .where(*_duties(ctx, bounds))
        .subquery()
    )
    found = {
        int(week): (int(n or 0), float(total or 0))
        for week, n, total in session.execute(
            select(sub.c.week, func.count(sub.c.claim_id), func.sum(sub.c.hours)).group_by(
                sub.c.week
            )
        )
    }
    if not found:
        return None
    return [found.get(i, (0, 0.0)) for i in range(WEEKS)]


def _percent(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None


def _ticks(weeks: list[date]) -> tuple[list[str], list[str]]:
    return [w.strftime("%m-%d") for w in weeks], [
        _("Week of %(day)s", day=w.isoformat()) for w in weeks
    ]


def _duty_fill(ctx: FigureContext) -> Figure | None:
    weeks = week_starts(ctx.today)
    data = fill_by_week(ctx)
    places = sum(p for p, _t in data)
    if not places:
        return None
    claimed = sum(t for _p, t in data)
    ticks, slots = _ticks(weeks)
    rate = _percent(claimed, places)
    return Figure(
        title=_("Duty fill rate"),
        columns=[_("Week"), _("Places"), _("Claimed"), _("Fill rate (%)")],
        rows=[
            [w.isoformat(), p, t, "" if not p else _percent(t, p)]
            for w, (p, t) in zip(weeks, data, strict=True)
        ],
        chart=bar_chart(
            ticks,
            [[t for _p, t in data], [p - t for p, t in data]],
            title=_("Duty places per week, last 8 weeks"),
            series_labels=[_("Claimed"), _("Free")],
            slot_labels=slots,
        ),
        headline=[
            Headline(_("Duty fill rate"), f"{rate}%", warn=rate < 50),
            Headline(_("Duty places"), f"{claimed} / {places}"),
        ],
        note=_(
            "Places of the duties starting in each week (cancelled duties left out) and "
            "the claims holding one: claimed, on duty, reported, approved, returned or "
            "not shown up. Waiting and cancelled claims hold none."
        ),
    )


def _volunteer_hours(ctx: FigureContext) -> Figure | None:
    weeks = week_starts(ctx.today)
    data = hours_by_week(ctx)
    if data is None:
        return None
    ticks, slots = _ticks(weeks)
    total_hours = round(sum(h for _n, h in data), 1)
    return Figure(
        title=_("Volunteer hours"),
        columns=[_("Week"), _("Approved duties"), _("Hours")],
        rows=[[w.isoformat(), n, round(h, 1)] for w, (n, h) in zip(weeks, data, strict=True)],
        chart=bar_chart(
            ticks,
            [[round(h, 1) for _n, h in data]],
            title=_("Volunteer hours per week, last 8 weeks"),
            slot_labels=slots,
        ),
        headline=[
            Headline(_("Volunteer hours"), _fmt(total_hours)),
            Headline(_("Approved duties"), str(sum(n for n, _h in data))),
        ],
        note=_(
            "Duties whose report a coordinator approved, by the week the duty started; "
            "hours from check-in to check-out, or the duty's planned length when a time "
            "is missing."
        ),
    )


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


register_figure("duty-fill", _duty_fill, order=70)
register_figure("volunteer-hours", _volunteer_hours, order=80)
