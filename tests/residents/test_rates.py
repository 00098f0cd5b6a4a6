"""Registration rate (verified active residents / max(head count, active residents))
per room, building, site and community, as the building page, the site page and
the site list show it; computed in SQL, one query per list."""

from __future__ import annotations

import re
from datetime import timedelta

from community.core.timeutil import today as _today  # per test: a run may cross midnight
from community.residents import queries
from tests.factories.places import make_building, make_room, make_site
from tests.factories.residents import make_residence


def _live(session, world, room, n, status="verified"):
    for _ in range(n):
        make_residence(
            session, room=room, reporter=world.landlord, status=status, decider=world.police
        )


def test_rate_counts_verified_active_against_the_head_count(session, world):
    # room 101: 2 counted, 1 verified + 1 pending; room 102: 2 counted, 3 verified.
    _live(session, world, world.room, 1)
    _live(session, world, world.room, 1, status="pending")
    _live(session, world, world.room2, 3)
    moved = make_residence(
        session,
        room=world.room,
        reporter=world.landlord,
        status="verified",
        decider=world.police,
        move_in=_today() - timedelta(days=10),
    )
    moved.move_out = _today() - timedelta(days=1)
    session.flush()
    rooms = queries.room_rates(session, world.building)
    assert rooms[world.room.id].percent == 50  # 1 / 2
    assert rooms[world.room2.id].percent == 100  # 3 / max(2, 3)
    (building,) = queries.building_rates(session, world.site)
    assert (building.rate.active, building.rate.occupants) == (4, 4)
    assert queries.site_rates(session, [world.site.id])[world.site.id].percent == 100
    assert queries.area_rate(session, world.site.area).active == 4


def test_rate_as_it_stood_on_a_day(session, world):
    r = make_residence(
        session,
        room=world.room,
        reporter=world.landlord,
        status="verified",
        decider=world.police,
        move_in=_today() - timedelta(days=5),
    )
    assert queries.site_rates(session, [world.site.id])[world.site.id].active == 1
    before = queries.site_rates(session, [world.site.id], on=_today() - timedelta(days=6))
    assert before[world.site.id].active == 0
    assert r.status == "verified"


def test_a_site_without_head_count_or_residents_shows_no_rate(session, world):
    assert queries.site_rates(session, [world.other_site.id])[world.other_site.id].percent is None
    assert queries.site_rates(session, []) == {}


def test_building_page_shows_the_rate_per_room_and_in_total(client, login, session, world):
    _live(session, world, world.room, 1)
    session.commit()
    login(world.landlord)
    html = client.get(f"/buildings/{world.building.id}").get_data(as_text=True)
    total = re.search(r'data-testid="building-rate">(.*?)</small>', html, re.S).group(1)
    assert "25%" in total  # 1 / 4
    assert re.findall(r'data-column="room-rate">([^<]*)<', html) == ["50%", "0%"]


def test_site_page_shows_the_rate_per_building(client, login, session, world):
    _live(session, world, world.room, 2)
    session.commit()
    login(world.police)
    html = client.get(f"/sites/{world.site.id}").get_data(as_text=True)
    assert 'id="panel-registration"' in html
    assert re.search(r'data-testid="site-rate">50%<', html)
    assert f'id="building-rate-{world.building.id}"' in html


def test_volunteer_sees_no_rate_on_the_site_page_or_list(client, login, session, world):
    login(world.volunteer)
    html = client.get(f"/sites/{world.site.id}").get_data(as_text=True)
    assert "panel-registration" not in html
    assert 'data-column="registration-rate"' not in client.get("/sites/").get_data(as_text=True)


def test_site_list_shows_a_rate_column_full_page_and_fragment(
    client, htmx_client, login, session, world
):
    _live(session, world, world.room, 1)
    session.commit()
    login(world.police)
    html = client.get("/sites/").get_data(as_text=True)
    assert "Registration rate" in html
    cells = re.findall(r'data-column="registration-rate">([^<]*)<', html)
    assert "25%" in cells
    fragment = htmx_client.get("/sites/?q=青年")
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and 'data-column="registration-rate">25%<' in body


def test_site_list_rate_column_costs_one_query_whatever_the_page(
    client, login, session, world, count_queries
):
    login(world.police)

    def measure():
        with count_queries() as q:
            assert client.get("/sites/").status_code == 200
        return q.count

    session.commit()  # the same starting point as after the additions (user reloaded)
    small = measure()
    for i in range(10):
        site = make_site(session, area=world.site.area, name=f"加{i}")
        make_room(session, building=make_building(session, site=site), occupants=3)
    session.commit()
    assert measure() == small


def test_site_panel_and_building_page_queries_stay_constant(
    client, login, session, world, count_queries
):
    login(world.police)

    def measure(path):
        with count_queries() as q:
            assert client.get(path).status_code == 200
        return q.count

    session.commit()
    site_small = measure(f"/sites/{world.site.id}")
    building_small = measure(f"/buildings/{world.building.id}")
    for i in range(5):
        building = make_building(session, site=world.site, name=f"B{i}")
        make_room(session, building=building, occupants=1)
        make_room(session, building=world.building, number=f"3{i}", occupants=1)
    session.commit()
    assert measure(f"/sites/{world.site.id}") == site_small
    assert measure(f"/buildings/{world.building.id}") == building_small
