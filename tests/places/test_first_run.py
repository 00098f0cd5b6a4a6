"""First run and empty states: a new landlord's start page, the new-site form's
single choices, empty lists that say what to do next, and the building page's
residents summary following the rooms."""

from __future__ import annotations

import re

from community.accounts.models import User
from tests.conftest import csrf_from
from tests.factories.accounts import make_role_user
from tests.factories.places import make_application, make_building, make_room, make_site
from tests.places.conftest import submission_token


def _section(html: str, section_id: str) -> str | None:
    found = re.search(rf'<section id="{section_id}".*?</section>', html, re.S)
    return found.group(0) if found else None


def test_a_new_landlord_is_offered_the_first_site_and_the_next_steps(
    client, session, login_as, world
):
    me = login_as("landlord", area=world.east)
    resp = client.get("/")
    assert resp.status_code == 200
    section = _section(resp.get_data(as_text=True), "start-first-site")
    assert section is not None
    assert 'href="/sites/new"' in section and "Register your first site" in section
    steps = re.findall(r"<li>(.*?)</li>", section, re.S)
    assert "buildings and rooms" in steps[0] and "within 3 days" in steps[1]
    assert "star assessment" in steps[2]
    # Not a member of an association yet: the last step points at the association page.
    assert 'href="/associations/"' in section

    make_application(
        session,
        landlord=session.get(User, me["id"]),
        association=world.association,
        status="approved",
    )
    session.commit()
    section = _section(client.get("/").get_data(as_text=True), "start-first-site")
    assert section is not None and 'href="/associations/"' not in section

    make_site(session, area=world.east, landlord=session.get(User, me["id"]))
    session.commit()
    assert _section(client.get("/").get_data(as_text=True), "start-first-site") is None


def test_the_first_site_section_is_only_for_those_who_would_run_a_site(client, session, world):
    """A landlord sees it (the control); a volunteer or a police officer, who run no site, never."""
    from tests.conftest import PASSWORD

    seen = {}
    for role, org in (("landlord", None), ("volunteer", None), ("police", world.police_station)):
        kwargs = {"org": org} if org else {"area": world.east}
        user = make_role_user(session, role, password=PASSWORD, **kwargs)
        session.commit()
        fresh = client.application.test_client()
        token = csrf_from(fresh.get("/login").get_data(as_text=True))
        fresh.post(
            "/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token}
        )
        seen[role] = 'id="start-first-site"' in fresh.get("/").get_data(as_text=True)
    assert seen == {"landlord": True, "volunteer": False, "police": False}


def test_the_new_site_form_preselects_a_choice_with_one_option(client, session, login_as, world):
    """The landlord's one community and the one association they belong to are chosen;
    the optional property company is left to them."""
    me = login_as("landlord", area=world.east)
    make_application(
        session,
        landlord=session.get(User, me["id"]),
        association=world.association,
        status="approved",
    )
    session.commit()
    html = client.get("/sites/new").get_data(as_text=True)
    area = re.search(r'<select[^>]*name="area_id".*?</select>', html, re.S).group(0)
    assert re.search(rf'<option selected value="{world.east.id}">', area)
    association = re.search(r'<select[^>]*name="association_id".*?</select>', html, re.S).group(0)
    assert re.search(rf'<option selected value="{world.association.id}">', association)
    company = re.search(r'<select[^>]*name="company_id".*?</select>', html, re.S).group(0)
    assert re.findall(r"<option selected value=\"([^\"]*)\"", company) == [""]


def test_empty_lists_say_what_to_do_next(client, session, login_as, world):
    me = login_as("landlord", area=world.east)
    sites = client.get("/sites/").get_data(as_text=True)
    results = _section(sites, "site-results")
    assert "No sites yet." in results and 'href="/sites/new"' in results
    searched = _section(client.get("/sites/?q=nothing").get_data(as_text=True), "site-results")
    assert "No sites match." in searched and 'href="/sites/"' in searched

    site = make_site(session, area=world.east, landlord=session.get(User, me["id"]))
    session.commit()
    page = client.get(f"/sites/{site.id}").get_data(as_text=True)
    assert "No buildings yet. Add the first one below" in _section(page, "buildings")
    building = make_building(session, site=site)
    session.commit()
    page = client.get(f"/buildings/{building.id}").get_data(as_text=True)
    assert "No rooms yet. Add each room below" in _section(page, "rooms")


def test_the_building_residents_summary_follows_the_rooms(
    client, htmx_client, session, login_as, world
):
    """The panels listen to room-added and room-saved and reload with a GET: after a
    room is added in place, the summary counts its people (no reload of the page)."""
    me = login_as("landlord", area=world.east)
    site = make_site(session, area=world.east, landlord=session.get(User, me["id"]))
    building = make_building(session, site=site, name="1号楼")
    make_room(session, building=building, number="101", beds=2, occupants=1)
    session.commit()
    html = client.get(f"/buildings/{building.id}").get_data(as_text=True)
    panels = re.search(r'<div id="building-panels"[^>]*>', html).group(0)
    assert f'hx-get="/buildings/{building.id}/panels"' in panels
    assert "room-added from:body" in panels and "room-saved from:body" in panels
    assert "1 verified" not in html and "0 verified of 1 counted" in html

    added = htmx_client.post(
        f"/buildings/{building.id}/rooms",
        data={
            "number": "102",
            "beds": "4",
            "occupants": "3",
            "csrf_token": csrf_from(html),
            "submission_token": submission_token(html),
        },
    )
    assert added.status_code == 200 and added.headers["HX-Trigger"] == "room-added"
    resp = htmx_client.get(f"/buildings/{building.id}/panels")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="building-panels"')
    assert "0 verified of 4 counted" in body and "Export ledger" in body
    assert "HX-Request" in resp.headers.get("Vary", "")
    # Without htmx the same address is the whole page.
    full = client.get(f"/buildings/{building.id}/panels").get_data(as_text=True)
    assert "<html" in full and "0 verified of 4 counted" in full


def test_an_association_without_members_says_how_landlords_join(client, login_as, world):
    login_as("association", org=world.association)
    html = client.get("/associations/").get_data(as_text=True)
    assert "No members yet. Landlords of the community apply on this page" in html


def test_an_empty_hazard_list_says_where_hazards_are_reported(client, login_as, world):
    login_as("landlord", area=world.east)
    html = client.get("/hazards/").get_data(as_text=True)
    assert "No hazards here. A hazard found at a site is reported from the site's page" in html


def test_a_landlord_is_told_who_inspects_a_site_not_inspected_yet(client, session, login_as, world):
    me = login_as("landlord", area=world.east)
    site = make_site(session, area=world.east, landlord=session.get(User, me["id"]))
    session.commit()
    html = client.get(f"/sites/{site.id}").get_data(as_text=True)
    assert "No inspections yet. The community police inspect the site" in html
