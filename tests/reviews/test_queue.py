"""The review queue: every kind for the right role and area, oldest first, filters,
pagination and its query budget, the badge and the start-page section."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from tests.conftest import PASSWORD
from tests.factories.accounts import make_role_user


def _keys(html: str) -> list[str]:
    return re.findall(r'<article id="review-([a-z_]+-\d+)"', html)


@pytest.fixture
def items(world):
    """One item of each kind in the police's street, one of each outside it."""
    w = world
    inside = {
        "residence": w.residence().id,
        "assessment": w.assessment().id,
        "hazard": w.hazard().id,
        "inspection": w.due_site().id,
        "association": w.application().id,
        "yellow_card": w.proposal().id,
    }
    outside = {
        "residence": w.residence(room=w.other_room).id,
        "assessment": w.assessment(site=w.site_b).id,
        "hazard": w.hazard(site=w.site_b).id,
        "inspection": w.due_site(area=w.other_community).id,
        "association": w.application(association=w.other_association).id,
    }
    w.session.commit()
    return inside, outside


def test_police_queue_holds_every_kind_of_their_area_only(client, login, world, items):
    inside, outside = items
    login(world.police)
    html = client.get("/reviews/").get_data(as_text=True)
    keys = set(_keys(html))
    for kind, id_ in inside.items():
        assert f"{kind}-{id_}" in keys, kind
    for kind, id_ in outside.items():
        assert f"{kind}-{id_}" not in keys, kind


def test_other_police_see_their_own_area(client, login, world, items):
    inside, outside = items
    login(world.other_police)
    keys = set(_keys(client.get("/reviews/").get_data(as_text=True)))
    assert {f"{k}-{i}" for k, i in outside.items()} <= keys
    assert not {f"{k}-{i}" for k, i in inside.items()} & keys


def test_coordinator_gets_hazards_and_inspections_only(client, login, world, items):
    inside, _ = items
    login(world.coordinator)
    keys = set(_keys(client.get("/reviews/").get_data(as_text=True)))
    assert {k.split("-")[0] for k in keys} == {"hazard", "inspection"}
    assert f"hazard-{inside['hazard']}" in keys


def test_association_officer_gets_its_applications_only(client, login, world, items):
    inside, _ = items
    login(world.officer)
    keys = _keys(client.get("/reviews/").get_data(as_text=True))
    assert keys == [f"association-{inside['association']}"]


@pytest.mark.parametrize("who, linked", [("police", False), ("officer", True)])
def test_an_application_links_to_the_associations_page_only_for_who_may_open_it(
    client, login, world, who, linked
):
    """Police decide association applications in the queue, but /associations/ is
    the officers' and landlords' page (403 for the police): no link to a refusal."""
    w = world
    app = w.application()
    w.session.commit()
    login(getattr(w, who))
    html = client.get("/reviews/").get_data(as_text=True)
    row = re.search(rf'<article id="review-association-{app.id}".*?</header>', html, re.S)
    assert ('href="/associations/"' in row.group(0)) is linked
    assert client.get("/associations/").status_code == (200 if linked else 403)


def test_landlord_has_no_queue(client, login, world):
    login(world.landlord)
    assert client.get("/reviews/").status_code == 403
    assert "/reviews/" not in client.get("/").get_data(as_text=True)


def test_queue_is_oldest_first_across_kinds(client, login, world):
    w = world
    base = datetime(2026, 11, 1, 8, 0)
    h = w.hazard(at=base + timedelta(hours=1))
    r = w.residence(at=base + timedelta(hours=3))
    a = w.assessment(at=base + timedelta(hours=2))
    app = w.application(at=base)
    w.session.commit()
    login(w.police)
    keys = [
        k
        for k in _keys(client.get("/reviews/").get_data(as_text=True))
        if not k.startswith(("inspection", "yellow"))
    ]
    assert keys == [
        f"association-{app.id}",
        f"hazard-{h.id}",
        f"assessment-{a.id}",
        f"residence-{r.id}",
    ]


def test_a_site_due_today_comes_before_a_report_of_today_after_local_midnight(
    client, login, world, frozen_clock
):
    """At 00:30 local the UTC date is still yesterday's: the site due since today
    (a local day) and the report sent at 00:10 (a UTC moment) fall on the same local
    day, the whole day's item first; a report of yesterday evening comes before both."""
    w = world
    now = frozen_clock("2026-12-08 00:30")
    evening = w.residence(at=now - timedelta(hours=4))
    tonight = w.residence(at=now - timedelta(minutes=20))
    due = w.due_site()
    w.session.commit()
    login(w.police)
    keys = [
        k
        for k in _keys(client.get("/reviews/").get_data(as_text=True))
        if k.startswith(("residence", "inspection"))
    ]
    assert keys == [f"residence-{evening.id}", f"inspection-{due.id}", f"residence-{tonight.id}"]


def test_filters_by_kind_and_area(client, login, world):
    w = world
    r = w.residence()
    h = w.hazard()
    site2, room2 = w.site(area=w.community2)
    r2 = w.residence(room=room2)
    w.session.commit()
    login(w.police)
    keys = _keys(client.get("/reviews/?kind=hazard").get_data(as_text=True))
    assert keys == [f"hazard-{h.id}"]
    keys = set(_keys(client.get(f"/reviews/?area={w.community2.id}").get_data(as_text=True)))
    assert keys == {f"residence-{r2.id}"}
    keys = set(
        _keys(client.get(f"/reviews/?kind=residence&area={w.community.id}").get_data(as_text=True))
    )
    assert keys == {f"residence-{r.id}"}
    # An area outside the user's scope is no filter at all (never a peek outside).
    keys = set(_keys(client.get(f"/reviews/?area={w.other_community.id}").get_data(as_text=True)))
    assert {f"residence-{r.id}", f"residence-{r2.id}"} <= keys


def test_queue_is_paginated(client, login, world):
    w = world
    base = datetime(2026, 11, 1)
    ids = [w.residence(at=base + timedelta(minutes=i)).id for i in range(30)]
    w.session.commit()
    login(w.police)
    first = _keys(client.get("/reviews/?kind=residence").get_data(as_text=True))
    second = _keys(client.get("/reviews/?kind=residence&page=2").get_data(as_text=True))
    assert first == [f"residence-{i}" for i in ids[:25]]
    assert second == [f"residence-{i}" for i in ids[25:]]


@pytest.mark.parametrize("clock", ["2026-12-07 10:00", "2026-12-08 00:30"])
def test_queue_queries_do_not_grow_with_the_rows(
    client, login, world, count_queries, frozen_clock, clock
):
    # 00:30 in Shanghai is the previous UTC day: the day a site is due since and the
    # moment a report came in must still sort together (every kind on the first page).
    frozen_clock(clock)
    w = world

    def add_one_of_each():
        w.residence()
        w.assessment(month=w.assessment_month)
        w.hazard()
        w.due_site()
        w.application()

    from datetime import date

    w.assessment_month = date(2026, 1, 1)
    add_one_of_each()
    w.session.commit()
    login(w.police)

    def measure():
        w.session.expire_all()  # each request loads its user, as in production
        with count_queries() as q:
            resp = client.get("/reviews/")
            assert resp.status_code == 200
        return q.count, len(_keys(resp.get_data(as_text=True)))

    small, shown = measure()
    start = datetime.fromisoformat(clock)
    for month in range(2, 12):
        # One round an hour (the same day), so every kind has a row on the first page.
        frozen_clock(start + timedelta(hours=month))
        w.assessment_month = date(2026, month, 1)
        add_one_of_each()
    w.session.commit()
    large, shown_large = measure()
    assert shown_large > shown
    assert large == small
    # user, memberships, count, page of keys, one per kind shown (5), the area
    # choices: 10 whatever the rows.
    assert large <= 10


def test_badge_counts_what_waits(client, login, world):
    w = world
    w.residence()
    w.hazard()
    w.session.commit()
    login(w.police)
    html = client.get("/reviews/badge").get_data(as_text=True)
    assert re.search(r'id="nav-badge-reviews-index"[^>]*data-count="2"', html)
    page = client.get("/reviews/").get_data(as_text=True)
    assert re.search(r'id="nav-badge-reviews-index"[^>]*data-count="2"', page)
    # Elsewhere the navigation counts too (without JavaScript as well).
    other = client.get("/hazards/").get_data(as_text=True)
    assert re.search(r'id="nav-badge-reviews-index"[^>]*data-count="2"', other)


def test_start_page_shows_counts_per_kind(client, login, world):
    w = world
    w.residence()
    w.residence()
    w.hazard()
    w.session.commit()
    login(w.police)
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'href="/reviews/\?kind=residence"[^>]*>[^<]*<strong>2</strong>', html)
    assert re.search(r'href="/reviews/\?kind=hazard"[^>]*>[^<]*<strong>1</strong>', html)


def test_coordinator_start_page_counts_their_kinds(client, login, world):
    w = world
    w.residence()
    w.hazard()
    w.session.commit()
    login(w.coordinator)
    html = client.get("/").get_data(as_text=True)
    assert 'href="/reviews/?kind=hazard"' in html and "kind=residence" not in html


def test_volunteer_start_page_has_no_review_section(client, session, login, world):
    volunteer = make_role_user(session, "volunteer", password=PASSWORD, area=world.community)
    session.commit()
    login(volunteer)
    assert "start-reviews" not in client.get("/").get_data(as_text=True)


def test_htmx_get_answers_the_queue_fragment(htmx_client, login, world):
    w = world
    r = w.residence()
    w.session.commit()
    login(w.police)
    resp = htmx_client.get("/reviews/?kind=residence")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<section id="review-queue"')
    assert f'id="review-residence-{r.id}"' in html
    assert "HX-Request" in resp.headers.get("Vary", "")
    # The badge fragment alone, with its count (no lazy request of its own).
    badge = htmx_client.get("/reviews/badge").get_data(as_text=True)
    assert badge.startswith('<span id="nav-badge-reviews-index"') and 'data-count="1"' in badge


def test_badge_and_start_page_show_99_plus_and_stop_counting_there(client, login, world, session):
    from community.reviews.queries import COUNT_CAP, counts

    for _ in range(COUNT_CAP + 4):
        world.residence()
    world.hazard()
    session.commit()
    # The exact figure is still there for whoever asks for it (the dashboard).
    exact = counts(session, world.police)
    assert exact["residence"] == COUNT_CAP + 4 and exact["hazard"] == 1
    assert counts(session, world.police, cap=COUNT_CAP)["residence"] == COUNT_CAP

    login(world.police)
    page = client.get("/").get_data(as_text=True)
    badge = re.search(r'<span id="nav-badge-reviews-index"[^>]*>(.*?)</span>\s*</a>', page, re.S)
    assert badge and "99+" in badge.group(1)
    assert re.search(r'data-kind="residence">[^<]*<strong>99\+</strong>', page)
    assert re.search(r'data-kind="hazard">[^<]*<strong>1</strong>', page)
    assert "All reviews (99+)" in page


def test_kept_statements_follow_a_change_of_scope(client, login, world, session):
    """The badge's and the queue's built statements are kept per reviewer scope: a
    police officer given a second street counts and lists its items at once."""
    from community.accounts import services as accounts
    from community.reviews.queries import counts, list_queue
    from tests.factories.accounts import make_org

    world.residence()
    far = world.residence(room=world.other_room)
    session.commit()
    login(world.police)
    assert 'data-count="1"' in client.get("/").get_data(as_text=True)
    assert counts(session, world.police)["residence"] == 1

    other_org = make_org(session, area=world.other_street)
    accounts.add_membership(session, None, world.police, "police", other_org, None)
    session.commit()
    assert counts(session, world.police)["residence"] == 2
    assert f"residence-{far.id}" in [r.key for r in list_queue(session, world.police).items]
    assert 'data-count="2"' in client.get("/").get_data(as_text=True)


def test_a_foreigners_registration_comes_first_marked_whatever_its_age(client, login, world):
    """A foreigner's stay is due within 24 hours: their pending registration leads
    the queue, marked 境外人员, before older items of every kind."""
    from datetime import date

    w = world
    base = datetime(2026, 11, 1, 8, 0)
    old = w.residence(at=base)
    h = w.hazard(at=base + timedelta(hours=1))
    foreign = w.residence(
        at=base + timedelta(hours=5),
        name="",
        number="E7654321",
        document_type="passport",
        nationality="JPN",
        latin_name="SATO HANAKO",
        gender="F",
        birth_date=date(1990, 5, 5),
    )
    w.session.commit()
    login(w.police)
    html = client.get("/reviews/").get_data(as_text=True)
    keys = [k for k in _keys(html) if not k.startswith(("inspection", "yellow"))]
    assert keys == [f"residence-{foreign.id}", f"residence-{old.id}", f"hazard-{h.id}"]
    card = re.search(rf'<article id="review-residence-{foreign.id}".*?</article>', html, re.S)
    assert "Foreign national" in card.group(0) and "SATO" not in card.group(0)
    plain = re.search(rf'<article id="review-residence-{old.id}".*?</article>', html, re.S)
    assert "Foreign national" not in plain.group(0)
