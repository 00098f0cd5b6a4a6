"""A small fixed world with hand-computable figures (see the numbers in
tests/dashboard/test_figures.py), built through the services and factories.

    district D > street S > communities C1, C2;   other district D2 > ... > C3
    C1: site A (landlord L, admitted, 5 stars, known for 400 days: 双无)
        room r1 (head count 3): res1 verified since M-2 (timely);
            res2 verified M-2 .. moved out in M-1 (reported late, in M-1);
            res3 pending (this month, timely)
        room r2 (head count 1): res4 verified since M-1 (timely)
        hazards: open for 100 days; one fixed (not open)
    C2: site B (landlord L2, not admitted, 3 stars, new)
        room r3 (head count 0): res5 verified since yesterday (timely)
        hazards: open for 2 days, open for 40 days, one closed
    C3: site C (head count 5, one verified resident): outside the police's scope
"""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from flask import g

from community.core.rollups import add_months, month_of
from community.core.timeutil import today, utcnow
from community.residents import services as residents
from community.residents.queries import get_room
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import make_area, make_org, make_role_user
from tests.factories.hazards import make_hazard
from tests.factories.places import make_building, make_room, make_site
from tests.factories.residents import make_residence


@pytest.fixture(autouse=True)
def _fresh_csrf_per_request(app, monkeypatch):
    """Several clients in one test share `g` (see tests/hazards/test_views.py)."""

    def forget():
        g.pop("csrf_token", None)
        g.pop("csrf_valid", None)

    funcs = app.before_request_funcs.get(None, [])
    monkeypatch.setitem(app.before_request_funcs, None, [forget, *funcs])


def months_back(n: int) -> date:
    return add_months(month_of(today()), -n)


def build_world(session):
    d = make_area(session, name="D-district", level="district")
    s = make_area(session, name="S-street", level="street", parent=d)
    c1 = make_area(session, name="C1-community", level="community", parent=s)
    c2 = make_area(session, name="C2-community", level="community", parent=s)
    d2 = make_area(session, name="D2-district", level="district")
    s2 = make_area(session, name="S2-street", level="street", parent=d2)
    c3 = make_area(session, name="C3-community", level="community", parent=s2)

    police = make_role_user(session, "police", org=make_org(session, area=d))
    c1_police = make_role_user(session, "police", org=make_org(session, area=c1))
    landlord = make_role_user(session, "landlord", area=c1)
    landlord2 = make_role_user(session, "landlord", area=c2)

    now = utcnow()
    site_a = make_site(
        session,
        area=c1,
        landlord=landlord,
        name="Site A",
        admitted_on=today() - timedelta(days=200),
        stars=5,
        created_at=now - timedelta(days=400),
    )
    site_b = make_site(session, area=c2, landlord=landlord2, name="Site B", stars=3)
    site_c = make_site(session, area=c3, name="Site C")

    def room(site, occupants):
        r = make_room(session, building=make_building(session, site=site), occupants=occupants)
        return get_room(session, r.id)  # with building and site, as the services need

    r1, r2, r3, r_c = room(site_a, 3), room(site_a, 1), room(site_b, 0), room(site_c, 5)

    m2, m1 = months_back(2), months_back(1)
    make_residence(
        session,
        room=r1,
        reporter=landlord,
        status="verified",
        decider=police,
        move_in=m2 + timedelta(days=2),
        today=m2 + timedelta(days=3),
    )
    res2 = make_residence(
        session,
        room=r1,
        reporter=landlord,
        status="verified",
        decider=police,
        move_in=m2 + timedelta(days=4),
        today=m1,  # late: more than 3 days after moving in
    )
    residents.move_out(session, police, res2, m1 + timedelta(days=1))
    # This month, whatever day today is (the 1st included): timely.
    this_month = max(months_back(0), today() - timedelta(days=1))
    make_residence(session, room=r1, reporter=landlord, move_in=this_month)
    make_residence(
        session,
        room=r2,
        reporter=landlord,
        status="verified",
        decider=police,
        move_in=m1 + timedelta(days=9),
        today=m1 + timedelta(days=10),
    )
    make_residence(
        session,
        room=r3,
        reporter=landlord2,
        status="verified",
        decider=police,
        move_in=this_month,
    )
    make_residence(session, room=r_c, reporter=police, channel="police", status="verified")

    make_hazard(session, site=site_a, created_at=now - timedelta(days=100))
    make_hazard(session, site=site_a, status="fixed", created_at=now - timedelta(days=5))
    make_hazard(session, site=site_b, created_at=now - timedelta(days=2))
    make_hazard(session, site=site_b, created_at=now - timedelta(days=40))
    make_hazard(session, site=site_b, status="closed", created_at=now - timedelta(days=3))
    session.commit()
    return SimpleNamespace(
        d=d,
        s=s,
        c1=c1,
        c2=c2,
        d2=d2,
        c3=c3,
        police=police,
        c1_police=c1_police,
        landlord=landlord,
        site_a=site_a,
        site_b=site_b,
        site_c=site_c,
        r1=r1,
        r2=r2,
        r3=r3,
    )


@pytest.fixture
def world(session):
    return build_world(session)


@pytest.fixture
def client_as(app):
    def make(user):
        client = app.test_client()
        with client.session_transaction() as sess:
            sess["locale"] = "en"
        token = csrf_from(client.get("/login").get_data(as_text=True))
        resp = client.post(
            "/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token}
        )
        assert resp.status_code == 303
        return client

    return make
