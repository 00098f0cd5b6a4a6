"""The hazards section of the start page: a landlord (or property company) sees how
many open hazards are assigned to them and the oldest few, linked to each hazard;
fixed and closed ones, and other people's, are not there."""

from __future__ import annotations

import re
from datetime import timedelta

from community.core.timeutil import utcnow
from tests.conftest import PASSWORD
from tests.factories.accounts import make_area_tree, make_org, make_role_user
from tests.factories.hazards import make_hazard
from tests.factories.places import make_site


def _world(session):
    _, street, community = make_area_tree(session)
    police = make_role_user(
        session, "police", password=PASSWORD, org=make_org(session, area=street)
    )
    landlord = make_role_user(session, "landlord", password=PASSWORD, area=community)
    other = make_role_user(session, "landlord", password=PASSWORD, area=community)
    site = make_site(session, area=community, landlord=landlord, name="河边出租屋")
    other_site = make_site(session, area=community, landlord=other)
    return police, landlord, site, other_site


def _section(html):
    match = re.search(r'<section id="start-hazards".*?</section>', html, re.S)
    return match.group(0) if match else None


def test_landlord_sees_open_hazards_oldest_first(client, login, session):
    police, landlord, site, other_site = _world(session)
    now = utcnow()
    oldest = make_hazard(
        session,
        site=site,
        reporter=police,
        description="楼道堆放杂物",
        created_at=now - timedelta(days=9),
    )
    middle = make_hazard(session, site=site, reporter=police, created_at=now - timedelta(days=5))
    # Written as they stood at those times (no workflow): assigned as the service does.
    oldest.assignee_user_id = middle.assignee_user_id = landlord.id
    newer = [make_hazard(session, site=site, reporter=police) for _ in range(2)]
    fixed = make_hazard(session, site=site, reporter=police, status="fixed")
    theirs = make_hazard(session, site=other_site, reporter=police)
    session.commit()
    login(landlord)
    section = _section(client.get("/").get_data(as_text=True))
    assert "4 hazards" in section
    ids = re.findall(r'<li id="start-hazard-(\d+)">', section)
    assert [int(i) for i in ids[:2]] == [oldest.id, middle.id] and len(ids) == 3
    assert f'href="/hazards/{oldest.id}"' in section and "楼道堆放杂物" in section
    assert "and 1 more" in section
    for hidden in (fixed, theirs):
        assert f"start-hazard-{hidden.id}" not in section
    assert newer


def test_no_open_hazard_no_section(client, login, session):
    police, landlord, site, _other = _world(session)
    make_hazard(session, site=site, reporter=police, status="closed")
    session.commit()
    login(landlord)
    assert _section(client.get("/").get_data(as_text=True)) is None


def test_police_get_no_hazards_to_fix_section(client, login, session):
    police, _landlord, site, _other = _world(session)
    make_hazard(session, site=site, reporter=police)
    session.commit()
    login(police)
    assert _section(client.get("/").get_data(as_text=True)) is None
