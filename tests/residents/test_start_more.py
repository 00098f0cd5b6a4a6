"""'还有 N 项' (and N more) on the start page links to the whole list: rooms whose
people are not all reported, reports sent back, sites to assess, hazards to fix."""

from __future__ import annotations

import re
from datetime import timedelta

from community.core.timeutil import today
from community.residents import queries
from tests.factories.assessments import make_assessment
from tests.factories.hazards import make_hazard
from tests.factories.places import make_building, make_room, make_site
from tests.factories.residents import make_residence

N = 7  # more than the start page shows of each list


def _grow(session, world):
    last_month = (today().replace(day=1) - timedelta(days=1)).replace(day=1)
    rooms = []
    for i in range(N):
        site = make_site(session, area=world.community, landlord=world.landlord, name=f"多楼{i}")
        room = queries.get_room(
            session,
            make_room(session, building=make_building(session, site=site), number=f"{i}01").id,
        )
        room.occupants = 2
        rooms.append(room)
        make_residence(
            session, room=room, reporter=world.landlord, status="rejected", decider=world.police
        )
        make_hazard(session, site=site, reporter=world.police)
        if i % 2:
            make_assessment(session, site=site, month=last_month, status="rejected")
    session.commit()
    return rooms


def _more(html: str, section_id: str) -> list[tuple[str, str]]:
    section = re.search(rf'<section id="{section_id}".*?</section>', html, re.S).group(0)
    return re.findall(r'<a href="([^"]+)" data-testid="more">([^<]+)</a>', section)


def test_and_n_more_links_to_the_filtered_lists(client, login, session, world):
    _grow(session, world)
    login(world.landlord)
    html = client.get("/").get_data(as_text=True)
    # world's own rooms (2 counted each, nobody reported) are due too: N + 2 rooms.
    assert _more(html, "start-reports") == [
        ("/residents/due", f"and {N + 2 - 5} more"),
        ("/residents/?status=rejected", f"and {N - 5} more"),
    ]
    assert _more(html, "start-hazards") == [
        ("/hazards/?tab=assigned&amp;status=open", f"and {N - 3} more")
    ]
    # N new sites and the world's site, none submitted for last month.
    assert _more(html, "start-assessments") == [("/assessments/due", f"and {N + 1 - 5} more")]

    rejected = client.get("/residents/?status=rejected").get_data(as_text=True)
    assert rejected.count('data-status="rejected"') >= N

    hazards = client.get("/hazards/?tab=assigned&status=open")
    assert hazards.status_code == 200
    assert len(re.findall(r'<tr id="hazard-row-\d+"', hazards.get_data(as_text=True))) == N


def test_the_rooms_due_list_shows_every_room_with_a_report_link(
    client, htmx_client, login, session, world
):
    rooms = _grow(session, world)
    login(world.landlord)
    resp = client.get("/residents/due")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" in html
    listed = re.findall(r'<tr id="due-room-(\d+)"', html)
    assert len(listed) == N + 2
    last = rooms[-1]
    row = re.search(rf'<tr id="due-room-{last.id}".*?</tr>', html, re.S).group(0)
    assert f'href="/residents/new?room_id={last.id}"' in row and "2 / 0" in row
    fragment = htmx_client.get("/residents/due")
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and body.lstrip().startswith('<section id="rooms-due"')


def test_nothing_due_says_what_to_do_when_people_move_in(client, login, session, world):
    for room in (world.room, world.room2):
        room.occupants = 0
    session.commit()
    login(world.landlord)
    html = client.get("/residents/due").get_data(as_text=True)
    assert "Every counted person is reported" in html


def test_the_sites_to_assess_list_links_each_site_to_its_assessment(client, login, session, world):
    _grow(session, world)
    login(world.landlord)
    html = client.get("/assessments/due").get_data(as_text=True)
    items = re.findall(r'<li id="due-site-(\d+)">(.*?)</li>', html, re.S)
    assert len(items) == N + 1
    assert (
        sum(re.search(r"/sites/\d+/assessments\"", body) is not None for _, body in items)
        == N + 1 - N // 2
    )
    assert sum("sent back: correct and submit" in body for _, body in items) == N // 2
