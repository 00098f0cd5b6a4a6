"""Site list, registration and editing, the site page with its panels."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import func, select

from community.core.timeutil import today, utcnow
from community.places.models import Site
from community.places.panels import Panel
from tests.conftest import csrf_from
from tests.factories.places import make_application, make_building, make_room, make_site
from tests.places.conftest import submission_token


def _options(html, name):
    """The option values of the <select name=...> in the page."""
    select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return set(re.findall(r'value="([^"]*)"', select_html))


def _count_sites(session, **where):
    stmt = select(func.count()).select_from(Site)
    for key, value in where.items():
        stmt = stmt.where(getattr(Site, key) == value)
    return session.scalar(stmt)


# --- list ----------------------------------------------------------------------------


def test_site_list_full_page_shows_stars_and_badges(client, login_as, session, world):
    login_as("police", org=world.police_station)
    make_site(
        session,
        area=world.east,
        name="星级房",
        stars=4,
        admitted_on=today(),
        created_at=utcnow() - timedelta(days=400),
    )
    make_site(session, area=world.east, name="新房", last_incident_on=today())
    session.commit()
    resp = client.get("/sites/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" in html
    assert "星级房" in html and "新房" in html
    assert "★★★★" in html
    row = re.search(r'<tr id="site-\d+" class="not-admitted">.*?</tr>', html, re.S).group(0)
    assert "新房" in row and 'data-badge="not-admitted"' in row and "双无" not in row
    admitted_row = html[html.index("星级房") :].split("</tr>")[0]
    assert 'data-badge="shuangwu"' in admitted_row and "not-admitted" not in admitted_row
    assert 'hx-trigger="input changed delay:300ms, change, submit"' in html
    assert 'hx-push-url="true"' in html and 'hx-target="#site-results"' in html


def test_live_search_returns_only_the_results_block(htmx_client, login_as, session, world):
    login_as("police", org=world.police_station)
    make_site(session, area=world.east, name="河边公寓", address="河边路1号")
    make_site(session, area=world.east, name="山上小屋", address="山路2号")
    session.commit()
    resp = htmx_client.get("/sites/?q=河边")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<html" not in body and body.lstrip().startswith('<section id="site-results"')
    assert "河边公寓" in body and "山上小屋" not in body
    assert "HX-Request" in resp.headers["Vary"]


def test_filters_in_the_query_string_give_a_shareable_page(client, login_as, session, world):
    login_as("police", org=world.police_station)
    make_site(session, area=world.east, name="五星宿舍", kind="dormitory", stars=5)
    make_site(session, area=world.east, name="三星宿舍", kind="dormitory", stars=3)
    make_site(session, area=world.east, name="五星小区", kind="compound", stars=5)
    session.commit()
    html = client.get(f"/sites/?kind=dormitory&stars=5&area_id={world.east.id}").get_data(
        as_text=True
    )
    assert "五星宿舍" in html and "三星宿舍" not in html and "五星小区" not in html
    # The form shows the filters that are active.
    assert '<option value="dormitory" selected>' in html
    assert '<option value="5" selected>' in html


@pytest.mark.parametrize(
    "query",
    [
        "stars=abc",
        "page=-1",
        "page=abc",
        "area_id=x",
        "area_id=99999999999999999999",
        "kind=castle",
        "admitted=2",
        "page=99999",
    ],
)
def test_bad_filter_values_are_ignored_with_200(client, login_as, session, world, query):
    login_as("police", org=world.police_station)
    make_site(session, area=world.east, name="照常显示")
    session.commit()
    resp = client.get(f"/sites/?{query}")
    assert resp.status_code == 200
    assert "照常显示" in resp.get_data(as_text=True)


def test_an_overlong_search_is_a_search_that_finds_nothing(client, login_as, world):
    login_as("police", org=world.police_station)
    resp = client.get("/sites/?q=" + "长" * 500)
    assert resp.status_code == 200
    assert 'id="site-results"' in resp.get_data(as_text=True)


def test_list_pages_by_25(client, login_as, session, world):
    login_as("police", org=world.police_station)
    for i in range(30):
        make_site(session, area=world.east, name=f"第{i:02d}号")
    session.commit()
    first = client.get("/sites/").get_data(as_text=True)
    assert ">第24号<" in first and ">第25号<" not in first
    assert 'rel="next"' in first
    second = client.get("/sites/?page=2").get_data(as_text=True)
    assert ">第25号<" in second and ">第29号<" in second and ">第00号<" not in second
    assert 'rel="prev"' in second


def test_pager_links_keep_the_filters(client, login_as, session, world):
    login_as("police", org=world.police_station)
    for i in range(27):
        make_site(session, area=world.east, name=f"宿舍{i:02d}", kind="dormitory")
    session.commit()
    html = client.get("/sites/?kind=dormitory").get_data(as_text=True)
    link = re.search(r'href="([^"]+)" rel="next"', html).group(1)
    assert "kind=dormitory" in link and "page=2" in link


def test_landlord_sees_only_their_sites(client, login_as, session, world):
    me = login_as("landlord", area=world.east)
    make_site(
        session,
        area=world.east,
        name="我的房子",
        landlord=session.get_one_user(me) if False else None,
    )
    session.commit()
    from community.accounts.models import User

    owner = session.get(User, me["id"])
    make_site(session, area=world.east, name="真正我的", landlord=owner)
    session.commit()
    html = client.get("/sites/").get_data(as_text=True)
    assert "真正我的" in html and "我的房子" not in html


def test_site_list_uses_a_fixed_number_of_queries(client, login_as, session, world, count_queries):
    login_as("police", org=world.police_station)

    def measure():
        with count_queries() as q:
            assert client.get("/sites/?q=site").status_code == 200
        return q.count

    make_site(session, area=world.east, name="site-a", company=world.company)
    session.commit()
    small = measure()
    for i in range(20):
        make_site(session, area=world.west if i % 2 else world.east, name=f"site-{i}")
    session.commit()
    assert measure() == small


# --- registering and editing -----------------------------------------------------------


def test_landlord_registers_a_site_without_javascript(client, login_as, session, world):
    me = login_as("landlord", area=world.east)
    html = client.get("/sites/new").get_data(as_text=True)
    assert 'name="landlord_username"' not in html  # only police and admins name a landlord
    resp = client.post(
        "/sites/new",
        data={
            "name": "幸福出租屋",
            "kind": "rental_house",
            "area_id": world.east.id,
            "address": "东村路3号",
            "association_id": "",
            "company_id": "",
            "csrf_token": csrf_from(html),
            "submission_token": submission_token(html),
        },
    )
    assert resp.status_code == 303
    site = session.scalar(select(Site).where(Site.name == "幸福出租屋"))
    assert resp.headers["Location"].endswith(f"/sites/{site.id}")
    assert site.landlord_id == me["id"] and site.area_id == world.east.id


def test_double_submitted_site_form_registers_one_site(client, login_as, session, world):
    login_as("landlord", area=world.east)
    html = client.get("/sites/new").get_data(as_text=True)
    data = {
        "name": "只有一个",
        "kind": "rental_house",
        "area_id": world.east.id,
        "address": "东村路4号",
        "csrf_token": csrf_from(html),
        "submission_token": submission_token(html),
    }
    first = client.post("/sites/new", data=data)
    second = client.post("/sites/new", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert _count_sites(session, name="只有一个") == 1


def test_invalid_site_is_422_with_the_message_on_the_field(
    client, login_as, english, session, world
):
    login_as("landlord", area=world.east)
    english()
    html = client.get("/sites/new").get_data(as_text=True)
    # west is not offered to this landlord, so it is not a valid choice
    assert str(world.west.id) not in _options(html, "area_id")
    resp = client.post(
        "/sites/new",
        data={
            "name": "",
            "kind": "rental_house",
            "area_id": world.west.id,
            "address": "x",
            "association_id": world.association.id,
            "csrf_token": csrf_from(html),
        },
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'id="name" ' in body and 'aria-invalid="true"' in body
    assert "Not a valid choice" in body
    assert _count_sites(session) == 0


def test_association_choice_needs_membership(client, login_as, english, session, world):
    me = login_as("landlord", area=world.east)
    english()
    html = client.get("/sites/new").get_data(as_text=True)
    assert str(world.association.id) not in _options(html, "association_id")
    from community.accounts.models import User

    make_application(
        session,
        landlord=session.get(User, me["id"]),
        association=world.association,
        status="approved",
    )
    session.commit()
    html = client.get("/sites/new").get_data(as_text=True)
    assert str(world.association.id) in _options(html, "association_id")
    resp = client.post(
        "/sites/new",
        data={
            "name": "协会房",
            "kind": "rental_house",
            "area_id": world.east.id,
            "address": "东村路5号",
            "association_id": world.association.id,
            "csrf_token": csrf_from(html),
        },
    )
    assert resp.status_code == 303
    assert _count_sites(session, association_id=world.association.id) == 1


def test_police_register_a_site_for_a_landlord(client, login_as, english, session, world):
    police = login_as("police", org=world.police_station)
    english()
    html = client.get("/sites/new").get_data(as_text=True)
    assert 'name="landlord_username"' in html
    data = {
        "name": "民警登记",
        "kind": "rental_apartment",
        "area_id": world.east.id,
        "address": "东村路6号",
        "association_id": world.association.id,
        "company_id": world.company.id,
        "landlord_username": "nobody",
        "csrf_token": csrf_from(html),
    }
    resp = client.post("/sites/new", data=data)
    assert resp.status_code == 422
    refusal = "No landlord of your area has this username."
    assert refusal in resp.get_data(as_text=True)
    # A landlord of another district, and a user who is no landlord: the same message.
    for other in (world.west_landlord.username, police["username"]):
        data["landlord_username"] = other
        resp = client.post("/sites/new", data=data)
        assert resp.status_code == 422 and refusal in resp.get_data(as_text=True)
    data["landlord_username"] = world.landlord.username
    assert client.post("/sites/new", data=data).status_code == 303
    site = session.scalar(select(Site).where(Site.name == "民警登记"))
    assert (site.landlord_id, site.company_id, site.association_id) == (
        world.landlord.id,
        world.company.id,
        world.association.id,
    )


def test_property_manager_form_defaults_to_their_company(client, login_as, session, world):
    login_as("property_manager", org=world.company)
    html = client.get("/sites/new").get_data(as_text=True)
    assert (
        f'<option selected value="{world.company.id}">' in html
        or re.search(rf'<option[^>]*value="{world.company.id}"[^>]*selected', html)
        or f'<option value="{world.company.id}" selected' in html
    )
    assert f'value="{world.other_company.id}"' not in html


def test_owner_edits_the_site(client, login_as, session, world):
    from community.accounts.models import User

    me = login_as("landlord", area=world.east)
    site = make_site(session, area=world.east, landlord=session.get(User, me["id"]), name="旧名")
    session.commit()
    html = client.get(f"/sites/{site.id}/edit").get_data(as_text=True)
    assert 'value="旧名"' in html
    resp = client.post(
        f"/sites/{site.id}/edit",
        data={
            "name": "新名",
            "kind": "rental_apartment",
            "area_id": world.east.id,
            "address": "新址",
            "csrf_token": csrf_from(html),
        },
    )
    assert resp.status_code == 303
    session.expire_all()
    assert session.get(Site, site.id).name == "新名"


@pytest.mark.parametrize("role,status", [("coordinator", 403), ("volunteer", 403)])
def test_area_roles_see_but_do_not_edit(client, login_as, session, world, role, status):
    org = world.office if role == "coordinator" else None
    login_as(role, org=org, area=world.east if org is None else None)
    site = make_site(session, area=world.east, name="看得见")
    session.commit()
    assert client.get(f"/sites/{site.id}").status_code == 200
    assert client.get(f"/sites/{site.id}/edit").status_code == status


def test_another_landlords_site_is_404(client, login_as, session, world):
    login_as("landlord", area=world.east)
    site = make_site(session, area=world.east, landlord=world.landlord)
    session.commit()
    assert client.get(f"/sites/{site.id}").status_code == 404
    assert client.get(f"/sites/{site.id}/edit").status_code == 404
    assert client.get("/sites/999999").status_code == 404
    # Beyond the database's integer range: still a plain 404.
    assert client.get("/sites/99999999999999999999").status_code == 404
    assert client.get("/buildings/99999999999999999999").status_code == 404


# --- site page ---------------------------------------------------------------------------


def test_site_page_shows_details_badges_and_buildings(client, login_as, session, world):
    login_as("police", org=world.police_station)
    site = make_site(
        session,
        area=world.east,
        landlord=world.landlord,
        company=world.company,
        name="详情房",
        stars=2,
        last_incident_on=today() - timedelta(days=30),
    )
    building = make_building(session, site=site, name="北楼")
    make_room(session, building=building, beds=3, occupants=2)
    make_room(session, building=building, beds=1, occupants=1)
    session.commit()
    html = client.get(f"/sites/{site.id}").get_data(as_text=True)
    assert "详情房" in html and world.company.name in html and world.landlord.display_name in html
    assert 'data-badge="not-admitted"' in html and 'data-badge="shuangwu"' not in html
    assert 'data-stars="2"' in html
    row = re.search(r'<tr id="building-\d+">(.*?)</tr>', html, re.S).group(1)
    assert "北楼" in row and re.findall(r"<td[^>]*>(\d+)</td>", row) == ["2", "4", "3"]
    assert f'href="/sites/{site.id}/poster"' in html


def test_site_page_includes_the_registered_panels(
    app, client, login_as, session, world, monkeypatch
):
    login_as("police", org=world.police_station)
    site = make_site(session, area=world.east, name="面板房")
    session.commit()
    seen = []

    def panels(db_session, user, shown):
        seen.append((user.id, shown.id))
        return [Panel(template="test/panel.html", context={"word": "panel-word"})]

    monkeypatch.setattr("community.places.views.site_panels", panels)
    original = app.jinja_env.loader
    app.jinja_env.loader = ChoiceLoader(
        [
            DictLoader(
                {
                    "test/panel.html": (
                        '<section id="test-panel">'
                        "{{ panel.context.word }} {{ site.name }}</section>"
                    )
                }
            ),
            original,
        ]
    )
    try:
        html = client.get(f"/sites/{site.id}").get_data(as_text=True)
    finally:
        app.jinja_env.loader = original
        app.jinja_env.cache.clear()
    assert '<section id="test-panel">panel-word 面板房</section>' in html
    assert seen == [(seen[0][0], site.id)]


def test_site_page_uses_a_fixed_number_of_queries(client, login_as, session, world, count_queries):
    login_as("police", org=world.police_station)
    site = make_site(session, area=world.east, landlord=world.landlord, company=world.company)
    make_building(session, site=site)
    session.commit()

    def measure():
        with count_queries() as q:
            assert client.get(f"/sites/{site.id}").status_code == 200
        return q.count

    small = measure()
    for _ in range(6):
        building = make_building(session, site=site)
        for _ in range(4):
            make_room(session, building=building)
    session.commit()
    assert measure() == small


# --- escaping ---------------------------------------------------------------------------

XSS = "<script>alert(1)</script>"


def test_a_hostile_site_name_is_shown_as_text_everywhere(
    client, htmx_client, login_as, session, world
):
    login_as("admin")
    site = make_site(session, area=world.east, name=XSS, address=XSS, landlord=world.landlord)
    building = make_building(session, site=site, name=XSS)
    room = make_room(session, building=building, number="<b>1</b>")
    make_application(
        session, landlord=world.landlord, association=world.association, status="approved"
    )
    site.association_id = world.association.id
    session.commit()
    pages = [
        client.get("/sites/"),
        htmx_client.get("/sites/?q=script"),
        client.get(f"/sites/{site.id}"),
        client.get(f"/sites/{site.id}/edit"),
        client.get(f"/buildings/{building.id}"),
        htmx_client.get(f"/rooms/{room.id}/edit"),
        client.get(f"/sites/{site.id}/poster"),
        client.get(f"/plaque/{site.qr_token}"),
        client.get("/associations/"),
    ]
    for resp in pages:
        body = resp.get_data(as_text=True)
        assert resp.status_code == 200, resp.request.path
        assert XSS not in body and "<b>1</b>" not in body, resp.request.path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[2].get_data(as_text=True)
    assert "&lt;script&gt;" in pages[7].get_data(as_text=True)
    assert "&lt;script&gt;" in pages[8].get_data(as_text=True)


# --- fragments alone --------------------------------------------------------------------


def test_site_fragments_render_alone(app, session, world):
    from community.core.htmx import render_block
    from community.core.pagination import Page
    from community.places.forms import BuildingForm, SiteForm
    from community.places.queries import SiteFilters

    site = make_site(session, area=world.east, name="片段房")
    with app.test_request_context("/sites/"):
        results = render_block(
            "places/index.html",
            "results",
            page=Page(items=[site], page=1, per_page=25, total=1),
            filters=SiteFilters(),
        )
        buildings = render_block(
            "places/show.html",
            "buildings",
            site=site,
            buildings=[],
            building_form=BuildingForm(formdata=None),
            can_manage=True,
        )
        form = SiteForm(formdata=None)
        form.area_id.choices = form.company_id.choices = form.association_id.choices = []
        site_form = render_block("places/form.html", "site_form", form=form, site=None)
    assert results.lstrip().startswith('<section id="site-results"') and "片段房" in results
    assert (
        buildings.lstrip().startswith('<section id="buildings"')
        and 'id="building-form"' in buildings
    )
    assert site_form.lstrip().startswith('<form id="site-form"')


def test_an_enterprise_sees_the_dormitory_registered_as_its_own(
    client, login_as, english, session, world
):
    """Police name the enterprise of a dormitory; its HR staff then open the site (no
    longer a 404 "not in your jurisdiction"), and other enterprises still cannot."""
    police = login_as("police", org=world.police_station)
    english()
    html = client.get("/sites/new").get_data(as_text=True)
    assert 'name="enterprise_id"' in html
    data = {
        "name": "员工宿舍",
        "kind": "dormitory",
        "area_id": world.east.id,
        "address": "创业路9号",
        "enterprise_id": world.enterprise.id,
        "csrf_token": csrf_from(html),
    }
    assert client.post("/sites/new", data=data).status_code == 303
    site = session.scalar(select(Site).where(Site.name == "员工宿舍"))
    assert site.enterprise_id == world.enterprise.id
    # Only a dormitory belongs to an enterprise.
    data.update(name="普通出租屋", kind="rental_house")
    resp = client.post("/sites/new", data=data)
    assert resp.status_code == 422 and "Only a dormitory" in resp.get_data(as_text=True)
    assert police


def test_enterprise_staff_open_their_dormitory_and_only_theirs(client, login_as, session, world):
    login_as("enterprise", org=world.enterprise)
    ours = make_site(session, area=world.east, kind="dormitory", name="我们的宿舍")
    ours.enterprise_id = world.enterprise.id
    theirs = make_site(session, area=world.east, kind="dormitory", name="别家的宿舍")
    session.commit()
    assert client.get(f"/sites/{ours.id}").status_code == 200
    assert client.get(f"/sites/{theirs.id}").status_code == 404
    listing = client.get("/sites/").get_data(as_text=True)
    assert "我们的宿舍" in listing and "别家的宿舍" not in listing


def test_anonymous_404_does_not_speak_of_areas(client, login_as, world):
    anonymous = client.get("/plaque/no-such-token").get_data(as_text=True)
    assert "does not exist" in anonymous and "area" not in anonymous.split("<main")[1]
    login_as("landlord", area=world.east)
    logged_in = client.get("/sites/999999").get_data(as_text=True)
    assert "not in your area" in logged_in
