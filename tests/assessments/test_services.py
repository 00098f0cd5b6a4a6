"""Star assessment rules: start, submit, decide, the site's stars, the demo."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from community.assessments import demo as assessments_demo
from community.assessments import permissions as assessments_permissions
from community.assessments import queries as assessments_queries
from community.assessments import services as svc
from community.assessments.criteria import add_months
from community.assessments.models import Assessment
from community.core.errors import Conflict, NotPermitted, RuleViolation
from community.core.models import AuditEvent
from community.core.timeutil import today
from tests.factories.accounts import make_area_tree, make_org, make_role_user
from tests.factories.assessments import make_assessment
from tests.factories.inspections import make_incident
from tests.factories.places import make_site

MANUAL = {"fire_safety": 10, "order_hygiene": 5, "cooperation": 10}


@pytest.fixture
def world(session):
    district, street, community = make_area_tree(session)
    police = make_role_user(session, "police", area=community)
    landlord = make_role_user(session, "landlord", area=community)
    company = make_org(session, kind="property_company", area=community)
    manager = make_role_user(session, "property_manager", org=company)
    site = make_site(session, area=community, landlord=landlord, company=company)
    return {
        "community": community,
        "police": police,
        "landlord": landlord,
        "manager": manager,
        "company": company,
        "site": site,
    }


def _count(*where):
    from community.extensions import db

    return db.session.scalar(select(func.count()).select_from(Assessment).where(*where))


def _submitted(session, world, month=None):
    a, _ = svc.start_assessment(session, world["landlord"], world["site"], month)
    svc.submit_assessment(session, world["landlord"], a)
    return a


# --- start --------------------------------------------------------------------------


def test_start_defaults_to_previous_month_and_computes_criteria(session, world):
    world["site"].admitted_on = date(2000, 1, 1)
    a, created = svc.start_assessment(session, world["landlord"], world["site"])
    assert created
    assert a.month == add_months(today(), -1)
    assert a.status == "draft"
    assert a.computed["admission"] == {
        "points": 25,
        "max": 25,
        "detail": a.computed["admission"]["detail"],
    }
    assert set(a.computed) == {
        "admission",
        "hazards",
        "incidents",
        "registration_rate",
        "late_reports",
    }


def test_start_normalises_the_month_to_its_first_day(session, world):
    a, _ = svc.start_assessment(session, world["landlord"], world["site"], date(2024, 5, 17))
    assert a.month == date(2024, 5, 1)


def test_start_refuses_a_future_month(session, world):
    with pytest.raises(RuleViolation) as exc:
        svc.start_assessment(session, world["landlord"], world["site"], add_months(today(), 1))
    assert exc.value.field == "month"


def test_the_current_month_may_be_started(session, world):
    a, created = svc.start_assessment(session, world["manager"], world["site"], today())
    assert created and a.month == today().replace(day=1)


def test_second_start_of_the_same_month_returns_the_existing_one(session, world):
    month = add_months(today(), -1)
    first, created = svc.start_assessment(session, world["landlord"], world["site"], month)
    second, again = svc.start_assessment(session, world["manager"], world["site"], month)
    assert created and not again
    assert first.id == second.id
    assert _count(Assessment.site_id == world["site"].id) == 1


def test_start_of_an_approved_month_is_refused_on_the_month_field(session, world):
    month = add_months(today(), -1)
    make_assessment(session, site=world["site"], month=month, status="approved", score=90, stars=5)
    with pytest.raises(RuleViolation) as exc:
        svc.start_assessment(session, world["landlord"], world["site"], month)
    assert exc.value.field == "month"


def test_default_month_follows_the_latest_assessment(session, world):
    site, last = world["site"], add_months(today(), -1)
    assert svc.default_month(session, site) == last
    make_assessment(session, site=site, month=add_months(last, -4), status="rejected")
    assert svc.default_month(session, site) == add_months(last, -3)
    make_assessment(session, site=site, month=last, status="approved", score=90, stars=5)
    assert svc.default_month(session, site) is None


def test_database_refuses_two_assessments_of_one_site_and_month(session, world):
    make_assessment(session, site=world["site"], month=date(2024, 1, 1), status="draft")
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(Assessment(site_id=world["site"].id, month=date(2024, 1, 1), status="draft"))
        session.flush()


def test_only_the_landlord_or_company_may_start(session, world):
    other_landlord = make_role_user(session, "landlord", area=world["community"])
    for user in (world["police"], other_landlord):
        with pytest.raises(NotPermitted):
            svc.start_assessment(session, user, world["site"])


def test_start_writes_an_audit_event_without_personal_data(session, world):
    a, _ = svc.start_assessment(session, world["landlord"], world["site"])
    event = session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "assessment_started", AuditEvent.object_id == a.id
        )
    )
    assert event.object_type == "assessment"
    assert event.detail == {"month": a.month.isoformat()}


# --- submit -------------------------------------------------------------------------


def test_submit_recomputes_the_criteria(session, world):
    a, _ = svc.start_assessment(session, world["landlord"], world["site"])
    assert a.computed["incidents"]["points"] == 20
    make_incident(session, site=world["site"], occurred_on=a.month)
    assert svc.submit_assessment(session, world["landlord"], a) is True
    assert a.status == "submitted"
    assert a.submitted_by_id == world["landlord"].id and a.submitted_at is not None
    assert a.computed["incidents"]["points"] == 5


def test_submitting_twice_changes_nothing_the_second_time(session, world):
    a = _submitted(session, world)
    assert svc.submit_assessment(session, world["manager"], a) is False
    assert a.submitted_by_id == world["landlord"].id
    events = session.scalar(
        select(func.count()).where(
            AuditEvent.action == "assessment_submitted", AuditEvent.object_id == a.id
        )
    )
    assert events == 1


def test_submit_by_someone_else_is_refused(session, world):
    a, _ = svc.start_assessment(session, world["landlord"], world["site"])
    with pytest.raises(NotPermitted):
        svc.submit_assessment(session, world["police"], a)


def test_approved_assessment_cannot_be_submitted(session, world):
    a = make_assessment(
        session, site=world["site"], month=date(2024, 2, 1), status="approved", score=80, stars=4
    )
    with pytest.raises(Conflict):
        svc.submit_assessment(session, world["landlord"], a)


# --- decide -------------------------------------------------------------------------


def test_approve_scores_computed_plus_manual_and_sets_stars(session, world):
    world["site"].admitted_on = date(2000, 1, 1)
    a = _submitted(session, world)
    svc.decide_assessment(
        session,
        world["police"],
        a,
        "approve",
        "",
        {"fire_safety": 5, "order_hygiene": 0, "cooperation": 0},
    )
    assert a.status == "approved"
    # computed: admission, hazards, incidents, registration rate (no one counted:
    # full), late reports (none: full); manual 5 + 0 + 0
    assert a.score == 25 + 15 + 20 + 10 + 5 + 5
    assert a.stars == 4
    assert a.manual == {"fire_safety": 5, "order_hygiene": 0, "cooperation": 0}
    assert a.decided_by_id == world["police"].id and a.decided_at is not None
    assert world["site"].stars == 4
    assert world["site"].last_assessed_month == a.month
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "assessment_approved"))
    assert event.detail == {
        "month": a.month.isoformat(),
        "decision": "approved",
        "score": 80,
        "stars": 4,
    }


def test_reject_needs_a_reason(session, world):
    a = _submitted(session, world)
    with pytest.raises(RuleViolation) as exc:
        svc.decide_assessment(session, world["police"], a, "reject", "  ", {})
    assert exc.value.field == "reason"
    assert a.status == "submitted"


def test_rejected_assessment_can_be_submitted_again(session, world):
    a = _submitted(session, world)
    svc.decide_assessment(session, world["police"], a, "reject", "Extinguisher expired", {})
    assert a.status == "rejected" and a.reason == "Extinguisher expired"
    assert a.score is None and world["site"].stars is None
    assert svc.submit_assessment(session, world["landlord"], a) is True
    assert a.status == "submitted"
    svc.decide_assessment(session, world["police"], a, "approve", None, MANUAL)
    assert a.status == "approved"


def test_approve_needs_every_manual_item_in_range(session, world):
    a = _submitted(session, world)
    with pytest.raises(RuleViolation) as exc:
        svc.decide_assessment(
            session, world["police"], a, "approve", None, {**MANUAL, "order_hygiene": None}
        )
    assert exc.value.field == "manual_order_hygiene"
    with pytest.raises(RuleViolation) as exc:
        svc.decide_assessment(
            session, world["police"], a, "approve", None, {**MANUAL, "fire_safety": 16}
        )
    assert exc.value.field == "manual_fire_safety"
    assert a.status == "submitted"


def test_deciding_a_non_submitted_assessment_is_a_conflict(session, world):
    draft, _ = svc.start_assessment(session, world["landlord"], world["site"])
    with pytest.raises(Conflict):
        svc.decide_assessment(session, world["police"], draft, "approve", None, MANUAL)


def test_deciding_twice_is_a_conflict_and_records_one_decision(session, world):
    a = _submitted(session, world)
    svc.decide_assessment(session, world["police"], a, "approve", None, MANUAL)
    with pytest.raises(Conflict):
        svc.decide_assessment(session, world["police"], a, "reject", "changed my mind", {})
    decisions = session.scalar(
        select(func.count()).where(
            AuditEvent.action.like("assessment_%ed"),
            AuditEvent.action != "assessment_submitted",
            AuditEvent.action != "assessment_started",
            AuditEvent.object_id == a.id,
        )
    )
    assert decisions == 1
    assert a.status == "approved"


def test_conditional_update_refuses_a_row_another_request_moved(session, world):
    """Two requests that both loaded the submitted assessment: only the first moves it."""
    a = _submitted(session, world)
    assert svc._transition(session, a, ("submitted",), "approved") is True
    session.expire(a)
    assert svc._transition(session, a, ("submitted",), "rejected") is False
    assert a.status == "approved"


def test_only_the_police_of_the_area_may_decide(session, world):
    a = _submitted(session, world)
    far_police = make_role_user(session, "police")  # covers another area
    association = make_role_user(
        session, "association", org=make_org(session, kind="landlord_association")
    )
    for user in (far_police, world["landlord"], association):
        with pytest.raises(NotPermitted):
            svc.decide_assessment(session, user, a, "approve", None, MANUAL)


def test_site_stars_follow_only_the_latest_approved_month(session, world):
    site = world["site"]
    recent = add_months(today(), -1)
    older = add_months(today(), -2)
    new = _submitted(session, world, recent)
    svc.decide_assessment(
        session,
        world["police"],
        new,
        "approve",
        None,
        {"fire_safety": 0, "order_hygiene": 0, "cooperation": 0},
    )
    assert site.stars == svc.stars_for(new.score)
    old = _submitted(session, world, older)
    svc.decide_assessment(session, world["police"], old, "approve", None, MANUAL)
    assert old.stars != new.stars
    assert site.stars == new.stars
    assert site.last_assessed_month == recent


def test_list_shows_only_visible_sites_and_filters_by_state(session, world):
    other_site = make_site(session, area=make_area_tree(session)[2])
    mine = _submitted(session, world)
    make_assessment(session, site=other_site, month=date(2024, 1, 1))
    page = assessments_queries.list_assessments(session, world["police"], status="submitted")
    assert [a.id for a in page.items] == [mine.id]
    assert (
        assessments_queries.list_assessments(session, world["police"], status="approved").total == 0
    )
    assert assessments_queries.list_assessments(session, world["manager"]).total == 1
    assert assessments_permissions.default_status(world["police"]) == "submitted"
    assert assessments_permissions.default_status(world["landlord"]) == "all"


def test_site_history_keeps_the_last_twelve_months(session, world):
    site = world["site"]
    for back in range(0, 14):
        make_assessment(
            session,
            site=site,
            month=add_months(today(), -back),
            status="approved",
            stars=3,
            score=75,
        )
    history = assessments_queries.site_history(session, site)
    assert len(history) == 12
    assert history[0].month == today().replace(day=1)
    chart = assessments_queries.star_chart(history, title="t")
    assert len(chart.points) == 12


# --- demo ---------------------------------------------------------------------------


def test_demo_without_sites_does_nothing(session):
    assessments_demo.seed(session, {"sites": {}, "users": {}})
    assessments_demo.seed(session, {})
    assert _count() == 0


def test_demo_rates_most_sites_with_one_waiting_and_one_rejected(session, world):
    community = world["community"]
    landlord2 = make_role_user(session, "landlord", area=community)
    sites = {
        "a": world["site"],
        "b": make_site(session, area=community, landlord=landlord2, name="b"),
        "c": make_site(session, area=community, company=world["company"], name="c"),
        "d": make_site(session, area=community, name="d"),
    }
    property_user = world["manager"]
    assessments_demo.seed(
        session, {"sites": sites, "users": {"police": world["police"], "property": property_user}}
    )
    ordered = [sites[n] for n in sorted(sites)]
    by_site = {
        n: list(
            session.scalars(
                select(Assessment).where(Assessment.site_id == s.id).order_by(Assessment.month)
            )
        )
        for n, s in sorted(sites.items())
    }
    first, second, third, last = ordered
    assert [a.status for a in by_site["a"]] == ["approved"] * 5 + ["submitted"]
    assert [a.status for a in by_site["b"]] == ["approved"] * 5 + ["rejected"]
    assert by_site["b"][-1].reason
    assert [a.status for a in by_site["c"]] == ["approved"] * 6
    assert by_site["d"] == []
    assert last.stars is None
    for n, s in (("a", first), ("b", second), ("c", third)):
        latest = [a for a in by_site[n] if a.status == "approved"][-1]
        assert s.stars == latest.stars and s.last_assessed_month == latest.month
    assert by_site["c"][-1].month == add_months(today(), -1)
    for rows in by_site.values():
        for a in rows:
            assert a.decided_by_id in (None, world["police"].id)
            assert a.submitted_at.date() > a.month
            if a.decided_at:
                assert a.decided_at - a.submitted_at == timedelta(days=3)
    submitters = {n: {a.submitted_by_id for a in by_site[n]} for n in "abc"}
    assert submitters == {"a": {first.landlord_id}, "b": {landlord2.id}, "c": {property_user.id}}
