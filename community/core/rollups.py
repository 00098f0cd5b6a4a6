"""Per-area, per-month counters (table rollup_month), kept up to date by the
services that change the base rows, so area figures read a few hundred counter
rows instead of a million residences.

A feature that keeps counters does two things, both in its own package:
- its services call `bump(session, area_id, month, metric, delta)` in the same
  transaction as the change (so a rolled-back change leaves no trace);
- it registers a source with `register_source(name, fn)`: fn(session, site_ids)
  recomputes its counters from the base tables (for every site when site_ids is
  None), as rows (area_id, month, metric, value). `rebuild()` (the
  `flask rebuild-rollups` command) replaces every counter by the sources' sums,
  and `move_site()` moves one site's counters when the site changes area.

A counter is either per month (a flow: reports made in that month, residents
moved in minus moved out) or a running total stored under the month TOTAL.
The metric names belong to the features that keep them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date

from sqlalchemy import Date, ForeignKey, String, cast, delete, func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from community.core.timeutil import add_months as add_months  # re-exported
from community.core.timeutil import month_start
from community.extensions import db

# The "month" of a counter that is a running total, not a monthly flow.
TOTAL = date(1970, 1, 1)


class RollupMonth(db.Model):
    __tablename__ = "rollup_month"

    area_id: Mapped[int] = mapped_column(
        ForeignKey("area.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # first day, or TOTAL
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


# The month arithmetic is core.timeutil's; these names stay for the rollup sources
# and figures that import them from here.
month_of = month_start


def month_sql(column, session: Session):
    """SQL expression: the first day of the month of a date/datetime column."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("month", column), Date)
    return func.date(column, "start of month", type_=Date)


def _insert(session: Session):
    table = RollupMonth.__table__
    return (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)


def bump(session: Session, area_id: int, month: date, metric: str, delta: int = 1) -> None:
    """Add `delta` to one counter: one race-safe upsert (INSERT ... ON CONFLICT DO
    UPDATE SET value = value + delta), so concurrent writers never lose a count."""
    if not delta:
        return
    stmt = _insert(session).values(area_id=area_id, month=month, metric=metric, value=delta)
    stmt = stmt.on_conflict_do_update(
        index_elements=["area_id", "month", "metric"],
        set_={"value": RollupMonth.__table__.c.value + stmt.excluded.value},
    )
    session.execute(stmt)


Row = tuple[int, date, str, int]
Source = Callable[[Session, "list[int] | None"], Iterable[Row]]
_SOURCES: dict[str, Source] = {}


def register_source(name: str, fn: Source) -> Source:
    _SOURCES[name] = fn
    return fn


def contributions(session: Session, site_ids: list[int] | None = None) -> dict:
    """{(area_id, month, metric): value} recomputed from the base tables by every
    source (for the given sites only, or all)."""
    result: dict[tuple[int, date, str], int] = defaultdict(int)
    for fn in _SOURCES.values():
        for area_id, month, metric, value in fn(session, site_ids):
            result[(int(area_id), month, metric)] += int(value or 0)
    return {k: v for k, v in result.items() if v}


def rebuild(session: Session) -> int:
    """Replace every counter by the sources' sums (safe to run twice, and to run
    while nothing writes); returns the number of counters written."""
    rows = contributions(session)
    session.execute(delete(RollupMonth))
    values = [{"area_id": a, "month": m, "metric": k, "value": v} for (a, m, k), v in rows.items()]
    for start in range(0, len(values), 5000):
        session.execute(RollupMonth.__table__.insert(), values[start : start + 5000])
    session.flush()
    return len(values)


def move_site(session: Session, site_id: int, old_area_id: int, new_area_id: int) -> None:
    """Move one site's counters from its old area to the new one (call it before or
    after the site's area changes: the sources' area is ignored here)."""
    if old_area_id == new_area_id:
        return
    for (_area, month, metric), value in contributions(session, [site_id]).items():
        bump(session, old_area_id, month, metric, -value)
        bump(session, new_area_id, month, metric, value)


def current(session: Session) -> dict:
    """{(area_id, month, metric): value} as stored, zeros left out (for tests and checks)."""
    rows = session.execute(
        db.select(RollupMonth.area_id, RollupMonth.month, RollupMonth.metric, RollupMonth.value)
    )
    return {(a, m, k): v for a, m, k, v in rows if v}


__all__ = [
    "TOTAL",
    "RollupMonth",
    "add_months",
    "bump",
    "contributions",
    "current",
    "month_of",
    "month_sql",
    "move_site",
    "rebuild",
    "register_source",
]
