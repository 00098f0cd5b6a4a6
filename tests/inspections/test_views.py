"""Inspection pages: start, tick items in place (htmx) or by plain POST, complete, the
due list and the admission panel of the site page."""

from __future__ import annotations

import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from flask import render_template
from flask_babel import refresh
from sqlalchemy import func, select

from community.core.timeutil import today
from community.inspections.models import Inspection, InspectionResult
from community.inspections.panels import admission_panel
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import make_area_tree, make_org, make_role_user
from tests.factories.inspections import checklist, make_inspection
from tests.factories.places import make_site


@pytest.fixture
def world(session):
    district, street, community = make_area_tree(session)
    site = make_site(session, area=community, name="幸福公寓")
    session.commit()
    return SimpleNamespace(community=community, street=street, site=site)


@pytest.fixture
def as_role(session, login, world):
    """as_role(role) logs the client in as a new user with `role` covering the world's
    community (or `area`)."""

    def do(role, *, area=None, org=None):
        user = make_role_user(
            session,
            role,
            password=PASSWORD,
            org=org,
            area=None if org else (area or world.community),
        )
        session.commit()
        login(user.username)
        return user

    return do


def _token(client, path="/"):
    return csrf_from(client.get(path).get_data(as_text=True))


def _submission_token(html):
    return re.search(r'name="submission_token" type="hidden" value="([^"]+)"', html).group(1)


def _switch_to_english(client):
    client.post("/locale", data={"csrf_token": _token(client), "locale": "en", "next": "/"})
    # The test shares its app context with the requests, and Flask-Babel caches the
    # locale there: forget it, as a new request would.
    refresh()


def _start(client, site_id):
    token = _token(client)
    return client.post(f"/sites/{site_id}/inspections", data={"csrf_token": token})


def _open(session, world, police=None):
    inspection = make_inspection(session, site=world.site, inspector=police)
    session.commit()
    return inspection


def _tick(client, inspection_id, item_id, result="pass", note="", token=None):
    token = token or _token(client)
    return client.post(
        f"/inspections/{inspection_id}/items/{item_id}",
        data={"csrf_token": token, "result": result, "note": note},
    )


def test_police_starts_an_inspection_and_lands_on_the_checklist(client, session, world, as_role):
    as_role("police")
    resp = _start(client, world.site.id)
    assert resp.status_code == 303
    inspection = session.scalar(select(Inspection).where(Inspection.site_id == world.site.id))
    assert resp.headers["Location"].endswith(f"/inspections/{inspection.id}")
    page = client.get(resp.headers["Location"])
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    # The client reads English (tests/conftest.py): the English titles of the checklist.
    assert "Smart door access" in body and "No e-bikes indoors" in body
    assert body.count('name="result" required type="radio" value="pass"') == 8
    assert 'id="inspection-summary"' in body


def test_starting_twice_continues_the_open_inspection(client, session, world, as_role):
    as_role("coordinator")
    first = _start(client, world.site.id)
    second = _start(client, world.site.id)
    assert first.headers["Location"] == second.headers["Location"]
    count = session.scalar(
        select(func.count()).select_from(Inspection).where(Inspection.site_id == world.site.id)
    )
    assert count == 1


def test_double_submitted_start_form_creates_one_inspection(client, session, world, as_role):
    as_role("police")
    html = client.get("/").get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), "submission_token": "tok-start-1"}
    first = client.post(f"/sites/{world.site.id}/inspections", data=data)
    second = client.post(f"/sites/{world.site.id}/inspections", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]


def test_start_is_403_for_a_volunteer_who_sees_the_site(client, world, as_role):
    as_role("volunteer")
    assert _start(client, world.site.id).status_code == 403


def test_start_is_404_for_police_of_another_area(client, session, world, as_role):
    other = make_area_tree(session)[2]
    as_role("police", area=other)
    assert _start(client, world.site.id).status_code == 404


def test_checklist_titles_follow_the_language(client, session, world, as_role):
    as_role("police")
    inspection = _open(session, world)
    _switch_to_english(client)
    body = client.get(f"/inspections/{inspection.id}").get_data(as_text=True)
    assert "Smart door access" in body
    assert "智能门禁" not in body


def test_ticking_with_htmx_rerenders_the_row_and_signals_the_summary(
    client, htmx_client, session, world, as_role
):
    as_role("police")
    inspection = _open(session, world)
    item = checklist(session)[0]
    resp = _tick(htmx_client, inspection.id, item.id, "fail", "门禁坏了", token=_token(client))
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<html" not in body
    assert body.lstrip().startswith(f'<article id="item-{item.id}"')
    assert (
        f'checked id="item-{item.id}-result-fail" name="result" required type="radio" value="fail"'
        in body
    )
    assert "门禁坏了" in body
    assert resp.headers["HX-Trigger"] == "inspection-changed"
    assert "HX-Request" in resp.headers["Vary"]
    stored = session.scalar(
        select(InspectionResult).where(InspectionResult.inspection_id == inspection.id)
    )
    assert (stored.result, stored.note) == ("fail", "门禁坏了")


def test_summary_region_refreshes_as_a_fragment(client, htmx_client, session, world, as_role):
    as_role("police")
    inspection = _open(session, world)
    page = client.get(f"/inspections/{inspection.id}").get_data(as_text=True)
    # the summary listens to the event the tick sends, and asks the same URL
    assert 'hx-trigger="inspection-changed from:body"' in page
    assert f'hx-get="/inspections/{inspection.id}"' in page
    items = checklist(session)
    _tick(client, inspection.id, items[0].id, "pass")
    _tick(client, inspection.id, items[1].id, "fail")
    _tick(client, inspection.id, items[2].id, "na")
    resp = htmx_client.get(f"/inspections/{inspection.id}")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<html" not in body
    assert body.lstrip().startswith('<section id="inspection-summary"')
    assert '<strong data-count="passed">1</strong>' in body
    assert '<strong data-count="failed">1</strong>' in body
    assert '<strong data-count="na">1</strong>' in body
    assert '<strong data-count="unanswered">5</strong>' in body
    assert "HX-Request" in resp.headers["Vary"]


def test_ticking_without_javascript_redirects_back_to_the_item(client, session, world, as_role):
    as_role("police")
    inspection = _open(session, world)
    item = checklist(session)[1]
    resp = _tick(client, inspection.id, item.id, "pass")
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/inspections/{inspection.id}#item-{item.id}")
    body = client.get(f"/inspections/{inspection.id}").get_data(as_text=True)
    assert (
        f'checked id="item-{item.id}-result-pass" name="result" required type="radio" value="pass"'
        in body
    )


def test_tick_without_a_result_is_422_in_place_and_as_a_page(
    client, htmx_client, session, world, as_role
):
    as_role("police")
    inspection = _open(session, world)
    item = checklist(session)[0]
    token = _token(client)
    resp = htmx_client.post(
        f"/inspections/{inspection.id}/items/{item.id}",
        data={"csrf_token": token, "note": "kept"},
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert body.lstrip().startswith(f'<article id="item-{item.id}"')
    assert 'class="error"' in body and 'value="kept"' in body
    resp = client.post(
        f"/inspections/{inspection.id}/items/{item.id}",
        data={"csrf_token": token, "result": "maybe"},
    )
    assert resp.status_code == 422
    assert "<html" in resp.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(InspectionResult)) == 0


def test_ticking_an_inactive_or_unknown_item_is_404(client, session, world, as_role):
    as_role("police")
    inspection = _open(session, world)
    assert _tick(client, inspection.id, 999_999).status_code == 404


def test_tick_is_403_for_the_landlord_who_can_read_the_inspection(client, session, world, as_role):
    landlord = as_role("landlord")
    world.site.landlord_id = landlord.id
    inspection = make_inspection(
        session, site=world.site, results={"cctv": "fail"}, completed=False
    )
    session.commit()
    page = client.get(f"/inspections/{inspection.id}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "hx-post" not in body  # read only: no item forms, no complete button
    assert "/complete" not in body
    assert _tick(client, inspection.id, checklist(session)[0].id).status_code == 403


def test_inspection_page_is_404_outside_scope(client, session, world, as_role):
    as_role("landlord")  # not this site's landlord
    inspection = _open(session, world)
    assert client.get(f"/inspections/{inspection.id}").status_code == 404


def test_complete_with_unanswered_required_items_is_422_with_a_message(
    client, htmx_client, session, world, as_role
):
    as_role("police")
    inspection = _open(session, world)
    _tick(client, inspection.id, checklist(session)[0].id, "pass")
    token = _token(client)
    resp = client.post(f"/inspections/{inspection.id}/complete", data={"csrf_token": token})
    assert resp.status_code == 422
    assert "7" in re.search(r'class="error" role="alert">([^<]+)<', resp.get_data(as_text=True))[1]
    resp = htmx_client.post(f"/inspections/{inspection.id}/complete", data={"csrf_token": token})
    assert resp.status_code == 422
    assert resp.get_data(as_text=True).lstrip().startswith('<section id="inspection-summary"')
    session.expire_all()
    assert session.get(Inspection, inspection.id).status == "open"


def test_completing_a_passing_inspection_admits_the_site(client, session, world, as_role):
    police = as_role("police")
    inspection = _open(session, world)
    token = _token(client)
    for item in checklist(session):
        _tick(client, inspection.id, item.id, "pass", token=token)
    resp = client.post(f"/inspections/{inspection.id}/complete", data={"csrf_token": token})
    assert resp.status_code == 303
    body = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "hx-post" not in body  # read only now
    session.expire_all()
    site = world.site
    assert site.admitted_on == today() and site.last_inspected_on == today()
    done = session.get(Inspection, inspection.id)
    assert done.passed is True and done.inspector_id == police.id


def test_completing_with_htmx_sends_the_client_to_the_page(
    client, htmx_client, session, world, as_role
):
    as_role("police")
    inspection = make_inspection(session, site=world.site, results={"cctv": "fail"})
    for item in checklist(session):
        if item.code != "cctv":
            session.add(
                InspectionResult(inspection_id=inspection.id, item_id=item.id, result="pass")
            )
    world.site.admitted_on = date(2024, 1, 1)
    session.commit()
    resp = htmx_client.post(
        f"/inspections/{inspection.id}/complete", data={"csrf_token": _token(client)}
    )
    assert resp.status_code == 200
    assert resp.headers["HX-Location"] == f"/inspections/{inspection.id}"
    session.expire_all()
    assert world.site.admitted_on is None  # failed: flagged


def test_completed_inspection_refuses_ticks_with_409(client, session, world, as_role):
    as_role("police")
    inspection = make_inspection(session, site=world.site, results="pass", completed=True)
    session.commit()
    item = checklist(session)[0]
    refused = _tick(client, inspection.id, item.id, "fail")
    assert refused.status_code == 409  # the service's Conflict, answered by submit()
    assert "its answers can no longer change" in refused.get_data(as_text=True)
    # Input is checked first, as on every form: no answer is a 422, whatever the state.
    assert _tick(client, inspection.id, item.id, "").status_code == 422
    token = _token(client)
    resp = client.post(f"/inspections/{inspection.id}/complete", data={"csrf_token": token})
    assert resp.status_code == 409


# --- due list -----------------------------------------------------------------


def _overdue_site(session, area, name, days=100):
    return make_site(
        session,
        area=area,
        name=name,
        admitted_on=date(2020, 1, 1),
        stars=5,
        last_inspected_on=today() - timedelta(days=days),
    )


def test_due_list_shows_overdue_and_soon_due_sites_of_the_users_area(
    client, session, world, as_role
):
    other = make_area_tree(session)[2]
    _overdue_site(session, world.community, "逾期公寓", days=100)  # overdue by 10 days
    _overdue_site(session, world.community, "将到期公寓", days=85)  # due in 5 days
    _overdue_site(session, world.community, "不到期公寓", days=10)
    _overdue_site(session, other, "别区公寓")
    session.commit()
    as_role("police")
    resp = client.get("/inspections/due")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "逾期公寓" in body and "将到期公寓" in body
    assert "幸福公寓" in body  # never inspected: due now
    assert "不到期公寓" not in body and "别区公寓" not in body
    assert body.index("幸福公寓") < body.index("逾期公寓") < body.index("将到期公寓")


def test_due_list_says_overdue_by_and_due_in_days(client, session, world, as_role):
    _overdue_site(session, world.community, "overdue", days=100)
    _overdue_site(session, world.community, "soon", days=85)
    session.commit()
    as_role("police")
    _switch_to_english(client)
    body = client.get("/inspections/due").get_data(as_text=True)
    assert "overdue by 10 days" in body
    assert "due in 5 days" in body
    assert "never inspected" in body


def test_association_sees_only_its_members_sites_on_the_due_list(client, session, world, as_role):
    association = make_org(session, kind="landlord_association", area=world.community)
    member = _overdue_site(session, world.community, "会员公寓")
    member.association_id = association.id
    session.commit()
    as_role("association", org=association)
    body = client.get("/inspections/due").get_data(as_text=True)
    assert "会员公寓" in body
    assert "幸福公寓" not in body


@pytest.mark.parametrize("role", ["landlord", "volunteer", "property_manager", "enterprise"])
def test_due_list_is_403_for_other_roles(client, world, as_role, role):
    as_role(role)
    assert client.get("/inspections/due").status_code == 403


def test_due_list_pages(client, session, world, as_role):
    for n in range(30):
        _overdue_site(session, world.community, f"site-{n:02d}", days=100 + n)
    session.commit()
    as_role("police")
    first = client.get("/inspections/due").get_data(as_text=True)
    assert 'rel="next"' in first
    second = client.get("/inspections/due?page=2").get_data(as_text=True)
    assert 'rel="prev"' in second
    assert second.count('<tr id="due-site-') == 31 - 25


def test_due_list_query_budget_does_not_grow_with_rows(
    client, session, world, as_role, count_queries
):
    as_role("police")
    for n in range(3):
        _overdue_site(session, world.community, f"a-{n}")
    session.commit()
    with count_queries() as small:
        assert client.get("/inspections/due").status_code == 200
    for n in range(20):
        _overdue_site(session, world.community, f"b-{n}")
    session.commit()
    with count_queries() as large:
        body = client.get("/inspections/due").get_data(as_text=True)
    assert body.count('<tr id="due-site-') == 24
    assert large.count == small.count
    assert large.count <= 8


# --- site-page panel ---------------------------------------------------------------


def _render_panel(app, session, user, site, panel_fn, template):
    with app.test_request_context("/"):
        panel = panel_fn(session, user, site)
        return render_template(template, panel=panel, site=site)


def test_admission_panel_shows_status_due_date_history_and_start_button(app, session, world):
    police = make_role_user(session, "police", area=world.community)
    site = world.site
    make_inspection(
        session,
        site=site,
        inspector=police,
        inspected_on=today() - timedelta(days=100),
        results="pass",
        completed=True,
    )
    make_inspection(
        session,
        site=site,
        inspector=police,
        inspected_on=today() - timedelta(days=40),
        results={"cctv": "fail"},
        completed=True,
    )
    session.commit()
    html = _render_panel(
        app, session, police, site, admission_panel, "inspections/_panel_admission.html"
    )
    assert html.lstrip().startswith('<section id="panel-admission"')
    assert 'class="badge badge-warn"' in html  # flagged: the last inspection failed
    due = (today() - timedelta(days=40) + timedelta(days=14)).isoformat()
    assert due in html
    assert html.count('<tr id="inspection-') == 2
    first, second = re.findall(r'<tr id="inspection-(\d+)"', html)
    assert int(first) > int(second)  # newest first
    assert f'action="/sites/{site.id}/inspections"' in html


def test_admission_panel_has_no_start_button_for_a_landlord(app, session, world):
    landlord = make_role_user(session, "landlord", area=world.community)
    world.site.landlord_id = landlord.id
    world.site.admitted_on = date(2024, 5, 1)
    session.commit()
    html = _render_panel(
        app, session, landlord, world.site, admission_panel, "inspections/_panel_admission.html"
    )
    assert "2024-05-01" in html
    assert '/inspections"' not in html


def test_admission_panel_links_to_the_open_inspection(app, session, world):
    police = make_role_user(session, "police", area=world.community)
    inspection = _open(session, world)
    html = _render_panel(
        app, session, police, world.site, admission_panel, "inspections/_panel_admission.html"
    )
    assert f'href="/inspections/{inspection.id}" role="button"' in html


def test_site_page_shows_the_admission_panel_and_starts_an_inspection(
    client, session, world, as_role
):
    as_role("police")
    page = client.get(f"/sites/{world.site.id}").get_data(as_text=True)
    assert 'id="panel-admission"' in page
    html = page[page.index('id="panel-admission"') :]
    token = re.search(r'name="submission_token" type="hidden" value="([^"]+)"', html)[1]
    resp = client.post(
        f"/sites/{world.site.id}/inspections",
        data={"csrf_token": csrf_from(page), "submission_token": token},
    )
    assert resp.status_code == 303
    page = client.get(f"/sites/{world.site.id}").get_data(as_text=True)
    assert "/inspections/" in page and 'role="button"' in page  # continue the open one


def test_completing_lands_on_the_inspection_page_so_a_reload_is_harmless(
    client, session, world, as_role
):
    """After completing, the address is the inspection page (303), not /complete:
    reloading shows the page instead of 405."""
    as_role("police")
    inspection = _open(session, world)
    token = _token(client)
    for item in checklist(session):
        _tick(client, inspection.id, item.id, "pass", token=token)
    resp = client.post(f"/inspections/{inspection.id}/complete", data={"csrf_token": token})
    assert resp.status_code == 303
    assert resp.headers["Location"] == f"/inspections/{inspection.id}"
    again = client.get(resp.headers["Location"])
    assert again.status_code == 200 and "passed" in again.get_data(as_text=True).lower()
