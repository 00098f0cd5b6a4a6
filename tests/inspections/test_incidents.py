"""Incidents: police-only recording, the site's last incident date, the 双无 badge and
the incidents panel of the site page."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from flask import render_template
from sqlalchemy import func, select

from community.core.errors import RuleViolation
from community.core.models import AuditEvent
from community.core.timeutil import today, utcnow
from community.inspections import queries as inspections_queries
from community.inspections import services as incidents
from community.inspections.models import Incident
from community.inspections.panels import incidents_panel
from community.places.models import Site
from community.places.queries import is_shuangwu
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import make_area_tree, make_role_user
from tests.factories.inspections import make_incident
from tests.factories.places import make_site

TODAY = date(2025, 6, 15)


@pytest.fixture
def world(session):
    district, street, community = make_area_tree(session)
    # Known to the app for two years: the 双无 badge then depends on incidents alone.
    site = make_site(
        session,
        area=community,
        name="平安公寓",
        created_at=datetime.combine(min(TODAY, today()) - timedelta(days=730), time()),
    )
    session.commit()
    return SimpleNamespace(community=community, site=site)


@pytest.fixture
def as_role(session, login, world):
    def do(role, *, area=None):
        user = make_role_user(session, role, password=PASSWORD, area=area or world.community)
        session.commit()
        login(user.username)
        return user

    return do


def _post(client, site_id, headers=None, **fields):
    html = client.get("/").get_data(as_text=True)
    data = {
        "csrf_token": csrf_from(html),
        "kind": "crime",
        "occurred_on": (today() - timedelta(days=3)).isoformat(),
        "note": "电动车被盗，已立案",
    }
    data.update(fields)
    return client.post(f"/sites/{site_id}/incidents", data=data, headers=headers or {})


def _count(session):
    return session.scalar(select(func.count()).select_from(Incident))


# --- rules -----------------------------------------------------------------------


def test_recording_an_incident_moves_the_last_incident_date_forward_only(session, world):
    police = make_role_user(session, "police", area=world.community)
    site = world.site
    incidents.record_incident(
        session, police, site, kind="fire", occurred_on=date(2025, 5, 1), note="n", today=TODAY
    )
    assert site.last_incident_on == date(2025, 5, 1)
    incidents.record_incident(
        session, police, site, kind="crime", occurred_on=date(2024, 1, 1), note="n", today=TODAY
    )
    assert site.last_incident_on == date(2025, 5, 1)


def test_incident_dated_in_the_future_is_refused(session, world):
    police = make_role_user(session, "police", area=world.community)
    with pytest.raises(RuleViolation) as exc:
        incidents.record_incident(
            session,
            police,
            world.site,
            kind="crime",
            occurred_on=TODAY + timedelta(days=1),
            note="n",
            today=TODAY,
        )
    assert exc.value.field == "occurred_on"
    assert world.site.last_incident_on is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"kind": "theft"}, "kind"), ({"note": "  "}, "note"), ({"note": "x" * 501}, "note")],
)
def test_invalid_incident_fields_are_refused(session, world, fields, field):
    values = {"kind": "crime", "occurred_on": TODAY, "note": "n"} | fields
    with pytest.raises(RuleViolation) as exc:
        incidents.record_incident(session, None, world.site, today=TODAY, **values)
    assert exc.value.field == field


def test_recording_writes_an_audit_event_without_the_note(session, world):
    police = make_role_user(session, "police", area=world.community)
    incident = incidents.record_incident(
        session, police, world.site, kind="fire", occurred_on=TODAY, note="张三家", today=TODAY
    )
    event = session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "incident.recorded", AuditEvent.object_id == incident.id
        )
    )
    assert event.actor_id == police.id
    assert event.detail["kind"] == "fire"
    assert "张三家" not in str(event.detail)


@pytest.mark.parametrize(
    ("days_ago", "badge"), [(None, True), (0, False), (364, False), (365, False), (366, True)]
)
def test_shuangwu_badge_needs_365_days_without_incident(session, world, days_ago, badge):
    if days_ago is not None:
        make_incident(session, site=world.site, occurred_on=TODAY - timedelta(days=days_ago))
    assert is_shuangwu(world.site, TODAY) is badge


def test_shuangwu_badge_needs_a_year_of_record_not_only_no_incident(session, world):
    """A site registered yesterday has no history: no badge, in the list filter neither;
    admitted more than a year ago (on paper, before registering) it has one."""
    from community.places.queries import SiteFilters, shuangwu_sql

    new = make_site(session, area=world.community, created_at=utcnow() - timedelta(days=1))
    assert is_shuangwu(new) is False
    old_paper = make_site(
        session,
        area=world.community,
        created_at=utcnow() - timedelta(days=1),
        admitted_on=today() - timedelta(days=400),
    )
    assert is_shuangwu(old_paper) is True
    ids = set(
        session.scalars(select(Site.id).where(Site.area_id == world.community.id, shuangwu_sql()))
    )
    assert ids == {world.site.id, old_paper.id}
    assert SiteFilters.from_args({"shuangwu": "yes"}).shuangwu == "yes"


def test_recent_list_keeps_three_years_newest_first(session, world):
    site = world.site
    old = make_incident(session, site=site, occurred_on=date(2022, 6, 14))
    edge = make_incident(session, site=site, occurred_on=date(2022, 6, 15))
    new = make_incident(session, site=site, kind="fire", occurred_on=date(2025, 1, 1))
    listed = [i.id for i in inspections_queries.list_recent(session, site, TODAY)]
    assert listed == [new.id, edge.id]
    assert old.id not in listed


# --- the form ---------------------------------------------------------------------


def test_police_record_an_incident_without_javascript(client, session, world, as_role):
    as_role("police")
    resp = _post(client, world.site.id)
    assert resp.status_code == 303
    assert _count(session) == 1
    session.expire_all()
    assert world.site.last_incident_on == today() - timedelta(days=3)


def test_police_record_an_incident_in_place_with_htmx(client, htmx_client, session, world, as_role):
    as_role("police")
    resp = _post(htmx_client, world.site.id, kind="fire", note="充电起火")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<html" not in body
    assert body.lstrip().startswith('<section id="panel-incidents"')
    assert "充电起火" in body
    assert 'data-testid="shuangwu"' not in body  # the badge is gone
    assert resp.headers["HX-Trigger"] == "incident-recorded"
    assert "HX-Request" in resp.headers["Vary"]


def test_double_submitted_incident_form_records_once(client, session, world, as_role):
    as_role("police")
    first = _post(client, world.site.id, submission_token="tok-incident-1")
    second = _post(client, world.site.id, submission_token="tok-incident-1")
    assert first.status_code == second.status_code == 303
    assert _count(session) == 1


def test_future_date_is_422_with_the_message_on_the_field(
    client, htmx_client, session, world, as_role
):
    as_role("police")
    tomorrow = (today() + timedelta(days=1)).isoformat()
    resp = _post(client, world.site.id, occurred_on=tomorrow)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "<html" in body
    assert re.search(
        r'id="occurred_on"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="occurred_on"', body
    )
    resp = _post(htmx_client, world.site.id, occurred_on=tomorrow)
    assert resp.status_code == 422
    assert resp.get_data(as_text=True).lstrip().startswith('<section id="panel-incidents"')
    assert _count(session) == 0


@pytest.mark.parametrize(
    "fields", [{"occurred_on": "15/06/2025"}, {"note": ""}, {"note": "x" * 501}, {"kind": "x"}]
)
def test_invalid_incident_form_is_422(client, session, world, as_role, fields):
    as_role("police")
    assert _post(client, world.site.id, **fields).status_code == 422
    assert _count(session) == 0


@pytest.mark.parametrize("role", ["coordinator", "volunteer"])
def test_only_police_record_incidents_403_for_others_who_see_the_site(
    client, session, world, as_role, role
):
    as_role(role)
    assert _post(client, world.site.id).status_code == 403
    assert _count(session) == 0


def test_recording_is_404_for_police_of_another_area(client, session, world, as_role):
    as_role("police", area=make_area_tree(session)[2])
    assert _post(client, world.site.id).status_code == 404


# --- the panel ---------------------------------------------------------------------


def _render(app, session, user, site):
    with app.test_request_context("/"):
        panel = incidents_panel(session, user, site)
        return render_template("inspections/_panel_incidents.html", panel=panel, site=site)


def test_panel_shows_list_and_form_to_police(app, session, world):
    police = make_role_user(session, "police", area=world.community)
    make_incident(session, site=world.site, occurred_on=today() - timedelta(days=400), note="旧案")
    make_incident(
        session, site=world.site, occurred_on=today() - timedelta(days=2000), note="很久以前"
    )
    session.commit()
    html = _render(app, session, police, world.site)
    assert 'data-testid="shuangwu"' in html  # the last incident is over a year ago
    assert "旧案" in html and "很久以前" not in html
    assert f'action="/sites/{world.site.id}/incidents"' in html
    assert 'name="submission_token"' in html


def test_panel_list_without_form_for_coordinators(app, session, world):
    coordinator = make_role_user(session, "coordinator", area=world.community)
    make_incident(session, site=world.site, occurred_on=today() - timedelta(days=10), note="新案")
    session.commit()
    html = _render(app, session, coordinator, world.site)
    assert "新案" in html
    assert 'data-testid="shuangwu"' not in html
    assert '/incidents"' not in html


def test_panel_shows_only_the_badge_to_the_landlord(app, session, world):
    landlord = make_role_user(session, "landlord", area=world.community)
    world.site.landlord_id = landlord.id
    make_incident(session, site=world.site, occurred_on=today() - timedelta(days=500), note="旧案")
    session.commit()
    html = _render(app, session, landlord, world.site)
    assert 'data-testid="shuangwu"' in html
    assert "旧案" not in html and "<table" not in html and "<form" not in html


def test_site_page_shows_the_incidents_panel_with_the_form_for_police(
    client, htmx_client, session, world, as_role
):
    as_role("police")
    page = client.get(f"/sites/{world.site.id}").get_data(as_text=True)
    assert 'id="panel-incidents"' in page
    assert 'data-testid="shuangwu"' in page
    assert f'hx-post="/sites/{world.site.id}/incidents"' in page
    assert 'hx-target="#panel-incidents"' in page


def test_site_page_shows_the_landlord_the_badge_but_not_the_incidents(
    client, session, world, as_role
):
    landlord = as_role("landlord")
    world.site.landlord_id = landlord.id
    make_incident(session, site=world.site, occurred_on=today() - timedelta(days=30), note="新案")
    session.commit()
    page = client.get(f"/sites/{world.site.id}").get_data(as_text=True)
    assert 'id="panel-incidents"' in page
    assert "新案" not in page
    assert 'data-testid="shuangwu"' not in page


def test_recording_an_incident_refreshes_the_badge_in_the_page_header(
    client, htmx_client, session, world, as_role
):
    """The header's status listens to the incident event and reloads from its own URL:
    the 双无 badge goes without a page reload."""
    as_role("police")
    page = client.get(f"/sites/{world.site.id}").get_data(as_text=True)
    header = re.search(r'<p class="site-status" id="site-status".*?</p>', page, re.S).group(0)
    assert 'data-badge="shuangwu"' in header
    assert f'hx-get="/sites/{world.site.id}/status"' in header
    assert "incident-recorded from:body" in header
    resp = _post(htmx_client, world.site.id, occurred_on=today().isoformat())
    assert "incident-recorded" in resp.headers["HX-Trigger"]
    status = htmx_client.get(f"/sites/{world.site.id}/status")
    body = status.get_data(as_text=True)
    assert status.status_code == 200 and body.lstrip().startswith('<p class="site-status"')
    assert 'data-badge="shuangwu"' not in body


def test_a_new_site_says_it_is_on_record_for_less_than_a_year_not_that_it_had_an_incident(
    client, session, world, as_role
):
    """A site registered a minute ago has no 双无 because its record is young: the
    page says so, with the day the badge can come, and claims no incident."""
    landlord = as_role("landlord")
    site = make_site(session, area=world.community, landlord=landlord, created_at=utcnow())
    session.commit()
    resp = client.get(f"/sites/{site.id}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    reason = re.search(r'data-testid="shuangwu-reason".*?</div>', html, re.S).group(0)
    registered = today()
    eligible = registered + timedelta(days=365)
    assert "On record for less than a year" in reason
    assert registered.isoformat() in reason and eligible.isoformat() in reason
    assert "An incident was recorded" not in html and "Incidents in the last" not in reason


def test_a_site_without_shuangwu_lists_the_incidents_that_cost_it_with_their_dates(
    client, session, world, as_role
):
    """Also for the landlord (who may not see the incident notes): dates and kinds."""
    landlord = as_role("landlord")
    world.site.landlord_id = landlord.id
    recent = today() - timedelta(days=30)
    older = today() - timedelta(days=200)
    make_incident(session, site=world.site, occurred_on=recent, kind="fire", note="厨房起火")
    make_incident(session, site=world.site, occurred_on=older, kind="crime", note="盗窃")
    make_incident(session, site=world.site, occurred_on=today() - timedelta(days=500))
    session.commit()
    html = client.get(f"/sites/{world.site.id}").get_data(as_text=True)
    reason = re.search(r'data-testid="shuangwu-reason".*?</div>', html, re.S).group(0)
    assert re.findall(r"<li>(\S+) · ([^<]+)</li>", reason) == [
        (recent.isoformat(), "Fire"),
        (older.isoformat(), "Crime / public security"),
    ]
    assert "On record for less than a year" not in reason
    assert "厨房起火" not in html and "盗窃" not in html


def test_shuangwu_status_gives_both_reasons_and_the_day_the_badge_can_come(session, world):
    from community.places.queries import shuangwu_status

    site = make_site(
        session,
        area=world.community,
        created_at=datetime.combine(TODAY - timedelta(days=10), time(12)),
        last_incident_on=TODAY - timedelta(days=3),
    )
    status = shuangwu_status(site, TODAY)
    assert status.badge is False
    assert status.eligible_on == TODAY + timedelta(days=355)
    assert status.incident_on == TODAY - timedelta(days=3)
    assert shuangwu_status(world.site, TODAY).badge is True
