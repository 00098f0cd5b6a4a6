"""The leaderboard links a volunteer's name to their record only where the viewer may
open it (duty.permissions.record_scope, the rule "duty.record" for rows): every
link it shows answers 200, for every role that sees the leaderboard."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from community.accounts.models import User
from community.accounts.permissions import can
from community.core.timeutil import to_local
from community.duty import queries
from community.extensions import db
from tests.conftest import PASSWORD
from tests.factories.accounts import make_area_tree, make_org, make_role_user
from tests.factories.duty import make_claim, make_duty, make_volunteer

RECORD_LINK = re.compile(r'href="(/duties/volunteers/(\d+))"')


@pytest.fixture
def board(app):
    """A community with three volunteers on its leaderboard: one of the community, one
    of its volunteer team, one of the whole district (whose record the community's
    coordinator may not open); a viewer of every role that sees the leaderboard."""
    with app.app_context():
        session = db.session
        district, _street, community = make_area_tree(session)
        team = make_org(session, kind="volunteer_team", area=community)
        volunteers = {
            "local": make_volunteer(session, area=community, password=PASSWORD),
            "team": make_volunteer(session, team=team, password=PASSWORD),
            "district": make_volunteer(session, area=district, password=PASSWORD),
        }
        task = make_duty(session, area=community, capacity=5, starts_in=-timedelta(days=1))
        for volunteer in volunteers.values():
            claim = make_claim(session, task=task, volunteer=volunteer, status="approved")
            claim.points_awarded = 10
        viewers = {
            role: make_role_user(
                session,
                role,
                password=PASSWORD,
                org=make_org(session, kind=kind, area=community) if kind else None,
                area=None if kind or role == "admin" else community,
            )
            for role, kind in (
                ("admin", None),
                ("police", "police_station"),
                ("coordinator", "community_office"),
            )
        }
        viewers["volunteer"] = volunteers["local"]
        session.commit()
        return {
            "month": to_local(task.starts_at).strftime("%Y-%m"),
            "viewers": {role: u.username for role, u in viewers.items()},
            "volunteers": {k: (v.id, v.display_name) for k, v in volunteers.items()},
        }


# Whose records each viewer's leaderboard links to.
LINKED = {
    "admin": {"local", "team", "district"},
    "police": set(),
    "coordinator": {"local", "team"},
    "volunteer": {"local"},
}


@pytest.mark.parametrize("role", sorted(LINKED))
def test_every_leaderboard_link_opens_for_its_viewer(client, login, board, role):
    login(board["viewers"][role])
    page = client.get(f"/duties/leaderboard?month={board['month']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    names = {key: name for key, (_id, name) in board["volunteers"].items()}
    # Every volunteer stands on the board, linked or not.
    assert all(name in html for name in names.values()), role
    links = RECORD_LINK.findall(html)
    for url, _id in links:
        assert client.get(url).status_code == 200, (role, url)
    ids = {key: vid for key, (vid, _name) in board["volunteers"].items()}
    assert {int(vid) for _url, vid in links} == {ids[k] for k in LINKED[role]}


def test_record_scope_is_the_record_rule(app, board):
    """The SQL condition and can(user, "duty.record", volunteer) agree for every
    viewer and volunteer of the board."""
    with app.app_context():
        session = db.session
        volunteers = [session.get(User, vid) for vid, _name in board["volunteers"].values()]
        ids = [v.id for v in volunteers]
        for username in board["viewers"].values():
            viewer = session.query(User).filter_by(username=username).one()
            rule = {v.id for v in volunteers if can(viewer, "duty.record", v)}
            assert queries.openable_records(session, viewer, ids) == rule, username


def test_a_duty_and_the_reports_link_only_records_their_coordinator_opens(app, client, login):
    """The duty page's volunteers and the report list link a name to the record only
    where it opens: the community's coordinator manages a duty claimed by a volunteer
    of the whole district, whose record is not theirs to open (plain name)."""
    with app.app_context():
        session = db.session
        district, _street, community = make_area_tree(session)
        office = make_org(session, kind="community_office", area=community)
        coordinator = make_role_user(session, "coordinator", org=office, password=PASSWORD)
        wide = make_volunteer(session, area=district, password=PASSWORD)
        local = make_volunteer(session, area=community, password=PASSWORD)
        task = make_duty(session, area=community, capacity=5, starts_in=-timedelta(hours=3))
        for volunteer in (wide, local):
            make_claim(session, task=task, volunteer=volunteer, status="reported")
        session.commit()
        names = {wide.display_name, local.display_name}
        task_id, local_id, username = task.id, local.id, coordinator.username
    login(username)
    for path in (f"/duties/{task_id}", "/duties/reports"):
        html = client.get(path).get_data(as_text=True)
        assert all(name in html for name in names), path
        links = RECORD_LINK.findall(html)
        assert {int(vid) for _url, vid in links} == {local_id}, path
        for url, _id in links:
            assert client.get(url).status_code == 200, url
