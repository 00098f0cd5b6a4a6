"""The site's stored due date, cadence and first day of 双无 (places.stored) equal what
the rules compute (inspections.queries.next_due_on / cadence_days,
places.queries.shuangwu_from), and the sites' area counters equal a rebuild, after
every kind of change: a site registered, an inspection passed or failed, stars
approved, an incident recorded, an admission on paper, a site moved, and a bulk
load refreshed. On both databases (the suite runs on each)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from community.assessments import services as assessments
from community.core.rollups import TOTAL, contributions, current, rebuild
from community.core.timeutil import today
from community.inspections import queries as inspections_queries
from community.inspections import services as admission
from community.places import services as places
from community.places.models import Site
from community.places.queries import is_shuangwu, shuangwu_from
from community.places.stored import SHUANGWU, refresh_stored, shuangwu_bucket
from tests.factories.accounts import make_area, make_area_tree, make_role_user
from tests.factories.assessments import make_assessment
from tests.factories.inspections import checklist
from tests.factories.places import make_site


@pytest.fixture
def world(session):
    district, street, community = make_area_tree(session)
    other = make_area(session, name="Other community", level="community", parent=street)
    police = make_role_user(session, "police", area=street)
    admin = make_role_user(session, "admin")
    site = make_site(session, area=community)
    return {"community": community, "other": other, "police": police, "admin": admin, "site": site}


def assert_in_step(session):
    """Every site's stored columns, as the database holds them, equal the rules; the
    counters equal a rebuild from the base tables."""
    session.flush()
    session.expire_all()
    sites = list(session.scalars(select(Site)))
    assert sites
    for site in sites:
        assert site.due_on == inspections_queries.next_due_on(site), site.name
        assert site.cadence_days == inspections_queries.cadence_days(site), site.name
        assert site.shuangwu_on == shuangwu_from(site), site.name
    assert current(session) == contributions(session)


def _inspect(session, police, site, result="pass", on=None):
    inspection = admission.start_inspection(session, police, site)
    for item in checklist(session):
        admission.record_result(session, police, inspection, item, result, None)
    admission.complete_inspection(session, police, inspection, on=on)


def test_a_registered_site_is_due_now_and_counted(session, world):
    site = world["site"]
    assert site.due_on is None
    assert site.cadence_days == inspections_queries.NOT_ADMITTED_CADENCE_DAYS
    assert site.shuangwu_on == shuangwu_from(site) > today()
    assert_in_step(session)


def test_a_passed_inspection_moves_the_due_date_by_the_cadence(session, world):
    site = world["site"]
    _inspect(session, world["police"], site, on=today() - timedelta(days=3))
    assert site.due_on == today() - timedelta(days=3) + timedelta(days=30)  # admitted, unrated
    assert site.cadence_days == 30
    assert_in_step(session)


def test_a_failed_inspection_takes_the_admission_and_shortens_the_cadence(session, world):
    site = world["site"]
    _inspect(session, world["police"], site, on=today() - timedelta(days=20))
    _inspect(session, world["police"], site, result="fail", on=today() - timedelta(days=2))
    site = session.get(Site, site.id)
    assert site.admitted_on is None
    assert site.due_on == today() - timedelta(days=2) + timedelta(days=14)
    assert_in_step(session)


@pytest.mark.parametrize(("score", "stars", "days"), [(95, 5, 90), (85, 4, 60), (50, 1, 14)])
def test_approved_stars_set_the_cadence(session, world, score, stars, days):
    site = world["site"]
    _inspect(session, world["police"], site, on=today() - timedelta(days=1))
    month = date(today().year, today().month, 1) - timedelta(days=1)
    assessment = make_assessment(session, site=site, month=month, score=score)
    assessment.status = "approved"
    assessment.stars = stars
    session.flush()
    assessments.refresh_site_stars(session, site)
    assert site.stars == stars
    assert site.due_on == today() - timedelta(days=1) + timedelta(days=days)
    assert site.cadence_days == days
    assert_in_step(session)


def test_an_incident_moves_the_first_day_of_shuangwu(session, world):
    site = world["site"]
    site.created_at = site.created_at - timedelta(days=800)
    session.flush()
    assert is_shuangwu(site) and site.shuangwu_on <= today()
    assert_in_step(session)
    admission.record_incident(
        session,
        world["police"],
        site,
        kind="fire",
        occurred_on=today() - timedelta(days=10),
        note="kitchen fire",
    )
    assert site.shuangwu_on == today() - timedelta(days=10) + timedelta(days=366)
    assert not is_shuangwu(site)
    assert_in_step(session)


def test_an_admission_on_paper_before_registration_counts_from_that_day(session, world):
    site = world["site"]
    site.admitted_on = today() - timedelta(days=500)
    session.flush()
    assert site.shuangwu_on == today() - timedelta(days=135)
    assert site.cadence_days == inspections_queries.UNRATED_CADENCE_DAYS
    assert_in_step(session)


def test_a_site_moved_to_another_community_takes_its_counters(session, world):
    site = world["site"]
    _inspect(session, world["police"], site)
    places.update_site(
        session,
        world["admin"],
        site,
        name=site.name,
        kind=site.kind,
        area_id=world["other"].id,
        address=site.address,
    )
    assert_in_step(session)
    counters = current(session)
    assert counters[(world["other"].id, TOTAL, "sites.total")] == 1
    assert counters.get((world["community"].id, TOTAL, "sites.admitted"), 0) == 0


def test_a_deleted_site_leaves_the_counters(session, world):
    extra = make_site(session, area=world["community"], stars=4)
    assert_in_step(session)
    session.delete(session.get(Site, extra.id))
    assert_in_step(session)


def test_shuangwu_from_is_the_first_day_of_the_badge(session, world):
    """is_shuangwu(site, d) holds exactly from shuangwu_from(site) on, for sites
    registered, admitted on paper and with incidents at every distance."""
    base = today()
    cases = [
        {},
        {"admitted_on": base - timedelta(days=400)},
        {"last_incident_on": base - timedelta(days=300)},
        {"admitted_on": base - timedelta(days=900), "last_incident_on": base - timedelta(days=2)},
    ]
    for columns in cases:
        site = make_site(session, area=world["community"], **columns)
        start = shuangwu_from(site)
        for d in range(-3, 4):
            day = start + timedelta(days=d)
            assert is_shuangwu(site, day) == (d >= 0), (columns, d)


def test_a_bulk_load_is_brought_in_step_by_refresh_and_rebuild(session, world):
    """Rows inserted without the ORM (bench loads, imports of old data) get their
    columns from refresh_stored and their counters from a rebuild."""
    table = Site.__table__
    session.execute(
        table.insert(),
        [
            {
                "name": f"bulk-{n}",
                "kind": "rental_house",
                "area_id": world["community"].id,
                "address": "x",
                "qr_token": f"bulk-token-{n}",
                "admitted_on": date(2020, 1, 1) if n % 2 else None,
                "last_inspected_on": today() - timedelta(days=n * 10) if n % 3 else None,
                "stars": (n % 5) + 1,
            }
            for n in range(12)
        ],
    )
    assert refresh_stored(session) == 12
    assert refresh_stored(session) == 0  # nothing left to change
    rebuild(session)
    assert_in_step(session)


def test_shuangwu_counter_rows_are_dated_until_their_day_comes(session, world):
    """A site whose badge starts in the future counts under that date; the dashboard
    sums the rows up to its day, and a rebuild folds the days that came into TOTAL."""
    site = world["site"]
    area = world["community"].id
    assert current(session)[(area, site.shuangwu_on, SHUANGWU)] == 1
    assert shuangwu_bucket(site.shuangwu_on, today()) == site.shuangwu_on
    assert shuangwu_bucket(today(), today()) == TOTAL
