"""The residents world: a street's police, a community's landlord with a site,
building and rooms, a property company, and users who must not see residents."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import g

from community.residents import queries
from tests.conftest import PASSWORD
from tests.factories.accounts import make_area_tree, make_org, make_role_user
from tests.factories.places import make_building, make_room, make_site


@pytest.fixture(autouse=True)
def _fresh_csrf_per_request(app, monkeypatch):
    """Several clients in one test share `g`: forget the cached CSRF token."""

    def forget():
        g.pop("csrf_token", None)
        g.pop("csrf_valid", None)

    funcs = app.before_request_funcs.get(None, [])
    monkeypatch.setitem(app.before_request_funcs, None, [forget, *funcs])


@pytest.fixture
def world(session):
    _, street, community = make_area_tree(session)
    _, other_street, other_community = make_area_tree(session)
    company = make_org(session, kind="property_company", area=community)
    police = make_role_user(
        session, "police", password=PASSWORD, org=make_org(session, area=street)
    )
    other_police = make_role_user(
        session, "police", password=PASSWORD, org=make_org(session, area=other_street)
    )
    landlord = make_role_user(session, "landlord", password=PASSWORD, area=community)
    manager = make_role_user(session, "property_manager", password=PASSWORD, org=company)
    volunteer = make_role_user(
        session,
        "volunteer",
        password=PASSWORD,
        org=make_org(session, kind="volunteer_team", area=community),
    )
    site = make_site(session, area=community, landlord=landlord, company=company, name="青年公寓")
    building = make_building(session, site=site, name="A座")
    rooms = [make_room(session, building=building, number=n, occupants=2) for n in ("101", "102")]
    other_site = make_site(session, area=other_community, name="远方小区")
    other_room = make_room(session, building=make_building(session, site=other_site), number="9")
    session.commit()
    w = SimpleNamespace(**locals())
    w.room = queries.get_room(session, rooms[0].id)
    w.room2 = queries.get_room(session, rooms[1].id)
    w.other_room = queries.get_room(session, other_room.id)
    return w
