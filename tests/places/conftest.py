"""A small world for the places tests: two communities, their organizations, people."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from tests.conftest import csrf_from
from tests.factories.accounts import make_area, make_org, make_role_user


@pytest.fixture
def world(session):
    """Community `east` (with an association and a police station on its street),
    community `west` on another street; a property company on east's street;
    landlords on each community."""
    district = make_area(session, level="district")
    street = make_area(session, level="street", parent=district)
    east = make_area(session, level="community", parent=street)
    other_street = make_area(session, level="street", parent=district)
    west = make_area(session, level="community", parent=other_street)
    w = SimpleNamespace(
        district=district,
        street=street,
        east=east,
        west=west,
        police_station=make_org(session, kind="police_station", area=street),
        office=make_org(session, kind="community_office", area=east),
        association=make_org(session, kind="landlord_association", area=east),
        west_association=make_org(session, kind="landlord_association", area=west),
        company=make_org(session, kind="property_company", area=street),
        other_company=make_org(session, kind="property_company", area=other_street),
        enterprise=make_org(session, kind="enterprise", area=east),
    )
    w.landlord = make_role_user(session, "landlord", area=east)
    w.west_landlord = make_role_user(session, "landlord", area=west)
    session.commit()
    # Load them again now: login_as works in a session of its own on the same
    # connection, and must not be the one to open this session's next SAVEPOINT.
    for obj in vars(w).values():
        session.refresh(obj)
    return w


@pytest.fixture
def english(client):
    """Switch the logged-in client's language to English (call after logging in)."""

    def do():
        token = csrf_from(client.get("/").get_data(as_text=True))
        resp = client.post("/locale", data={"locale": "en", "csrf_token": token})
        assert resp.status_code == 303
        # Requests reuse the test's app context, where Flask-Babel caches the locale.
        from flask_babel import refresh

        refresh()

    return do


def submission_token(html: str) -> str:
    return re.search(r'name="submission_token" type="hidden" value="([^"]+)"', html).group(1)


def user_of(session, info):
    from community.accounts.models import User

    return session.get(User, info["id"])


__all__ = ["make_role_user", "submission_token", "user_of"]
