"""Buildings on the site page and rooms on the building page, edited in place."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from community.accounts.models import User
from community.core.timeutil import today
from community.places.models import Building, Room
from tests.conftest import csrf_from
from tests.factories.places import make_building, make_room, make_site
from tests.places.conftest import submission_token


@pytest.fixture
def mine(session, login_as, world):
    """A site of the logged-in landlord, with one building holding room 101."""
    me = login_as("landlord", area=world.east)
    site = make_site(session, area=world.east, landlord=session.get(User, me["id"]), name="自家楼")
    building = make_building(session, site=site, name="1号楼")
    room = make_room(session, building=building, number="101", beds=2, occupants=1)
    session.commit()
    return {"site": site.id, "building": building.id, "room": room.id}


def _buildings(session, site_id):
    return list(session.scalars(select(Building.name).where(Building.site_id == site_id)))


def _rooms(session, building_id):
    return session.scalar(
        select(func.count()).select_from(Room).where(Room.building_id == building_id)
    )


# --- buildings -------------------------------------------------------------------------


def test_add_building_in_place_with_htmx(client, htmx_client, mine, session):
    html = client.get(f"/sites/{mine['site']}").get_data(as_text=True)
    resp = htmx_client.post(
        f"/sites/{mine['site']}/buildings",
        data={
            "name": "2号楼",
            "csrf_token": csrf_from(html),
            "submission_token": submission_token(html),
        },
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<html" not in body and body.lstrip().startswith('<section id="buildings"')
    assert "2号楼" in body and "1号楼" in body
    assert resp.headers["HX-Trigger"] == "building-added"
    assert "HX-Request" in resp.headers["Vary"]
    assert sorted(_buildings(session, mine["site"])) == ["1号楼", "2号楼"]


def test_add_building_without_javascript_redirects(client, mine, session):
    html = client.get(f"/sites/{mine['site']}").get_data(as_text=True)
    resp = client.post(
        f"/sites/{mine['site']}/buildings", data={"name": "3号楼", "csrf_token": csrf_from(html)}
    )
    assert resp.status_code == 303
    assert "3号楼" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_double_submitted_building_is_added_once(client, htmx_client, mine, session):
    html = client.get(f"/sites/{mine['site']}").get_data(as_text=True)
    data = {
        "name": "双击楼",
        "csrf_token": csrf_from(html),
        "submission_token": submission_token(html),
    }
    first = htmx_client.post(f"/sites/{mine['site']}/buildings", data=data)
    second = htmx_client.post(f"/sites/{mine['site']}/buildings", data=data)
    assert first.status_code == second.status_code == 200
    assert _buildings(session, mine["site"]).count("双击楼") == 1


@pytest.mark.parametrize("htmx", [True, False])
def test_duplicate_building_name_is_422_on_the_field(
    client, htmx_client, english, mine, session, htmx
):
    english()
    html = client.get(f"/sites/{mine['site']}").get_data(as_text=True)
    poster = htmx_client if htmx else client
    resp = poster.post(
        f"/sites/{mine['site']}/buildings", data={"name": "1号楼", "csrf_token": csrf_from(html)}
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert ("<html" in body) is not htmx
    assert 'aria-invalid="true"' in body
    assert "already has a building with this name" in body
    assert _buildings(session, mine["site"]) == ["1号楼"]


def test_association_officer_sees_buildings_but_cannot_add(client, login_as, session, world):
    login_as("association", org=world.association)
    site = make_site(session, area=world.east, association=world.association)
    session.commit()
    html = client.get(f"/sites/{site.id}").get_data(as_text=True)
    assert 'id="building-form"' not in html
    resp = client.post(
        f"/sites/{site.id}/buildings", data={"name": "x", "csrf_token": csrf_from(html)}
    )
    assert resp.status_code == 403


# --- rooms ----------------------------------------------------------------------------------


def test_building_page_lists_rooms_with_head_counts(client, mine, session):
    building = session.get(Building, mine["building"])
    make_room(session, building=building, number="102", beds=1, occupants=3)
    session.commit()
    html = client.get(f"/buildings/{mine['building']}").get_data(as_text=True)
    assert "1号楼" in html and "自家楼" in html
    row = re.search(
        r'<tr id="room-\d+">\s*<td class="card-title">102</td>.*?</tr>', html, re.S
    ).group(0)
    assert 'data-badge="over-capacity"' in row
    assert 'id="room-form"' in html


def test_add_room_in_place_with_htmx(client, htmx_client, mine, session):
    html = client.get(f"/buildings/{mine['building']}").get_data(as_text=True)
    resp = htmx_client.post(
        f"/buildings/{mine['building']}/rooms",
        data={
            "number": "201",
            "beds": "4",
            "occupants": "3",
            "csrf_token": csrf_from(html),
            "submission_token": submission_token(html),
        },
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert body.lstrip().startswith('<section id="rooms"') and "<html" not in body
    assert resp.headers["HX-Trigger"] == "room-added"
    room = session.scalar(select(Room).where(Room.number == "201"))
    assert (room.beds, room.occupants, room.counted_on) == (4, 3, today())


def test_add_room_without_javascript_redirects(client, mine, session):
    html = client.get(f"/buildings/{mine['building']}").get_data(as_text=True)
    resp = client.post(
        f"/buildings/{mine['building']}/rooms",
        data={"number": "301", "beds": "2", "occupants": "0", "csrf_token": csrf_from(html)},
    )
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/buildings/{mine['building']}")
    assert _rooms(session, mine["building"]) == 2


@pytest.mark.parametrize(
    "data,message",
    [
        ({"number": "101", "beds": "1", "occupants": "0"}, "already has a room with this number"),
        ({"number": "102", "beds": "-1", "occupants": "0"}, "Number must be between 0 and 500"),
        ({"number": "102", "beds": "abc", "occupants": "0"}, "Not a valid integer value"),
        ({"number": "", "beds": "1", "occupants": "0"}, "This field is required"),
    ],
)
def test_invalid_room_is_422_in_place(client, htmx_client, english, mine, session, data, message):
    english()
    html = client.get(f"/buildings/{mine['building']}").get_data(as_text=True)
    resp = htmx_client.post(
        f"/buildings/{mine['building']}/rooms", data={**data, "csrf_token": csrf_from(html)}
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert body.lstrip().startswith('<section id="rooms"')
    assert message in body and 'aria-invalid="true"' in body
    assert _rooms(session, mine["building"]) == 1


def test_edit_room_row_becomes_an_inline_form_with_htmx(htmx_client, mine):
    resp = htmx_client.get(f"/rooms/{mine['room']}/edit")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert body.lstrip().startswith(f'<tr id="room-{mine["room"]}" class="editing"')
    assert f'form="room-form-{mine["room"]}"' in body and 'value="101"' in body
    assert "<html" not in body


def test_edit_room_without_javascript_is_a_page(client, mine):
    resp = client.get(f"/rooms/{mine['room']}/edit")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" in body
    assert f'<form id="room-form-{mine["room"]}"' in body


def test_saving_a_room_in_place_returns_the_display_row(client, htmx_client, mine, session):
    session.get(Room, mine["room"]).counted_on = today() - timedelta(days=9)
    session.commit()
    html = client.get(f"/buildings/{mine['building']}").get_data(as_text=True)
    resp = htmx_client.post(
        f"/rooms/{mine['room']}/edit",
        data={"number": "101A", "beds": "3", "occupants": "2", "csrf_token": csrf_from(html)},
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert body.lstrip().startswith(f'<tr id="room-{mine["room"]}">')
    assert "101A" in body and "<form" not in body
    assert resp.headers["HX-Trigger"] == "room-saved"
    session.expire_all()
    room = session.get(Room, mine["room"])
    assert (room.number, room.beds, room.occupants, room.counted_on) == ("101A", 3, 2, today())


def test_saving_a_room_without_javascript_redirects(client, mine, session):
    html = client.get(f"/rooms/{mine['room']}/edit").get_data(as_text=True)
    resp = client.post(
        f"/rooms/{mine['room']}/edit",
        data={"number": "101", "beds": "5", "occupants": "1", "csrf_token": csrf_from(html)},
    )
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/buildings/{mine['building']}")
    session.expire_all()
    assert session.get(Room, mine["room"]).beds == 5


@pytest.mark.parametrize("htmx", [True, False])
def test_renaming_a_room_to_a_taken_number_is_422(
    client, htmx_client, english, mine, session, htmx
):
    english()
    make_room(session, building=session.get(Building, mine["building"]), number="102")
    session.commit()
    html = client.get(f"/rooms/{mine['room']}/edit").get_data(as_text=True)
    resp = (htmx_client if htmx else client).post(
        f"/rooms/{mine['room']}/edit",
        data={"number": "102", "beds": "1", "occupants": "1", "csrf_token": csrf_from(html)},
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert ("<html" in body) is not htmx
    assert "already has a room with this number" in body and 'aria-invalid="true"' in body
    session.expire_all()
    assert session.get(Room, mine["room"]).number == "101"


def test_rooms_of_a_site_out_of_scope_are_404(client, login_as, session, world):
    login_as("landlord", area=world.east)
    site = make_site(session, area=world.west, landlord=world.west_landlord)
    building = make_building(session, site=site)
    room = make_room(session, building=building)
    session.commit()
    assert client.get(f"/buildings/{building.id}").status_code == 404
    assert client.get(f"/rooms/{room.id}/edit").status_code == 404
    token = csrf_from(client.get("/").get_data(as_text=True))
    resp = client.post(
        f"/buildings/{building.id}/rooms",
        data={"number": "9", "beds": "1", "occupants": "0", "csrf_token": token},
    )
    assert resp.status_code == 404


def test_building_page_uses_a_fixed_number_of_queries(client, mine, session, count_queries):
    def measure():
        with count_queries() as q:
            assert client.get(f"/buildings/{mine['building']}").status_code == 200
        return q.count

    small = measure()
    building = session.get(Building, mine["building"])
    for i in range(15):
        make_room(session, building=building, number=f"9{i:02d}")
    session.commit()
    assert measure() == small


def test_room_fragments_render_alone(app, session, world):
    from community.core.htmx import render_block
    from community.places.forms import RoomEditForm, RoomForm

    site = make_site(session, area=world.east)
    building = make_building(session, site=site)
    room = make_room(session, building=building, number="707")
    with app.test_request_context("/"):
        rooms = render_block(
            "places/building.html",
            "rooms",
            building=building,
            site=site,
            rooms=[room],
            room_form=RoomForm(formdata=None),
            can_manage=True,
        )
        row = render_block("places/building.html", "room_row", room=room, can_manage=True)
        edit_row = render_block(
            "places/room_edit.html", "room_edit_row", room=room, form=RoomEditForm(obj=room)
        )
    assert rooms.lstrip().startswith('<section id="rooms"') and "707" in rooms
    assert row.lstrip().startswith(f'<tr id="room-{room.id}">') and "707" in row
    assert edit_row.lstrip().startswith(f'<tr id="room-{room.id}" class="editing">')
