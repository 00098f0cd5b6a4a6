"""The start page `/` of landlords, property companies, enterprises and
associations: what waits for them (reports due, reports sent back, this month's
points, employee reports, uploads, the community's registration rate), linked to
where they act — within a query budget that does not grow with the data."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from community.core.timeutil import today as _today  # per test: a run may cross midnight
from community.residents import queries
from community.residents.imports.models import ImportJob
from tests.conftest import PASSWORD
from tests.factories.accounts import make_org, make_role_user
from tests.factories.assessments import make_assessment
from tests.factories.hazards import make_hazard
from tests.factories.places import make_building, make_room, make_site
from tests.factories.residents import id_number, make_residence


def _section(html: str, section_id: str) -> str:
    match = re.search(rf'<section id="{section_id}".*?</section>', html, re.S)
    assert match, f"no section {section_id}"
    return match.group(0)


def _verified(session, world, room, reporter=None):
    return make_residence(
        session,
        room=room,
        reporter=reporter or world.landlord,
        status="verified",
        decider=world.police,
    )


def test_landlord_sees_rooms_due_and_reports_sent_back(client, login, session, world):
    _verified(session, world, world.room)
    make_residence(session, room=world.room, reporter=world.landlord)  # pending: reported
    _verified(session, world, world.room2)
    back = make_residence(
        session,
        room=world.room2,
        reporter=world.landlord,
        status="rejected",
        decider=world.police,
        name="退回租客",
        reason="房间号不对",
    )
    other = make_residence(
        session,
        room=world.room2,
        reporter=world.manager,
        channel="property_manager",
        status="rejected",
        decider=world.police,
    )
    session.commit()
    login(world.landlord)
    html = client.get("/").get_data(as_text=True)
    reports = _section(html, "start-reports")
    assert "1 room has more people than reported residents" in reports
    due = re.search(rf'<li id="start-room-{world.room2.id}">.*?</li>', reports, re.S).group(0)
    assert f'href="/buildings/{world.building.id}#room-{world.room2.id}"' in due
    assert "2 counted, 1 reported" in due
    assert f"start-room-{world.room.id}" not in reports
    assert "1 report sent back to correct" in reports
    assert f'href="/residents/{back.id}#resubmit"' in reports
    assert "退回租客" in reports and "房间号不对" in reports
    assert f"start-sent-back-{other.id}" not in reports


def test_the_company_sees_its_own_reports_sent_back(client, login, session, world):
    _verified(session, world, world.room)
    _verified(session, world, world.room)
    theirs = make_residence(
        session,
        room=world.room2,
        reporter=world.manager,
        channel="property_manager",
        status="rejected",
        decider=world.police,
    )
    session.commit()
    login(world.manager)
    reports = _section(client.get("/").get_data(as_text=True), "start-reports")
    assert f'href="/residents/{theirs.id}#resubmit"' in reports
    assert f"start-room-{world.room2.id}" in reports


def test_nothing_due_shows_no_reports_section(client, login, session, world):
    for room in (world.room, world.room, world.room2, world.room2):
        _verified(session, world, room)
    session.commit()
    login(world.landlord)
    html = client.get("/").get_data(as_text=True)
    assert 'id="start-reports"' not in html


def test_points_this_month(client, login, session, world):
    make_residence(session, room=world.room, reporter=world.landlord)
    make_residence(
        session, room=world.room2, reporter=world.landlord, move_in=_today() - timedelta(days=10)
    )
    make_residence(
        session,
        room=world.room2,
        reporter=world.manager,
        channel="property_manager",
        move_in=_today() - timedelta(days=10),
    )
    session.commit()
    login(world.landlord)
    points = _section(client.get("/").get_data(as_text=True), "start-points")
    assert '<strong data-testid="points-balance">-1</strong>' in points
    assert "1 timely, 1 late reports" in points


def _enterprise(session, world):
    enterprise = make_org(session, kind="enterprise", area=world.community)
    boss = make_role_user(session, "enterprise", password=PASSWORD, org=enterprise)
    dorm = make_site(
        session,
        area=world.community,
        kind="dormitory",
        name="员工宿舍",
        enterprise_id=enterprise.id,
    )
    room = queries.get_room(
        session,
        make_room(
            session, building=make_building(session, site=dorm, name="1号楼"), number="301"
        ).id,
    )
    return boss, room


def test_enterprise_sees_report_counts_masked_reports_and_uploads(client, login, session, world):
    boss, room = _enterprise(session, world)
    numbers = [id_number() for _ in range(4)]
    for number, status in zip(numbers, ["pending", "pending", "verified", "rejected"], strict=True):
        make_residence(
            session,
            room=room,
            reporter=boss,
            channel="enterprise",
            status=status,
            decider=world.police,
            number=number,
            name="员工甲",
        )
    make_residence(session, room=world.room, reporter=world.landlord)  # not theirs
    mine = ImportJob(
        user_id=boss.id,
        filename="员工名单.xlsx",
        path="x",
        status="done",
        total=5,
        done=5,
        imported=4,
        refused=1,
    )
    someone_else = ImportJob(user_id=world.landlord.id, filename="landlord.csv", path="y")
    session.add_all([mine, someone_else])
    session.commit()
    login(boss)
    html = client.get("/").get_data(as_text=True)
    employees = _section(html, "start-employees")
    counts = {s: n for s, n in re.findall(r'data-status="(\w+)"><strong>(\d+)</strong>', employees)}
    assert counts == {"pending": "2", "verified": "1", "rejected": "1"}
    for number in numbers:
        assert number[:6] + "********" + number[-4:] in employees
        assert number not in html
    assert "员工甲" not in html and "13812345678" not in html
    assert "1号楼 301" in employees
    uploads = _section(html, "start-imports")
    assert f'href="/residents/import/{mine.id}"' in uploads and "4 imported, 1 refused" in uploads
    assert "landlord.csv" not in uploads


def test_association_sees_its_community_rate(client, login, session, world):
    association = make_org(session, kind="landlord_association", area=world.community)
    member = make_role_user(session, "association", password=PASSWORD, org=association)
    _verified(session, world, world.room)
    session.commit()
    login(member)
    rates = _section(client.get("/").get_data(as_text=True), "start-rates")
    row = re.search(rf'<tr id="community-rate-{world.community.id}">(.*?)</tr>', rates, re.S)
    assert 'data-column="rate">25%<' in row.group(1)  # 1 / max(2 + 2, 1)


def test_volunteers_get_none_of_these_sections(client, login, session, world):
    login(world.volunteer)
    resp = client.get("/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for section in ("start-reports", "start-points", "start-employees", "start-imports"):
        assert f'id="{section}"' not in html
    assert 'id="start-rates"' not in html


def test_police_read_rates_on_the_compliance_page_not_the_start_page(client, login, session, world):
    login(world.police)
    resp = client.get("/")
    assert resp.status_code == 200 and 'id="start-rates"' not in resp.get_data(as_text=True)


# --- query budget ------------------------------------------------------------------------


def _grow(session, world, n):
    """n rooms due, n reports sent back, n open hazards, n sites to assess, n
    employee reports and uploads."""
    boss, dorm_room = _enterprise(session, world)
    last_month = (_today().replace(day=1) - timedelta(days=1)).replace(day=1)
    for i in range(n):
        site = make_site(
            session, area=world.community, landlord=world.landlord, company=world.company
        )
        room = queries.get_room(
            session, make_room(session, building=make_building(session, site=site), occupants=3).id
        )
        make_residence(
            session, room=room, reporter=world.landlord, status="rejected", decider=world.police
        )
        make_hazard(session, site=site, reporter=world.police)
        make_assessment(session, site=site, month=last_month, status="rejected", reason="缺材料")
        make_residence(session, room=dorm_room, reporter=boss, channel="enterprise")
        session.add(ImportJob(user_id=boss.id, filename=f"f{i}.csv", path=f"p{i}"))
    session.commit()
    return boss


@pytest.mark.parametrize("who", ["landlord", "manager", "enterprise"])
def test_start_page_query_budget_does_not_grow(
    app, client, login, session, world, count_queries, who
):
    counts = []
    for n in (1, 8):
        boss = _grow(session, world, n)
        user = {"landlord": world.landlord, "manager": world.manager, "enterprise": boss}[who]
        fresh = app.test_client()
        with fresh.session_transaction() as sess:
            sess["locale"] = "en"
        from tests.conftest import csrf_from

        token = csrf_from(fresh.get("/login").get_data(as_text=True))
        fresh.post(
            "/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token}
        )
        with count_queries() as q:
            resp = fresh.get("/")
        assert resp.status_code == 200
        html = resp.get_data(as_text=True)
        shown = {"start-reports", "start-points", "start-hazards", "start-assessments"}
        if who == "enterprise":
            shown = {"start-employees", "start-imports"}
        assert shown <= set(re.findall(r'<section id="(start-[a-z-]+)"', html)), who
        counts.append(q.count)
    assert counts[0] == counts[1], counts
    # The user and memberships, then landlord/company: reports due and sent back (2),
    # points (1), hazards (1), assessments (2) — 7 measured; enterprise: counts and
    # latest reports (2), uploads (1) — 4 measured; a company and an enterprise also
    # count their visit requests waiting (outreach, 1); the data version's token (1),
    # read when the first page after logging in fills the navigation kept under it.
    budget = {"landlord": 9, "manager": 10, "enterprise": 6}[who]
    assert counts[1] <= budget, counts


@pytest.mark.parametrize("path", ["/residents/due", "/assessments/due"])
def test_the_lists_behind_and_n_more_cost_the_same_at_two_sizes(
    client, login, session, world, count_queries, path
):
    """The full lists the start page's "and N more" links open (rooms due, sites to
    assess) run the same statements for 1 and 8 rows: no query per row."""
    login(world.landlord)
    counts = []
    for n in (1, 8):
        _grow(session, world, n)
        with count_queries() as q:
            resp = client.get(path)
        assert resp.status_code == 200
        rows = resp.get_data(as_text=True).count('id="due-')
        assert rows >= n, (path, n, rows)
        counts.append(q.count)
    assert counts[0] == counts[1], counts
    assert counts[1] <= 8, counts
