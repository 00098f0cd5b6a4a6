"""Issue 17, item 8: the audit log is scoped like everything else. Police (and
coordinators) see the events about objects of their areas and their own actions;
events about objects with no area (accounts, logins) only their actor and admins;
admins everything. Two districts: the police of B see nothing of A, on the page,
in the CSV, whatever the query string says."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from community.audit import queries
from community.audit.permissions import AREA_LESS, OBJECT_AREAS
from community.core import audit
from community.core.models import AuditEvent
from community.core.timeutil import utcnow
from community.extensions import db
from community.residents import queries as rq
from community.residents.compliance.models import YellowCard, YellowCardProposal
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import make_area, make_area_tree, make_org, make_role_user
from tests.factories.assessments import make_assessment
from tests.factories.duty import make_claim, make_coordinator, make_duty, make_volunteer
from tests.factories.hazards import make_hazard
from tests.factories.inspections import make_incident, make_inspection
from tests.factories.mediation import make_case, mediation_world
from tests.factories.places import make_application, make_building, make_room, make_site
from tests.factories.residents import make_residence


def _objects(session, community, police) -> list:
    """One object of every kind the audit log resolves to an area, in `community`."""
    landlord = make_role_user(session, "landlord", area=community)
    association = make_org(session, kind="landlord_association", area=community)
    company = make_org(session, kind="property_company", area=community)
    site = make_site(session, area=community, landlord=landlord, association=association)
    building = make_building(session, site=site)
    room = make_room(session, building=building)
    residence = make_residence(session, room=rq.get_room(session, room.id), reporter=landlord)
    coordinator = make_coordinator(session, area=community)
    task = make_duty(session, area=community, publisher=coordinator)
    claim = make_claim(session, task=task, volunteer=make_volunteer(session, area=community))
    month = date(2026, 1, 1)
    cards = [
        YellowCard(user_id=landlord.id, month=month, reason="late", issued_by_id=police.id),
        YellowCard(organization_id=company.id, month=month, reason="late"),
        YellowCardProposal(organization_id=company.id, month=month, area_id=community.id),
    ]
    session.add_all(cards)
    session.flush()
    mediation = mediation_world(session, area=community)
    case = make_case(session, area=community, opener=police)
    # The site first: the fixture reads its id from objects[0].
    return [
        site,
        building,
        room,
        residence,
        make_hazard(session, site=site, reporter=landlord),
        make_assessment(session, site=site, month=month),
        make_inspection(session, site=site, inspector=police),
        make_incident(session, site=site, recorded_by=police),
        task,
        claim,
        make_application(session, landlord=landlord, association=association),
        *cards,
        case,
        mediation["room"],
    ]


@pytest.fixture
def districts(app):
    """Districts A and B, each with its police (at district level) and one object of
    every kind; every object gets a 'probe.a'/'probe.b' event by an actor of its
    district from an address of its district. Returns the ids and names."""
    with app.app_context():
        session = db.session
        found = {}
        for name, address in (("a", "10.0.0.65"), ("b", "10.0.0.66")):
            district, _, community = make_area_tree(session, prefix=f"scope-{name}")
            police = make_role_user(session, "police", area=district, password=PASSWORD)
            objects = _objects(session, community, police)
            events = [
                audit.record(session, police, f"probe.{name}", obj, {"k": name}) for obj in objects
            ]
            # An event with no area (a sign-in): A's shows to its actor only.
            signed_in = audit.record(session, police, "login", police)
            for event in [*events, signed_in]:
                event.address = address
            session.flush()
            found[name] = {
                "police": police.username,
                "police_id": police.id,
                "types": sorted({e.object_type for e in events}),
                "count": len(events),
                "site_id": objects[0].id,
            }
        session.commit()
        found["a"]["event_ids"] = set(
            session.scalars(
                select(AuditEvent.id).where(AuditEvent.actor_id == found["a"]["police_id"])
            )
        )
        return found


def _client(app, username: str):
    """A new browser logged in as `username`."""
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    data = {"username": username, "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 303
    return client


def _page_ids(client, url: str) -> set[int]:
    resp = client.get(url)
    assert resp.status_code == 200
    return {int(i) for i in re.findall(r'id="event-(\d+)"', resp.get_data(as_text=True))}


def _csv(client, url: str) -> list[list[str]]:
    resp = client.get(url)
    assert resp.status_code == 200
    return list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))[1:]


def test_every_object_kind_in_the_fixture_resolves_to_an_area(districts):
    assert set(districts["b"]["types"]) == set(OBJECT_AREAS)
    assert not set(OBJECT_AREAS) & set(AREA_LESS)


def test_police_of_one_district_see_none_of_anothers_events(app, districts):
    a, b = districts["a"], districts["b"]
    client = _client(app, b["police"])
    body = client.get("/audit/").get_data(as_text=True)
    # Every kind of object of B shows ...
    assert body.count('data-action="probe.b"') == b["count"]
    # ... nothing of A: not its events, actor, address or objects.
    assert 'data-action="probe.a"' not in body
    assert a["police"] not in body and "10.0.0.65" not in body
    rows = _csv(client, "/audit/export.csv")
    assert {r[4] for r in rows if r[4].startswith("probe.")} == {"probe.b"}
    assert not {int(r[0]) for r in rows} & a["event_ids"]
    assert not [r for r in rows if r[2] == a["police"] or r[3] == "10.0.0.65"]


@pytest.mark.parametrize(
    "query",
    [
        "user={police}",
        "action=probe.a",
        "object_type=site&object_id={site_id}",
        "object_type=user&object_id={police_id}",
        "date_from=2000-01-01&date_to=2999-12-31",
        "before=999999999",
        "after=0",
    ],
)
def test_filters_cannot_widen_the_scope(app, districts, query):
    a, b = districts["a"], districts["b"]
    client = _client(app, b["police"])
    query = query.format(**a)
    assert not _page_ids(client, f"/audit/?{query}") & a["event_ids"]
    rows = _csv(client, f"/audit/export.csv?{query}")
    assert not {int(r[0]) for r in rows} & a["event_ids"]
    assert not [r for r in rows if r[2] == a["police"] or r[3] == "10.0.0.65"]


def test_area_less_events_show_to_their_actor_and_admins_only(app, districts):
    """A login (an event about a user account) has no area: the police of A see their
    own, not B's; a failed login (no actor) shows to admins only."""
    a, b = districts["a"], districts["b"]
    police_a = _client(app, a["police"])
    with app.app_context():
        audit.record(
            db.session,
            None,
            "login_failed",
            None,
            {"username": a["police"]},
            object_type="user",
            object_id=a["police_id"],
        )
        admin = make_role_user(db.session, "admin", password=PASSWORD).username
        db.session.commit()
    police_b = _client(app, b["police"])
    for client in (police_a, police_b):
        # Each sees their own two sign-ins (the fixture's and this one), no other.
        own = client.get("/audit/?action=login").get_data(as_text=True)
        assert own.count('data-action="login"') == 2
        assert 'data-action="login_failed"' not in client.get("/audit/").get_data(as_text=True)
    everything = _client(app, admin).get("/audit/").get_data(as_text=True)
    assert 'data-action="login_failed"' in everything
    assert everything.count('data-action="login"') == 5
    assert 'data-action="probe.a"' in everything and 'data-action="probe.b"' in everything


def test_police_of_a_community_do_not_see_the_rest_of_their_district(app):
    """Scope follows the area tree downward only: the police of one community see
    nothing of a sibling community of the same street; the district's police both."""
    with app.app_context():
        session = db.session
        district, street, community = make_area_tree(session, prefix="scope-tree")
        sibling = make_area(session, name="scope-tree-sibling", level="community", parent=street)
        police = make_role_user(session, "police", area=community, password=PASSWORD)
        above = make_role_user(session, "police", area=district, password=PASSWORD)
        audit.record(session, None, "probe.inside", make_site(session, area=community))
        audit.record(session, None, "probe.beside", make_site(session, area=sibling))
        session.commit()
        names = police.username, above.username
    body = _client(app, names[0]).get("/audit/").get_data(as_text=True)
    assert 'data-action="probe.inside"' in body and 'data-action="probe.beside"' not in body
    body = _client(app, names[1]).get("/audit/").get_data(as_text=True)
    assert 'data-action="probe.inside"' in body and 'data-action="probe.beside"' in body


def test_the_scope_is_a_query_for_coordinators_too(app, session):
    """visible_events(user) is a condition for any area role (coordinators read the
    log only if a rule lets them; the scope would hold then too)."""
    from community.audit.permissions import visible_events

    _, _, community = make_area_tree(session, prefix="scope-coord")
    _, _, elsewhere = make_area_tree(session, prefix="scope-coord-x")
    coordinator = make_coordinator(session, area=community)
    mine = make_duty(session, area=community, publisher=coordinator)
    other = make_duty(session, area=elsewhere, publisher=make_coordinator(session, area=elsewhere))
    events = [audit.record(session, None, "probe", t) for t in (mine, other)]
    session.flush()
    seen = set(
        session.scalars(
            select(AuditEvent.id).where(
                AuditEvent.id.in_([e.id for e in events]), visible_events(coordinator)
            )
        )
    )
    assert seen == {events[0].id}


def _seed_elsewhere(app, n: int) -> None:
    """`n` events about sites of another district, newer than anything in scope."""
    with app.app_context():
        _, _, community = make_area_tree(db.session)
        site = make_site(db.session, area=community)
        db.session.add_all(
            AuditEvent(action="elsewhere", object_type="site", object_id=site.id, at=utcnow())
            for _ in range(n)
        )
        db.session.commit()


def test_the_scoped_page_costs_the_same_however_many_rows_lie_outside(
    app, districts, count_queries
):
    """Query budget at two sizes: the out-of-scope rows add no query to the page or
    its next page, and never a COUNT."""
    b = districts["b"]
    client = _client(app, b["police"])
    with app.app_context():
        site_id = b["site_id"]
        db.session.add_all(
            AuditEvent(
                action="mine", object_type="site", object_id=site_id, at=utcnow() - timedelta(1)
            )
            for _ in range(queries.PER_PAGE + 5)
        )
        db.session.commit()

    def cost() -> tuple[int, int]:
        first = client.get("/audit/?action=mine").get_data(as_text=True)
        assert first.count('data-action="mine"') == queries.PER_PAGE
        older = re.search(r'href="(/audit/\?[^"]*before=\d+[^"]*)"', first).group(1)
        with count_queries() as q1:
            client.get("/audit/")
        with count_queries() as q2:
            page = client.get(older.replace("&amp;", "&")).get_data(as_text=True)
        assert page.count('data-action="mine"') == 5
        assert not [
            s for s in q1.statements + q2.statements if "count(" in s.lower() and "audit_event" in s
        ]
        return q1.count, q2.count

    _seed_elsewhere(app, 5)
    small = cost()
    _seed_elsewhere(app, 300)
    assert cost() == small
    assert 'data-action="elsewhere"' not in client.get("/audit/").get_data(as_text=True)
