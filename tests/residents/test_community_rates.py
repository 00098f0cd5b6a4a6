"""The registration rate per community: the DESIGN definition (verified active
residents / max(head counts, active residents)) summed over every room of the
community's sites, in one query, shown on /compliance/ for the police — values
computed by hand below, read from the area counters and checked against the live
aggregate over rooms (area_rate)."""

from __future__ import annotations

import re
from datetime import timedelta

from community.core.timeutil import today as _today  # per test: a run may cross midnight
from community.residents import queries, services
from tests.factories.accounts import make_area
from tests.factories.places import make_building, make_room, make_site
from tests.factories.residents import make_residence


def _verified(session, world, room):
    return make_residence(
        session, room=room, reporter=world.landlord, status="verified", decider=world.police
    )


def _two_communities(session, world):
    """world.community: rooms 101 and 102 (head count 2 each) at 青年公寓 with one
    verified resident in 101, one pending in 102 and one moved out; a second site
    with one room (head count 0) and one verified resident:
    active 2, counted 4 -> 2 / max(4, 2) = 50%.
    A second community of the same street: one room, head count 1, three verified
    residents -> 3 / max(1, 3) = 100%. A third one with rooms but nobody: 0 / 3."""
    _verified(session, world, world.room)
    make_residence(session, room=world.room2, reporter=world.landlord)
    gone = make_residence(
        session,
        room=world.room2,
        reporter=world.landlord,
        status="verified",
        decider=world.police,
        move_in=_today() - timedelta(days=30),
    )
    services.move_out(session, world.police, gone, _today())
    small = make_site(session, area=world.community, landlord=world.landlord, name="小楼")
    small_room = queries.get_room(
        session, make_room(session, building=make_building(session, site=small), occupants=0).id
    )
    _verified(session, world, small_room)
    second = make_area(session, name="二村社区", level="community", parent=world.street)
    crowded_site = make_site(session, area=second, landlord=world.landlord, name="满楼")
    crowded = queries.get_room(
        session,
        make_room(session, building=make_building(session, site=crowded_site), occupants=1).id,
    )
    for _ in range(3):
        _verified(session, world, crowded)
    third = make_area(session, name="三村社区", level="community", parent=world.street)
    empty = make_site(session, area=third, landlord=world.landlord, name="空楼")
    make_room(session, building=make_building(session, site=empty), occupants=3)
    session.commit()
    return second, third


def test_community_rates_by_hand(session, world, count_queries):
    second, third = _two_communities(session, world)
    with count_queries() as q:
        found = {
            c.id: (c.rate.active, c.rate.base, c.rate.percent)
            for c in queries.community_rates(session, world.police)
        }
    # One query over the area counters, none over rooms or residences; the rest
    # load the police's memberships and areas.
    assert len([st for st in q.statements if "FROM rollup_month" in st]) == 1
    assert not [st for st in q.statements if "FROM room" in st or "FROM residence" in st]
    assert q.count <= 4, q.statements
    assert found == {
        world.community.id: (2, 4, 50),
        second.id: (3, 3, 100),
        third.id: (0, 3, 0),
    }


def test_community_rate_agrees_with_the_area_rate(session, world):
    _two_communities(session, world)
    rates = {c.id: c.rate for c in queries.community_rates(session, world.police)}
    assert rates[world.community.id] == queries.area_rate(session, world.community)


def test_others_see_only_their_communities(session, world):
    _two_communities(session, world)
    make_room(
        session,
        building=make_building(session, site=world.other_site),
        occupants=4,
    )
    session.commit()
    other = queries.community_rates(session, world.other_police)
    assert [(c.id, c.rate.active, c.rate.base) for c in other] == [(world.other_community.id, 0, 4)]
    assert queries.community_rates(session, world.landlord) == []


def test_police_see_the_table_on_the_compliance_page(client, login, session, world):
    second, _third = _two_communities(session, world)
    login(world.police)
    html = client.get("/compliance/").get_data(as_text=True)
    row = re.search(rf'<tr id="community-rate-{world.community.id}">(.*?)</tr>', html, re.S)
    assert 'data-column="counted">2 / 4<' in row.group(1)
    assert 'data-column="rate">50%<' in row.group(1)
    other = re.search(rf'<tr id="community-rate-{second.id}">(.*?)</tr>', html, re.S)
    assert 'data-column="rate">100%<' in other.group(1)


def test_the_htmx_card_answer_leaves_the_rates_out(htmx_client, client, login, session, world):
    _two_communities(session, world)
    login(world.police)
    html = htmx_client.get("/compliance/").get_data(as_text=True)
    assert "<html" not in html and "community-rate-" not in html
