"""The reviews world: two streets, each with its police; on the first street's
community a coordinator, a landlord association (and its officer), a landlord with
a site that is not due for inspection; helpers making one item of each kind."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from flask import g

from community.core.timeutil import today
from community.residents import queries as residents
from community.residents.compliance.models import YellowCardProposal
from tests.conftest import PASSWORD
from tests.factories.accounts import make_area, make_area_tree, make_org, make_role_user
from tests.factories.assessments import make_assessment
from tests.factories.hazards import make_hazard
from tests.factories.places import make_application, make_building, make_room, make_site
from tests.factories.residents import make_residence


@pytest.fixture(autouse=True)
def _fresh_csrf_per_request(app, monkeypatch):
    """Several clients in one test share `g`: forget the cached CSRF token."""

    def forget():
        g.pop("csrf_token", None)
        g.pop("csrf_valid", None)

    funcs = app.before_request_funcs.get(None, [])
    monkeypatch.setitem(app.before_request_funcs, None, [forget, *funcs])


def _not_due(**extra):
    return {"admitted_on": today(), "last_inspected_on": today(), "stars": 5, **extra}


class World(SimpleNamespace):
    def site(self, area=None, **extra):
        site = make_site(self.session, area=area or self.community, **_not_due(**extra))
        room = make_room(self.session, building=make_building(self.session, site=site))
        self.session.expire(room)
        return site, residents.get_room(self.session, room.id)

    def residence(self, room=None, at: datetime | None = None, **kw):
        room = residents.get_room(self.session, (room or self.room).id)
        r = make_residence(self.session, room=room, reporter=self.landlord, **kw)
        if at is not None:
            r.reported_at = at
            self.session.flush()
        return r

    def assessment(self, site=None, at: datetime | None = None, month=date(2026, 9, 1)):
        return make_assessment(
            self.session,
            site=site or self.site_a,
            month=month,
            submitted_at=at or datetime(2026, 10, 2),
        )

    def hazard(self, site=None, at: datetime | None = None):
        h = make_hazard(
            self.session, site=site or self.site_a, reporter=self.police, status="fixed"
        )
        if at is not None:
            h.fixed_at = at
            self.session.flush()
        return h

    def due_site(self, area=None):
        return make_site(self.session, area=area or self.community, name="待检场所")

    def application(self, association=None, at: datetime | None = None):
        landlord = make_role_user(self.session, "landlord", area=self.community)
        app = make_application(
            self.session, landlord=landlord, association=association or self.association
        )
        if at is not None:
            app.created_at = at
            self.session.flush()
        return app

    def proposal(self, room=None, landlord=None):
        """Five late reports by the room's landlord this month: a proposed card."""
        room = residents.get_room(self.session, (room or self.room).id)
        for _ in range(5):
            make_residence(
                self.session,
                room=room,
                reporter=landlord or self.landlord,
                move_in=today() - timedelta(days=20),
            )
        return self.session.query(YellowCardProposal).order_by(YellowCardProposal.id.desc()).first()


@pytest.fixture
def world(session):
    district, street, community = make_area_tree(session)
    community2 = make_area(session, name="第二社区", level="community", parent=street)
    _, other_street, other_community = make_area_tree(session)
    police = make_role_user(
        session, "police", password=PASSWORD, org=make_org(session, area=street)
    )
    other_police = make_role_user(
        session, "police", password=PASSWORD, org=make_org(session, area=other_street)
    )
    coordinator = make_role_user(
        session,
        "coordinator",
        password=PASSWORD,
        org=make_org(session, kind="community_office", area=community),
    )
    association = make_org(session, kind="landlord_association", area=community)
    other_association = make_org(session, kind="landlord_association", area=other_community)
    officer = make_role_user(session, "association", password=PASSWORD, org=association)
    landlord = make_role_user(session, "landlord", password=PASSWORD, area=community)
    w = World(**{k: v for k, v in locals().items() if k != "session"})
    w.session = session
    w.site_a, w.room = w.site(landlord=landlord)
    w.site_b, w.other_room = w.site(area=other_community)
    session.commit()
    return w
