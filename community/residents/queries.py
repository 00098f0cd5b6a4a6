"""Read side of the resident pages: the scoped list, one residence, the room
choices of the report form, the building ledger and the tenant's status page."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from community.core.crypto import lookup_hash
from community.core.pagination import PER_PAGE, Page, paginate
from community.core.validators import is_id, normalize_id_number
from community.places.models import Building, Room, Site
from community.residents.models import REFERENCE_LENGTH, Person, Residence
from community.residents.permissions import at_resident_site, reportable_sites

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
            person_ids = select(Person.id).where(Person.name.like(f"{escaped}%", escape="\\"))
            stmt = stmt.where(Residence.person_id.in_(person_ids))
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
