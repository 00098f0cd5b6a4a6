"""A volunteer team's lead (membership.lead, issue 21 item 1) publishes events
organised by their team, in the team's area, and manages them; not events of
another organiser, not elsewhere, and no coverage, corners or requests. Only a
volunteer of a volunteer team can be made its lead, by an administrator on the
organization's page."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from community.accounts import services as accounts
from community.accounts.models import Membership
from community.accounts.permissions import can
from community.core.errors import RuleViolation
from community.core.timeutil import utcnow
from community.extensions import db
from community.outreach import services
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import make_area_tree, make_org, make_role_user, make_user
from tests.factories.outreach import make_event


def _lead(session, team, **kw):
    user = make_user(session, **kw)
    accounts.add_membership(session, None, user, "volunteer", team, lead=True)
    return user


@pytest.fixture
def w(session):
    _district, street, community = make_area_tree(session)
    other = make_area_tree(session)[2]
    station = make_org(session, kind="police_station", area=street)
    team = make_org(session, kind="volunteer_team", area=community)
    other_team = make_org(session, kind="volunteer_team", area=community)
    return SimpleNamespace(
        community=community,
        other=other,
        station=station,
        team=team,
        other_team=other_team,
        lead=_lead(session, team),
        member=make_role_user(session, "volunteer", org=team),
        other_lead=_lead(session, other_team),
        enterprise=make_org(session, kind="enterprise", area=community),
        foreign_enterprise=make_org(session, kind="enterprise", area=other),
    )


def _input(w, **kw):
    start = utcnow().replace(second=0, microsecond=0) + timedelta(days=2)
    values = dict(
        kind="legal",
        title="普法进企业",
        target="enterprise",
        enterprise_id=w.enterprise.id,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        organiser_id=w.team.id,
    )
    values.update(kw)
    return services.EventInput(**values)


def test_a_team_lead_publishes_an_event_of_their_team_with_its_duty(session, w):
    assert can(w.lead, "outreach.create")
    event = services.publish_event(session, w.lead, _input(w, staff=3))
    assert (event.organiser_id, event.area_id, event.publisher_id) == (
        w.team.id,
        w.community.id,
        w.lead.id,
    )
    assert event.duty_id is not None
    assert can(w.lead, "outreach.manage", event)
    services.cancel_event(session, w.lead, event)
    assert event.status == "cancelled"


@pytest.mark.parametrize("organiser", ["station", "other_team"])
def test_a_team_lead_names_no_other_organiser(session, w, organiser):
    with pytest.raises(RuleViolation) as exc:
        services.publish_event(session, w.lead, _input(w, organiser_id=getattr(w, organiser).id))
    assert [f for f, _m in exc.value.errors] == ["organiser_id"]


def test_a_team_lead_publishes_only_in_the_teams_area(session, w):
    with pytest.raises(RuleViolation) as exc:
        services.publish_event(session, w.lead, _input(w, enterprise_id=w.foreign_enterprise.id))
    assert [f for f, _m in exc.value.errors] == ["enterprise_id"]


def test_a_team_lead_manages_their_teams_events_only(session, w):
    ours = make_event(session, area=w.community, organiser=w.team)
    theirs = make_event(session, area=w.community, organiser=w.other_team)
    police = make_event(session, area=w.community, organiser=w.station)
    assert can(w.lead, "outreach.manage", ours)
    assert not can(w.lead, "outreach.manage", theirs)
    assert not can(w.lead, "outreach.manage", police)
    assert can(w.other_lead, "outreach.manage", theirs)


def test_a_member_who_does_not_lead_publishes_nothing(session, w):
    ours = make_event(session, area=w.community, organiser=w.team)
    assert not can(w.member, "outreach.create")
    assert can(w.member, "outreach.view", ours)
    assert not can(w.member, "outreach.manage", ours)
    with pytest.raises(RuleViolation) as exc:
        services.publish_event(session, w.member, _input(w))
    assert "organiser_id" in [f for f, _m in exc.value.errors]


def test_a_team_lead_reads_no_coverage_and_opens_no_corner(session, w):
    assert not can(w.lead, "nav.outreach.coverage")
    assert not can(w.lead, "outreach.corner.create")


@pytest.mark.parametrize(
    ("role", "kind"),
    [("volunteer", None), ("police", "police_station"), ("coordinator", "community_office")],
)
def test_only_a_volunteer_of_a_volunteer_team_can_lead_it(session, w, role, kind):
    org = make_org(session, kind=kind, area=w.community) if kind else None
    with pytest.raises(RuleViolation) as exc:
        accounts.add_membership(
            session, None, make_user(session), role, org, area=w.community, lead=True
        )
    assert exc.value.field == "lead"


def test_an_administrator_makes_a_member_the_teams_lead(client, login, app):
    with app.app_context():
        s = db.session
        community = make_area_tree(s)[2]
        team = make_org(s, kind="volunteer_team", area=community)
        admin = make_role_user(s, "admin", password=PASSWORD)
        user = make_user(s, password=PASSWORD)
        s.commit()
        admin_name, username, team_id, user_id = admin.username, user.username, team.id, user.id
    login(admin_name)
    page = client.get(f"/admin/orgs/{team_id}").get_data(as_text=True)
    assert 'name="lead"' in page
    resp = client.post(
        f"/admin/orgs/{team_id}/members",
        data={
            "username": username,
            "role": "volunteer",
            "lead": "y",
            "csrf_token": csrf_from(page),
        },
    )
    assert resp.status_code == 303
    with app.app_context():
        membership = db.session.scalar(select(Membership).where(Membership.user_id == user_id))
        assert membership.lead is True
    page = client.get(f"/admin/orgs/{team_id}").get_data(as_text=True)
    assert page.count("<mark>") == 1  # the lead's row says so
