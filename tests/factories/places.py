"""Factories for places: sites, buildings, rooms and association applications."""

from __future__ import annotations

import itertools

from community.core.timeutil import today, utcnow
from community.places.models import AssociationApplication, Building, Room, Site
from community.places.rollups import occupants_changed

_seq = itertools.count(1)


def make_site(
    session,
    *,
    area,
    landlord=None,
    company=None,
    association=None,
    name=None,
    kind="rental_house",
    address=None,
    **columns,
) -> Site:
    """A site on `area` (a community); extra keyword arguments set columns directly
    (admitted_on, stars, last_incident_on, ...)."""
    n = next(_seq)
    site = Site(
        name=name or f"site-{n}",
        kind=kind,
        area_id=area.id,
        address=address or f"{n} Test Road",
        landlord_id=landlord.id if landlord is not None else None,
        company_id=company.id if company is not None else None,
        association_id=association.id if association is not None else None,
        **columns,
    )
    session.add(site)
    session.flush()
    return site


def make_building(session, *, site, name=None) -> Building:
    building = Building(site_id=site.id, name=name or f"B{next(_seq)}")
    session.add(building)
    session.flush()
    return building


def make_room(session, *, building, number=None, beds=2, occupants=0) -> Room:
    room = Room(
        building_id=building.id,
        number=number or str(100 + next(_seq)),
        beds=beds,
        occupants=occupants,
        counted_on=today(),
    )
    session.add(room)
    session.flush()
    # As places.services.add_room does: the area's head-count counter follows.
    occupants_changed(session, building.id, occupants)
    return room


def make_application(session, *, landlord, association, status="pending", note=None):
    application = AssociationApplication(
        landlord_id=landlord.id,
        association_id=association.id,
        status=status,
        note=note,
        decided_at=utcnow() if status != "pending" else None,
        reason="test" if status == "declined" else None,
    )
    session.add(application)
    session.flush()
    return application
