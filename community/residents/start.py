"""The residents sections of the start page `/` (core.start): a landlord's or
property company's reports due and reports sent back (their compliance points:
compliance.start), an enterprise's employee reports (its upload history: imports.start), and an
association's registration rate per community. Each section costs one or two
aggregate queries whatever the data size, and returns None (no query at all)
for a user it does not concern."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from community.core.crypto import mask_id_number
from community.core.start import StartSection, register_start_section
from community.places.models import Building, Room, Site
from community.places.permissions import run_sites
from community.residents.forms import STATUS_LABELS
from community.residents.models import Person, Residence
from community.residents.permissions import (
    enterprise_sites,
    sees_community_rates,
)
from community.residents.queries import community_rates

SHOWN = 5


@dataclass(frozen=True)
class DueRoom:
    room_id: int
    number: str
    building_id: int
    building: str
    site: str
    occupants: int
    reported: int


@dataclass(frozen=True)
class SentBack:
    id: int
    name: str
    room: str
    site: str
    reason: str | None


def _reported_in_room():
    """Residents reported in a room and living there: verified and not moved out, or
    waiting for verification (a report due is one nobody has made yet)."""
    return (
        select(func.count())
        .where(
            Residence.room_id == Room.id,
            Residence.move_out.is_(None),
            Residence.status.in_(("pending", "verified")),
        )
        .correlate(Room)
        .scalar_subquery()
    )


def rooms_due(
    session: Session, sites, limit: int = SHOWN, offset: int = 0
) -> tuple[int, list[DueRoom]]:
    """Rooms at `sites` (a condition on Site) whose head count exceeds the residents
    reported there, with how many there are (one query: a windowed count); the start
    page shows the first few, /residents/due pages through all."""
    reported = _reported_in_room()
    rows = session.execute(
        select(
            Room.id,
            Room.number,
            Building.id,
            Building.name,
            Site.name,
            Room.occupants,
            reported,
            func.count().over(),
        )
        .join(Building, Room.building_id == Building.id)
        .join(Site, Building.site_id == Site.id)
        .where(sites, Room.occupants > reported)
        .order_by(Site.name, Building.name, Room.number, Room.id)
        .limit(limit)
        .offset(offset)
    ).all()
    total = rows[0][-1] if rows else 0
    return total, [DueRoom(*r[:-1]) for r in rows]


def sent_back(session: Session, user: Any, sites) -> tuple[int, list[SentBack]]:
    """The user's own reports the police sent back, at sites they still run (they
    may resubmit those), newest first, with how many (one query)."""
    rows = session.execute(
        select(
            Residence.id,
            Residence.name,
            Building.name + " " + Room.number,
            Site.name,
            Residence.reason,
            func.count().over(),
        )
        .join(Room, Residence.room_id == Room.id)
        .join(Building, Room.building_id == Building.id)
        .join(Site, Building.site_id == Site.id)
        .where(Residence.reporter_id == user.id, Residence.status == "rejected", sites)
        .order_by(Residence.verified_at.desc(), Residence.id.desc())
        .limit(SHOWN)
    ).all()
    total = rows[0][-1] if rows else 0
    return total, [SentBack(*r[:-1]) for r in rows]


@register_start_section
def reports_section(session: Session, user: Any) -> StartSection | None:
    """Landlords and property managers: rooms whose reports are due, reports sent
    back to correct (two queries)."""
    sites = run_sites(user)
    if sites is None:
        return None
    due_count, due = rooms_due(session, sites)
    back_count, back = sent_back(session, user, sites)
    if not due_count and not back_count:
        return None
    return StartSection(
        "residents/_start_reports.html",
        order=20,
        context={"due_count": due_count, "due": due, "back_count": back_count, "back": back},
    )


@dataclass(frozen=True)
class EmployeeReport:
    id: int
    masked_id: str
    room: str
    site: str
    status: str
    reported_at: datetime  # naive UTC, shown in the local zone


@register_start_section
def enterprise_section(session: Session, user: Any) -> StartSection | None:
    """Enterprises: their employees' reports at their dormitories — counts by status
    (one grouped query) and the latest few, masked (one query)."""
    sites = enterprise_sites(user)
    if sites is None:
        return None
    at_dormitory = (
        Residence.channel == "enterprise",
        Residence.room_id.in_(
            select(Room.id)
            .join(Building, Room.building_id == Building.id)
            .where(Building.site_id.in_(select(Site.id).where(sites)))
        ),
    )
    counts = dict(
        session.execute(
            select(Residence.status, func.count()).where(*at_dormitory).group_by(Residence.status)
        ).all()
    )
    rows = session.execute(
        select(
            Residence.id,
            Person.id_number,
            Building.name + " " + Room.number,
            Site.name,
            Residence.status,
            Residence.reported_at,
        )
        .join(Person, Residence.person_id == Person.id)
        .join(Room, Residence.room_id == Room.id)
        .join(Building, Room.building_id == Building.id)
        .join(Site, Building.site_id == Site.id)
        .where(*at_dormitory)
        .order_by(Residence.reported_at.desc(), Residence.id.desc())
        .limit(SHOWN)
    ).all()
    latest = [
        EmployeeReport(rid, mask_id_number(number), room, site, status, at)
        for rid, number, room, site, status, at in rows
    ]
    return StartSection(
        "residents/_start_enterprise.html",
        order=20,
        context={
            "counts": {s: int(counts.get(s, 0)) for s in STATUS_LABELS},
            "latest": latest,
            "status_labels": STATUS_LABELS,
        },
    )


@register_start_section
def community_rates_section(session: Session, user: Any) -> StartSection | None:
    """Associations: the registration rate of their community (one query)."""
    if not sees_community_rates(user):
        return None
    return StartSection(
        "residents/_start_rates.html",
        order=30,
        context={"communities": community_rates(session, user)},
    )
