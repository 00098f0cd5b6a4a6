"""A world for the notification tests: a site with a landlord and a property company
(two managers), the police of its area, a volunteer and an outsider."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from community.core.models import Notification
from community.residents import queries as residents_queries
from tests.conftest import PASSWORD
from tests.factories.accounts import make_area_tree, make_org, make_role_user, make_user
from tests.factories.places import make_building, make_room, make_site


@pytest.fixture
def world(session):
    _, street, community = make_area_tree(session)
    company = make_org(session, kind="property_company", area=community)
    police = make_role_user(
        session, "police", password=PASSWORD, org=make_org(session, area=street)
    )
    landlord = make_role_user(session, "landlord", password=PASSWORD, area=community)
    manager = make_role_user(session, "property_manager", password=PASSWORD, org=company)
    manager2 = make_role_user(session, "property_manager", password=PASSWORD, org=company)
    volunteer = make_role_user(session, "volunteer", password=PASSWORD, area=community)
    outsider = make_user(session)
    site = make_site(session, area=community, landlord=landlord, company=company, name="青年公寓")
    building = make_building(session, site=site, name="A座")
    room = make_room(session, building=building, number="101", occupants=2)
    session.commit()
    w = SimpleNamespace(**locals())
    w.room = residents_queries.get_room(session, room.id)
    return w


def notices(session, user=None, kind=None):
    stmt = select(Notification).order_by(Notification.id)
    if user is not None:
        stmt = stmt.where(Notification.user_id == user.id)
    if kind is not None:
        stmt = stmt.where(Notification.kind == kind)
    return list(session.scalars(stmt))


def recipients(session, kind):
    return sorted(n.user_id for n in notices(session, kind=kind))
