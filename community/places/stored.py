"""What the rules derive from a site's row, stored on the row, and the sites' area
counters: kept in step with every change of a site in the same transaction.

Derived columns. `Site.shuangwu_on` (the first day of the 双无 badge: the rule is
places.queries.shuangwu_from) and whatever the features above register with
`register_derived(fn)` (inspections: the next inspection's `due_on` and its
`cadence_days`): fn(site) -> {column: value}, computed by the feature's own rule
function, which stays the one definition. A flush that inserts or changes a site
recomputes them (a `before_flush` listener), whichever service made the change —
an inspection completed, stars approved, an incident recorded, an admission lost
or a site moved. Rows loaded in bulk without the ORM get them from
`refresh_stored(session)`, then `rebuild-rollups`.

Room counts. `Site.room_count` (the rooms of its buildings; outreach coverage lists
the sites never visited largest first) moves by +1/-1 in the flush that inserts,
deletes or moves a room (an `after_flush` listener, so a concurrent flush adding a
room to the same site adds to it instead of overwriting it). Rows loaded in bulk
get theirs from `refresh_room_counts(session)`.

Counters (core.rollups, running totals under TOTAL): the sites of each area, the
admitted ones and those with N stars. 双无 depends on the day: a site counts from
its `shuangwu_on`, so its counter is kept under that date (under TOTAL once the
date has come) and the dashboard sums the rows dated up to today; the daily
`rebuild-rollups` job folds the dates that have come into TOTAL. The listener bumps
the counters of the site's current area; a move to another area is
`rollups.move_site`'s (update_site calls it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, bindparam, case, event, func, inspect, literal, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from community.core.rollups import TOTAL, bump, register_source
from community.core.timeutil import today as local_today
from community.core.timeutil import utcnow
from community.places.models import Building, Room, Site
from community.places.queries import SITES_METRIC, shuangwu_from

SITES = SITES_METRIC
ADMITTED = "sites.admitted"
SHUANGWU = "sites.shuangwu"
STAR_METRICS = {n: f"sites.stars.{n}" for n in range(1, 6)}
METRICS = (SITES, ADMITTED, SHUANGWU, *STAR_METRICS.values())

Derive = Callable[[Any], dict[str, Any]]
_DERIVED: dict[str, Derive] = {}


def register_derived(name: str, fn: Derive) -> Derive:
    """fn(site) -> {column of Site: value}, recomputed at every flush of a changed site."""
    _DERIVED[name] = fn
    return fn


def derived_values(site: Any) -> dict[str, Any]:
    """Every derived column of `site` (a Site, or a row with the same attributes)."""
    values: dict[str, Any] = {"shuangwu_on": shuangwu_from(site)}
    for fn in _DERIVED.values():
        values.update(fn(site))
    return values


def shuangwu_bucket(day: date, today: date) -> date:
    """The counter row of a site whose badge starts on `day`."""
    return TOTAL if day <= today else day


def _keys(area_id: int, stars: Any, admitted_on: Any, shuangwu_on: Any, today: date) -> Counter:
    keys = Counter({(area_id, TOTAL, SITES): 1})
    if admitted_on is not None:
        keys[(area_id, TOTAL, ADMITTED)] += 1
    if stars in STAR_METRICS:
        keys[(area_id, TOTAL, STAR_METRICS[stars])] += 1
    if shuangwu_on is not None:
        keys[(area_id, shuangwu_bucket(shuangwu_on, today), SHUANGWU)] += 1
    return keys


def _before(site: Site, attr: str) -> Any:
    """The attribute's value before the changes this flush writes."""
    history = inspect(site).attrs[attr].history
    if history.added or history.deleted:
        return history.deleted[0] if history.deleted else None
    return getattr(site, attr)


def _counted(site: Site, today: date, before: bool) -> Counter:
    value = _before if before else getattr
    return _keys(
        site.area_id,
        value(site, "stars"),
        value(site, "admitted_on"),
        value(site, "shuangwu_on"),
        today,
    )


@event.listens_for(Session, "before_flush")
def _keep_sites_in_step(session: Session, flush_context: Any, instances: Any) -> None:
    sites_new = [o for o in session.new if isinstance(o, Site)]
    sites_dirty = [o for o in session.dirty if isinstance(o, Site) and session.is_modified(o)]
    sites_gone = [o for o in session.deleted if isinstance(o, Site)]
    if not (sites_new or sites_dirty or sites_gone):
        return
    today = local_today()
    delta: Counter = Counter()
    for site in sites_gone:
        delta.subtract(_counted(site, today, before=True))
    for site in sites_dirty:
        delta.subtract(_counted(site, today, before=True))
    for site in sites_new + sites_dirty:
        if site.created_at is None:  # the column default, needed by the rules now
            site.created_at = utcnow()
        for column, value in derived_values(site).items():
            if getattr(site, column) != value:
                setattr(site, column, value)
        delta.update(_counted(site, today, before=False))
    for (area_id, month, metric), value in sorted(delta.items()):
        if value:
            bump(session, area_id, month, metric, value)


def _building_of(room: Room, before: bool) -> int | None:
    history = inspect(room).attrs["building_id"].history
    if before:
        if history.deleted:
            return history.deleted[0]
        return None if history.added else room.building_id
    return room.building_id


@event.listens_for(Session, "after_flush")
def _keep_room_counts_in_step(session: Session, flush_context: Any) -> None:
    """+1/-1 on the site of every room inserted, deleted or moved by this flush
    (session.new/deleted and the attribute histories still show the flush's
    changes here, and the ids are assigned)."""
    delta: Counter = Counter()
    for obj in session.new:
        if isinstance(obj, Room):
            delta[obj.building_id] += 1
    for obj in session.deleted:
        if isinstance(obj, Room):
            delta[_building_of(obj, before=True)] -= 1
    for obj in session.dirty:
        if isinstance(obj, Room) and inspect(obj).attrs["building_id"].history.has_changes():
            delta[_building_of(obj, before=True)] -= 1
            delta[_building_of(obj, before=False)] += 1
    if not any(delta.values()):
        return
    table = Site.__table__
    connection = session.connection()
    for building_id, value in sorted((b, v) for b, v in delta.items() if v and b is not None):
        site = select(Building.site_id).where(Building.id == building_id).scalar_subquery()
        row = connection.execute(
            table.update()
            .where(table.c.id == site)
            .values(room_count=table.c.room_count + value)
            .returning(table.c.id, table.c.room_count)
        ).first()
        loaded = row and session.identity_map.get(identity_key(Site, row.id))
        if loaded is not None and row is not None:
            set_committed_value(loaded, "room_count", row.room_count)


def refresh_room_counts(session: Session, site_ids: list[int] | None = None) -> int:
    """Recount the rooms of every site (or the given ones) after a bulk load that
    bypassed the ORM, writing the rows that differ; returns their number. Two
    reads (the rooms per site, in one aggregate; the stored counts) and the writes
    in batches, like refresh_stored."""
    rooms = select(Building.site_id, func.count(Room.id)).join(
        Room, Room.building_id == Building.id
    )
    stored = select(Site.id, Site.room_count).order_by(Site.id)
    if site_ids is not None:
        rooms = rooms.where(Building.site_id.in_(site_ids))
        stored = stored.where(Site.id.in_(site_ids))
    counted = dict(session.execute(rooms.group_by(Building.site_id)).all())
    changes = [
        {"site_id": site_id, "v_rooms": counted.get(site_id, 0)}
        for site_id, count in session.execute(stored)
        if count != counted.get(site_id, 0)
    ]
    table = Site.__table__
    write = (
        update(table)
        .where(table.c.id == bindparam("site_id"))
        .values(room_count=bindparam("v_rooms"))
    )
    for start in range(0, len(changes), 5000):
        session.execute(write, changes[start : start + 5000])
    for change in changes:
        loaded = session.identity_map.get(identity_key(Site, change["site_id"]))
        if loaded is not None:
            set_committed_value(loaded, "room_count", change["v_rooms"])
    return len(changes)


class _Row:
    """A site's columns as the rules read them (refresh_stored loads no ORM objects)."""

    known_since = Site.known_since

    def __init__(self, mapping: Any) -> None:
        self.__dict__.update(mapping)


_COLUMNS = ("id", "created_at", "admitted_on", "last_inspected_on", "last_incident_on", "stars")


def refresh_stored(session: Session, site_ids: list[int] | None = None) -> int:
    """Recompute the derived columns of every site (or the given ones) by the rules,
    writing the rows that differ; returns their number. For rows loaded without the
    services (a bulk load); run `rebuild-rollups` after it, as the counters read them."""
    stored = ("shuangwu_on", *_derived_columns())
    stmt = select(*(getattr(Site, c) for c in (*_COLUMNS, *stored))).order_by(Site.id)
    if site_ids is not None:
        stmt = stmt.where(Site.id.in_(site_ids))
    table = Site.__table__
    write = (
        update(table)
        .where(table.c.id == bindparam("site_id"))
        .values({c: bindparam(f"v_{c}") for c in stored})
    )
    changed = 0
    for part in session.execute(stmt).mappings().partitions(5000):
        rows = []
        for row in part:
            values = derived_values(_Row(row))
            if any(row[c] != values[c] for c in stored):
                rows.append({"site_id": row["id"], **{f"v_{c}": values[c] for c in stored}})
        if rows:
            session.execute(write, rows)
            changed += len(rows)
    session.flush()
    return changed


def _derived_columns() -> tuple[str, ...]:
    probe = _Row(dict.fromkeys(_COLUMNS) | {"created_at": datetime(2000, 1, 1)})
    return tuple(c for c in derived_values(probe) if c != "shuangwu_on")


def _source(session: Session, site_ids: list[int] | None):
    """The sites' counters recomputed from the site table (core.rollups source)."""
    today = local_today()
    scoped = (lambda s: s.where(Site.id.in_(site_ids))) if site_ids is not None else (lambda s: s)
    n = func.count()
    for area_id, admitted, stars, count in session.execute(
        scoped(
            select(Site.area_id, Site.admitted_on.is_not(None), Site.stars, n).group_by(
                Site.area_id, Site.admitted_on.is_not(None), Site.stars
            )
        )
    ):
        yield area_id, TOTAL, SITES, count
        if admitted:
            yield area_id, TOTAL, ADMITTED, count
        if stars in STAR_METRICS:
            yield area_id, TOTAL, STAR_METRICS[stars], count
    bucket = case((Site.shuangwu_on <= today, literal(TOTAL, Date)), else_=Site.shuangwu_on)
    yield from session.execute(
        scoped(
            select(Site.area_id, bucket, literal(SHUANGWU), n)
            .where(Site.shuangwu_on.is_not(None))
            .group_by(Site.area_id, bucket)
        )
    )


register_source("sites", _source)
