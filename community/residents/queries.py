"""Read side of the resident pages: the scoped list, one residence, the room
choices of the report form, the building ledger and the tenant's status page."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from community.accounts.models import Area
from community.core.crypto import lookup_hash
from community.core.pagination import PER_PAGE, Page, paginate
from community.core.rollups import TOTAL, RollupMonth
from community.core.validators import is_id, normalize_id_number
from community.places.models import Building, Room, Site
from community.places.rollups import OCCUPANTS
from community.residents.models import REFERENCE_LENGTH, Person, Residence
from community.residents.permissions import at_resident_site, rate_areas, reportable_sites
from community.residents.rollups import ACTIVE

_ID_LIKE = re.compile(r"^\d{17}[\dX]$")
_REF_RE = re.compile(r"^[0-9A-Z]{6,16}$")


def _with_place(stmt):
    """Residence joined to its room, building and site, all loaded (inner joins:
    every residence has them), with its person."""
    return (
        stmt.join(Residence.room)
        .join(Room.building)
        .join(Building.site)
        .options(
            contains_eager(Residence.room)
            .contains_eager(Room.building)
            .contains_eager(Building.site),
            joinedload(Residence.person, innerjoin=True),
        )
    )


def get_residence(session: Session, residence_id: int) -> Residence | None:
    """A residence with its person, room, building and site (permissions need them)."""
    if not is_id(residence_id):
        return None
    return session.scalar(
        _with_place(select(Residence))
        .where(Residence.id == residence_id)
        .options(joinedload(Residence.reporter), joinedload(Residence.verified_by))
    )


def get_residences(session: Session, ids: list[int]) -> list[Residence]:
    ids = [i for i in ids if is_id(i)][: PER_PAGE * 4]
    if not ids:
        return []
    return list(
        session.scalars(_with_place(select(Residence)).where(Residence.id.in_(ids))).unique()
    )


@dataclass
class ResidentFilters:
    status: str = ""  # "" = all; pending, verified, rejected
    q: str = ""
    oldest_first: bool = False


def list_residences(
    session: Session,
    user: Any,
    filters: ResidentFilters,
    *,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page:
    """Residences at sites whose residents the user sees; `q` is an exact ID number
    (found by its keyed hash — never a LIKE on the number) or the start of a name.
    Two queries (count and page)."""
    stmt = _with_place(select(Residence)).where(at_resident_site(user, Building.site_id))
    if filters.status:
        stmt = stmt.where(Residence.status == filters.status)
    q = filters.q.strip()
    if q:
        number = normalize_id_number(q)
        if _ID_LIKE.match(number):
            person_ids = select(Person.id).where(Person.id_hash == lookup_hash(number))
            stmt = stmt.where(Residence.person_id.in_(person_ids))
        else:
            escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(Residence.name.like(f"{escaped}%", escape="\\"))
    if filters.oldest_first:
        stmt = stmt.order_by(Residence.reported_at, Residence.id)
    else:
        stmt = stmt.order_by(Residence.reported_at.desc(), Residence.id.desc())
    return paginate(session, stmt, page, per_page)


# --- the report form -----------------------------------------------------------------

MAX_SITE_CHOICES = 500


def site_choices(session: Session, user: Any) -> list[Site]:
    """Sites where the user may report, by name (at most MAX_SITE_CHOICES)."""
    return list(
        session.scalars(
            select(Site)
            .where(reportable_sites(user))
            .order_by(Site.name, Site.id)
            .limit(MAX_SITE_CHOICES)
        )
    )


def building_choices(session: Session, site_id: int) -> list[Building]:
    return list(
        session.scalars(select(Building).where(Building.site_id == site_id).order_by(Building.name))
    )


def room_choices(session: Session, building_id: int) -> list[Room]:
    return list(
        session.scalars(select(Room).where(Room.building_id == building_id).order_by(Room.number))
    )


def site_rooms(session: Session, site: Site) -> list[Room]:
    """Every room of a site with its building (and the building's site set to
    `site`), for the self-declaration's select."""
    rooms = list(
        session.scalars(
            select(Room)
            .join(Room.building)
            .where(Building.site_id == site.id)
            .options(contains_eager(Room.building))
            .order_by(Building.name, Room.number)
        )
    )
    for room in rooms:
        set_committed_value(room.building, "site", site)
    return rooms


def get_room(session: Session, room_id: int | None) -> Room | None:
    """A room with its building and site (one query)."""
    if not is_id(room_id):
        return None
    return session.scalar(
        select(Room)
        .where(Room.id == room_id)
        .options(
            joinedload(Room.building, innerjoin=True).joinedload(Building.site, innerjoin=True)
        )
    )


# --- building ledger and status page ------------------------------------------------------


@dataclass
class RoomResidents:
    room: Room
    residents: list[Residence] = field(default_factory=list)

    @property
    def active(self) -> int:
        return sum(1 for r in self.residents if r.is_active)


def building_residents(session: Session, building: Building) -> dict[int, list[Residence]]:
    """room id -> its current residences (verified and not moved out, and pending
    ones), with persons, in one query."""
    rows = session.scalars(
        select(Residence)
        .join(Residence.room)
        .where(
            Room.building_id == building.id,
            Residence.move_out.is_(None),
            Residence.status.in_(("pending", "verified")),
        )
        .options(joinedload(Residence.person, innerjoin=True))
        .order_by(Residence.room_id, Residence.move_in, Residence.id)
    )
    result: dict[int, list[Residence]] = {}
    for residence in rows:
        result.setdefault(residence.room_id, []).append(residence)
    return result


def count_active(session: Session, building: Building) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Residence)
            .join(Residence.room)
            .where(
                Room.building_id == building.id,
                Residence.status == "verified",
                Residence.move_out.is_(None),
            )
        )
        or 0
    )


def by_reference(session: Session, reference: str) -> Residence | None:
    """The residence a tenant's reference number names, with room, building and site."""
    reference = (reference or "").strip().upper()
    if not _REF_RE.match(reference) or len(reference) != REFERENCE_LENGTH:
        return None
    return session.scalar(
        select(Residence)
        .where(Residence.reference == reference)
        .options(
            joinedload(Residence.room, innerjoin=True)
            .joinedload(Room.building, innerjoin=True)
            .joinedload(Building.site, innerjoin=True)
        )
    )


@dataclass
class Picker:
    """The report form's cascading choice: the sites the user may report at, the
    chosen site's buildings, the chosen building's rooms."""

    sites: list[Site]
    buildings: list[Building] = field(default_factory=list)
    rooms: list[Room] = field(default_factory=list)
    site_id: int | None = None
    building_id: int | None = None
    room_id: int | None = None


def picker(
    session: Session,
    user: Any,
    *,
    site_id: int | None = None,
    building_id: int | None = None,
    room: Room | None = None,
) -> Picker:
    """The choices for the given step; a building that is not the chosen site's
    (the site was changed) is ignored. `room` (already checked) fixes both."""
    result = Picker(sites=site_choices(session, user))
    if room is not None:
        site_id, building_id = room.building.site_id, room.building_id
        result.room_id = room.id
    if site_id is None or site_id not in {s.id for s in result.sites}:
        return result
    result.site_id = site_id
    result.buildings = building_choices(session, site_id)
    if building_id is None or building_id not in {b.id for b in result.buildings}:
        return result
    result.building_id = building_id
    result.rooms = room_choices(session, building_id)
    return result


# --- registration rate ---------------------------------------------------------------------
#
# DESIGN: verified active residents / max(known occupants, active residents), where
# known occupants are the rooms' head counts (room.occupants). Each level (room,
# building, site, community) sums active residents and head counts over its rooms
# and divides once. One aggregate query per list: a per-room subquery (head count,
# active count) grouped by the level's key.


@dataclass(frozen=True)
class Rate:
    active: int = 0
    occupants: int = 0

    @property
    def base(self) -> int:
        return max(self.occupants, self.active)

    @property
    def percent(self) -> int | None:
        """Whole percent, None when nobody is counted or registered."""
        return round(100 * self.active / self.base) if self.base else None

    @property
    def ratio(self) -> float:
        """0..1; a room nobody lives in (no head count, no resident) counts as complete."""
        return self.active / self.base if self.base else 1.0

    def __add__(self, other: Rate) -> Rate:
        return Rate(self.active + other.active, self.occupants + other.occupants)


def _active_on(on=None):
    """SQL condition on Residence: verified and living there (on the day `on`, or now)."""
    if on is None:
        return (Residence.status == "verified") & Residence.move_out.is_(None)
    return (
        (Residence.status == "verified")
        & (Residence.move_in <= on)
        & (Residence.move_out.is_(None) | (Residence.move_out > on))
    )


def _rates(session: Session, key, where, on=None, label=None) -> dict[Any, Rate]:
    """{key value: Rate} over the rooms matching `where` (conditions on Room and
    Building), grouped by `key` (a Room or Building column); with `label` (a
    column functionally dependent on the key) the dict keys are (key, label)."""
    active = (
        select(func.count())
        .where(Residence.room_id == Room.id, _active_on(on))
        .correlate(Room)
        .scalar_subquery()
    )
    columns = [key.label("key"), Room.occupants.label("occupants"), active.label("active")]
    if label is not None:
        columns.append(label.label("label"))
    rooms = select(*columns).select_from(Room).join(Building, Room.building_id == Building.id)
    per_room = rooms.where(where).subquery()
    keys = [per_room.c.key] if label is None else [per_room.c.key, per_room.c.label]
    rows = session.execute(
        select(
            func.coalesce(func.sum(per_room.c.active), 0),
            func.coalesce(func.sum(per_room.c.occupants), 0),
            *keys,
        ).group_by(*keys)
    )
    return {(tuple(k) if label is not None else k[0]): Rate(int(a), int(o)) for a, o, *k in rows}


def room_rates(session: Session, building: Building) -> dict[int, Rate]:
    """room id -> Rate, for the building's rooms (one query)."""
    return _rates(session, Room.id, Room.building_id == building.id)


@dataclass(frozen=True)
class BuildingRate:
    id: int
    name: str
    rate: Rate


def building_rates(session: Session, site: Site) -> list[BuildingRate]:
    """The site's buildings (with rooms) by name, each with its Rate (one query)."""
    rates = _rates(session, Building.id, Building.site_id == site.id, label=Building.name)
    found = [BuildingRate(key, name, rate) for (key, name), rate in rates.items()]
    return sorted(found, key=lambda b: (b.name, b.id))


def site_rates(session: Session, site_ids: list[int], on=None) -> dict[int, Rate]:
    """site id -> Rate for the given sites (one query; a site without rooms is
    missing). `on`: as it stood on that day (the star assessment's month end)."""
    ids = [i for i in site_ids if is_id(i)]
    if not ids:
        return {}
    return _rates(session, Building.site_id, Building.site_id.in_(ids), on)


def area_rate(session: Session, area: Any) -> Rate:
    """The rate of every site in the area and its sub-areas (one query)."""
    areas = select(Area.id).where(Area.path.like(f"{area.path}%"))
    sites = select(Site.id).where(Site.area_id.in_(areas))
    rates = _rates(session, Building.site_id, Building.site_id.in_(sites))
    return sum(rates.values(), Rate())


@dataclass(frozen=True)
class CommunityRate:
    id: int
    name: str
    rate: Rate


def community_rates(session: Session, user: Any) -> list[CommunityRate]:
    """The communities (areas of level "community") the user looks after, by name,
    each with the Rate of every building at its sites and its sub-areas' (the
    DESIGN definition summed over those rooms, as area_rate). One query over the
    area counters (core.rollups), which the services keep in step with rooms and
    residences: active residents are the sum of every month's arrivals minus
    departures, head counts a running total; the cost follows the number of
    areas, not of rooms. A community without rooms is missing."""
    community, site_area = aliased(Area), aliased(Area)
    rows = session.execute(
        select(community.id, community.name, RollupMonth.metric, func.sum(RollupMonth.value))
        .select_from(RollupMonth)
        .join(site_area, site_area.id == RollupMonth.area_id)
        .join(community, site_area.path.like(community.path + "%"))
        .where(
            community.level == "community",
            rate_areas(user, community.path),
            (RollupMonth.metric == ACTIVE)
            | ((RollupMonth.metric == OCCUPANTS) & (RollupMonth.month == TOTAL)),
        )
        .group_by(community.id, community.name, RollupMonth.metric)
    )
    active: dict[tuple[int, str], int] = {}
    occupants: dict[tuple[int, str], int] = {}
    for area_id, name, metric, value in rows:
        (active if metric == ACTIVE else occupants)[(area_id, name)] = int(value or 0)
    found = [
        CommunityRate(key, name, Rate(active.get((key, name), 0), count))
        for (key, name), count in occupants.items()
    ]
    return sorted(found, key=lambda c: (c.name, c.id))


def late_report_count(session: Session, site_id: int, start, end) -> int:
    """Residence reports at the site that arrived late, reported in [start, end)
    (datetimes)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Residence)
            .join(Room, Residence.room_id == Room.id)
            .join(Building, Room.building_id == Building.id)
            .where(
                Building.site_id == site_id,
                Residence.late.is_(True),
                Residence.reported_at >= start,
                Residence.reported_at < end,
            )
        )
        or 0
    )
