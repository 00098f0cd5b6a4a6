"""Time: timestamps are stored as naive UTC; every "today", every day and every month
boundary is the local date of one setting, COMMUNITY_TIMEZONE (the config's
BABEL_DEFAULT_TIMEZONE, default Asia/Shanghai), and timestamps are shown in it.

All code reads the clock through this module: utcnow(), now_local(), today().
Those call `_clock()` when they run, so a test freezes every caller by replacing
`_clock` (tests/conftest.py: frozen_clock) even where `utcnow` was imported by name.

Queries comparing a stored UTC timestamp with a local day or month use
day_bounds()/month_bounds() (the UTC instants of the local midnights) or
local_date() in Python, never `.date()` of the UTC timestamp.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import Date
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

DEFAULT_TIMEZONE = "Asia/Shanghai"


def _clock() -> datetime:
    """The clock source: the aware current time. Tests replace it."""
    return datetime.now(UTC)


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone_name() -> str:
    if has_app_context():
        return current_app.config.get("BABEL_DEFAULT_TIMEZONE") or DEFAULT_TIMEZONE
    return os.environ.get("COMMUNITY_TIMEZONE") or DEFAULT_TIMEZONE


def local_zone() -> ZoneInfo:
    """The community's time zone (COMMUNITY_TIMEZONE)."""
    return _zone(zone_name())


def utcnow() -> datetime:
    """Now as naive UTC (what the database stores)."""
    return _clock().astimezone(UTC).replace(tzinfo=None)


def to_local(utc: datetime) -> datetime:
    """A stored naive UTC timestamp as naive local wall-clock time."""
    return utc.replace(tzinfo=UTC).astimezone(local_zone()).replace(tzinfo=None)


def to_utc(local: datetime) -> datetime:
    """A naive local wall-clock time (what a form gives) as naive UTC."""
    return local.replace(tzinfo=local_zone()).astimezone(UTC).replace(tzinfo=None)


def now_local() -> datetime:
    """Now as naive local wall-clock time."""
    return to_local(utcnow())


def today() -> date:
    """The local date (not the UTC one: from 00:00 to 08:00 in China they differ)."""
    return now_local().date()


def local_date(utc: datetime) -> date:
    """The local day a stored UTC timestamp happened on."""
    return to_local(utc).date()


def day_start(day: date) -> datetime:
    """The UTC instant the local `day` begins (timestamps >= it are on or after it)."""
    return to_utc(datetime.combine(day, time.min))


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC interval [start, end) of one local day."""
    return day_start(day), day_start(day + timedelta(days=1))


def month_start(day: date) -> date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    """The first day of the month `n` months after `month`'s (before it when n < 0)."""
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    return (month_start(day) + timedelta(days=32)).replace(day=1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The UTC interval [start, end) of the local calendar month of `month`."""
    return day_start(month_start(month)), day_start(next_month(month))


class local_day(FunctionElement):  # noqa: N801 (an SQL function, named like one)
    """SQL: the local day (COMMUNITY_TIMEZONE) of a stored naive-UTC timestamp column,
    the SQL twin of local_date(). PostgreSQL converts through the zone itself; SQLite
    has no zones, so the zone's offset at compile time is added (exact for zones
    without daylight saving time, such as Asia/Shanghai)."""

    type = Date()
    inherit_cache = True


@compiles(local_day, "postgresql")
def _local_day_postgresql(element, compiler, **kw):
    column = compiler.process(list(element.clauses)[0], **kw)
    zone = zone_name().replace("'", "''")
    return f"CAST(({column} AT TIME ZONE 'UTC') AT TIME ZONE '{zone}' AS DATE)"


@compiles(local_day)
def _local_day_sqlite(element, compiler, **kw):
    column = compiler.process(list(element.clauses)[0], **kw)
    offset = _clock().astimezone(local_zone()).utcoffset() or timedelta(0)
    return f"date({column}, '{int(offset.total_seconds() // 60):+d} minutes')"
