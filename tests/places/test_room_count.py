"""The site's stored room count (places.stored; outreach coverage ranks the sites
never visited by it) equals the rooms counted from the tables after every kind of
change: a room added through the service, rooms added with a new building in one
flush, a room deleted, a room moved to another site's building, a site deleted,
a failed room (duplicate number) leaving no trace, and a bulk load recounted by
refresh_room_counts. On both databases (the suite runs on each)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select

from community.core.errors import RuleViolation
from community.places import services as places
from community.places.models import Building, Room, Site
from community.places.stored import refresh_room_counts
from tests.factories.accounts import make_area_tree, make_role_user
from tests.factories.places import make_building, make_room, make_site


def counted(session) -> dict[int, int]:
    rows = session.execute(
        select(Site.id, func.count(Room.id))
        .outerjoin(Building, Building.site_id == Site.id)
        .outerjoin(Room, Room.building_id == Building.id)
        .group_by(Site.id)
    )
    return dict(rows.all())


def stored(session) -> dict[int, int]:
    return dict(session.execute(select(Site.id, Site.room_count)).all())


def assert_in_step(session) -> None:
    session.flush()
    assert stored(session) == counted(session)


@pytest.fixture
def world(session):
    community = make_area_tree(session)[2]
    admin = make_role_user(session, "admin")
    first, second = make_site(session, area=community), make_site(session, area=community)
    return admin, first, second


def test_a_new_site_counts_no_room(session, world):
    _admin, first, _second = world
    assert first.room_count == 0
    assert_in_step(session)


def test_rooms_added_through_the_service_count_on_their_site(session, world):
    admin, first, second = world
    building = places.add_building(session, admin, first, "A")
    for number in ("101", "102", "103"):
        places.add_room(session, admin, building, number=number, beds=2, occupants=1)
    places.add_room(
        session,
        admin,
        places.add_building(session, admin, second, "B"),
        number="1",
        beds=1,
        occupants=0,
    )
    assert (first.room_count, second.room_count) == (3, 1)  # the loaded rows follow too
    assert_in_step(session)


def test_a_refused_room_leaves_the_count_alone(session, world):
    admin, first, _second = world
    building = places.add_building(session, admin, first, "A")
    places.add_room(session, admin, building, number="101", beds=2, occupants=1)
    with pytest.raises(RuleViolation):
        places.add_room(session, admin, building, number="101", beds=2, occupants=1)
    assert first.room_count == 1
    assert_in_step(session)


def test_rooms_of_a_new_building_in_one_flush_count(session, world):
    _admin, first, _second = world
    building = Building(site_id=first.id, name="N")
    building.rooms = [Room(number=str(n), beds=1, occupants=0) for n in range(4)]
    session.add(building)
    session.flush()
    assert first.room_count == 4
    assert_in_step(session)


def test_a_deleted_room_is_taken_off(session, world):
    _admin, first, _second = world
    building = make_building(session, site=first)
    rooms = [make_room(session, building=building) for _i in range(3)]
    session.delete(rooms[0])
    session.flush()
    assert first.room_count == 2
    assert_in_step(session)


def test_a_room_moved_to_another_site_moves_its_count(session, world):
    _admin, first, second = world
    room = make_room(session, building=make_building(session, site=first))
    make_room(session, building=make_building(session, site=second))
    room.building_id = make_building(session, site=second).id
    session.flush()
    assert (first.room_count, second.room_count) == (0, 2)
    assert_in_step(session)


def test_a_deleted_site_takes_its_rooms_with_it(session, world):
    _admin, first, second = world
    make_room(session, building=make_building(session, site=first))
    make_room(session, building=make_building(session, site=second))
    session.delete(first)
    session.flush()
    assert_in_step(session)


def test_a_bulk_load_is_recounted_by_refresh(session, world):
    _admin, first, second = world
    building = make_building(session, site=first)
    session.execute(
        insert(Room),
        [
            {"building_id": building.id, "number": f"x{n}", "beds": 1, "occupants": 0}
            for n in range(5)
        ],
    )
    assert stored(session)[first.id] == 0  # bypassed the ORM
    assert refresh_room_counts(session) == 1
    assert refresh_room_counts(session) == 0  # nothing left to change
    assert first.room_count == 5 and second.room_count == 0
    assert_in_step(session)
