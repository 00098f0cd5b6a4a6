"""The dashboard pages as users see them: figures, charts and tables, drill-down,
scope (404 outside it), CSV downloads, the htmx fragment, the start-page summary
and the query budget."""

from __future__ import annotations

import csv
import io
import re

import pytest

from community.core.rollups import rebuild
from tests.dashboard.conftest import months_back
from tests.factories.accounts import make_role_user
from tests.factories.places import make_building, make_room, make_site
from tests.factories.residents import make_residence


def _text(resp) -> str:
    return resp.get_data(as_text=True)


def test_district_page_shows_headlines_charts_tables_and_children(world, client_as):
    client = client_as(world.police)
    resp = client.get(f"/dashboard/?area={world.d.id}")
    assert resp.status_code == 200
    html = _text(resp)
    assert "<h1>D-district" in html
    assert re.search(r"<small>Registration rate</small><strong>75%</strong>", html)
    assert re.search(r"<small>Open hazards</small><strong>3</strong>", html)
    for slug in ("registration", "reports", "stars", "admission", "hazards"):
        assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in html
        assert f'id="chart-{slug}"' in html
        assert f"/dashboard/{slug}.csv?area={world.d.id}" in html
    # The numbers are in the charts (bar totals, point titles) and in the tables.
    hazards = html.split('id="figure-hazards"')[1]
    svg = hazards.split("</svg>")[0]
    assert "<title>91+ days: 1</title>" in svg
    assert "<title>31–90 days: 1</title>" in svg
    assert [int(t) for t in re.findall(r'<text x="[\d.]+" y="[\d.]+">(\d+)</text>', svg)] == [
        1,
        0,
        1,
        1,
    ]
    assert re.search(r"<th scope=\"row\">31–90 days</th><td>1</td>", hazards)
    month = months_back(0).strftime("%Y-%m")
    assert f"<title>{month}: 75%</title>" in html
    # Drill-down: the street is the only child, linked.
    assert f'href="/dashboard/?area={world.s.id}"' in html
    assert "C3-community" not in html


def test_street_lists_communities_with_their_rates(world, client_as):
    html = _text(client_as(world.police).get(f"/dashboard/?area={world.s.id}"))
    row = html.split(f'id="dash-area-{world.c1.id}"')[1].split("</tr>")[0]
    assert f'href="/dashboard/?area={world.c1.id}"' in row
    assert ">50%<" in row and ">2<" in row
    row2 = html.split(f'id="dash-area-{world.c2.id}"')[1].split("</tr>")[0]
    assert ">100%<" in row2
    # The breadcrumb leads back to the district.
    assert f'href="/dashboard/?area={world.d.id}">D-district</a>' in html


def test_community_police_sees_only_their_subtree(world, client_as):
    client = client_as(world.c1_police)
    html = _text(client.get("/dashboard/"))
    assert "<h1>C1-community" in html
    assert re.search(r"<small>Registration rate</small><strong>50%</strong>", html)
    assert "D-district" not in html  # no breadcrumb above their scope
    for outside in (world.c2, world.s, world.d, world.c3):
        assert client.get(f"/dashboard/?area={outside.id}").status_code == 404
        assert client.get(f"/dashboard/hazards.csv?area={outside.id}").status_code == 404
    for bad in ("x", "0", "-1", "99999999"):
        assert client.get(f"/dashboard/?area={bad}").status_code == 404


def test_district_police_cannot_open_another_district(world, client_as):
    assert client_as(world.police).get(f"/dashboard/?area={world.c3.id}").status_code == 404


def test_roles_without_a_dashboard_get_403(world, client_as):
    client = client_as(world.landlord)
    assert client.get("/dashboard/").status_code == 403
    assert client.get(f"/dashboard/?area={world.c1.id}").status_code == 403
    assert "/dashboard/" not in _text(client.get("/"))


def test_csv_holds_the_figure_table(world, client_as):
    resp = client_as(world.police).get(f"/dashboard/reports.csv?area={world.d.id}")
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert f'filename="reports-{world.d.id}.csv"' in resp.headers["Content-Disposition"]
    text = _text(resp)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["Month", "Timely", "Late", "Late (%)"]
    assert len(rows) == 13
    assert rows[-2] == [months_back(1).strftime("%Y-%m"), "1", "1", "50"]
    assert rows[-1] == [months_back(0).strftime("%Y-%m"), "2", "0", "0"]


def test_csv_of_hazard_ages(world, client_as):
    text = _text(client_as(world.police).get(f"/dashboard/hazards.csv?area={world.d.id}"))
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows == [
        ["Open for", "Hazards"],
        ["0–7 days", "1"],
        ["8–30 days", "0"],
        ["31–90 days", "1"],
        ["91+ days", "1"],
    ]


def test_unknown_figure_is_404(world, client_as):
    assert client_as(world.police).get("/dashboard/nothing.csv").status_code == 404


def test_htmx_request_gets_the_fragment(world, client_as):
    client = client_as(world.police)
    resp = client.get(f"/dashboard/?area={world.s.id}", headers={"HX-Request": "true"})
    html = _text(resp)
    assert resp.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="dashboard"')
    assert "HX-Request" in resp.headers.get("Vary", "")


def test_start_page_summary_for_police_links_to_the_dashboard(world, client_as):
    html = _text(client_as(world.c1_police).get("/"))
    section = html.split('id="start-dashboard"')[1].split("</section>")[0]
    assert "C1-community" in section
    assert re.search(r"<small>Registration rate</small><strong>50%</strong>", section)
    assert f'href="/dashboard/?area={world.c1.id}"' in section


def test_coordinator_gets_the_summary_association_the_page_only(session, world, client_as):
    from tests.factories.accounts import make_org

    coordinator = make_role_user(
        session, "coordinator", org=make_org(session, kind="community_office", area=world.c2)
    )
    association = make_role_user(
        session, "association", org=make_org(session, kind="landlord_association", area=world.c2)
    )
    session.commit()
    assert 'id="start-dashboard"' in _text(client_as(coordinator).get("/"))
    client = client_as(association)
    assert 'id="start-dashboard"' not in _text(client.get("/"))
    html = _text(client.get("/dashboard/"))
    assert re.search(r"<small>Registration rate</small><strong>100%</strong>", html)


def test_admin_overview_lists_districts(session, world, client_as):
    admin = make_role_user(session, "admin")
    session.commit()
    html = _text(client_as(admin).get("/dashboard/"))
    assert f'href="/dashboard/?area={world.d.id}"' in html
    assert f'href="/dashboard/?area={world.d2.id}"' in html


def _grow(session, world, n):
    """n more sites with rooms and verified residents in C1 and C2."""
    for i in range(n):
        area = world.c1 if i % 2 else world.c2
        site = make_site(session, area=area, landlord=world.landlord)
        room = make_room(session, building=make_building(session, site=site), occupants=2)
        from community.residents.queries import get_room

        room = get_room(session, room.id)
        make_residence(
            session, room=room, reporter=world.landlord, status="verified", decider=world.police
        )
    session.commit()


@pytest.mark.parametrize("extra", [0, 12])
def test_query_budget_does_not_grow_with_data(session, world, client_as, count_queries, extra):
    _grow(session, world, extra)
    client = client_as(world.police)
    url = f"/dashboard/?area={world.s.id}"
    client.get(url)
    with count_queries() as q:
        assert client.get(url).status_code == 200
    # memberships, breadcrumb, subtree areas, counters by month, counters by area,
    # sites by area, hazards, pending reviews in the subtree, duty fill, volunteer
    # hours (the area itself is in the session already; the reviews nav badge is
    # kept per data version since the first request); outreach coverage (4);
    # mediation: cases opened, concluded and visited per month and team, the
    # high-risk open at each month's end per team, the ranking (5)
    assert q.count == 19, q.statements


def test_rebuild_changes_nothing_the_page_shows(session, world, client_as):
    client = client_as(world.police)
    url, fragment = f"/dashboard/?area={world.s.id}", {"HX-Request": "true"}
    before = _text(client.get(url, headers=fragment))
    assert rebuild(session) > 0
    session.commit()
    assert _text(client.get(url, headers=fragment)) == before
