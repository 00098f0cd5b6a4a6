"""Outreach rules: publishing (staffed through a duty), the sign-in window and its
dedup, the quiz counted once, closing with attendance, visit requests, corners."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from community.core.errors import Conflict, RuleViolation
from community.core.models import AuditEvent
from community.core.timeutil import to_utc, today, utcnow
from community.duty import services as duty_services
from community.duty.models import DutyTask
from community.outreach import queries, services
from community.outreach.models import OutreachEvent, OutreachSignin
from tests.factories.accounts import make_area_tree, make_org, make_role_user
from tests.factories.outreach import make_corner, make_event, make_request
from tests.factories.places import make_site


@pytest.fixture
def w(session):
    district, street, community = make_area_tree(session)
    other = make_area_tree(session)[2]
    station = make_org(session, kind="police_station", area=street)
    police = make_role_user(session, "police", org=station)
    office = make_org(session, kind="community_office", area=community)
    coordinator = make_role_user(session, "coordinator", org=office)
    enterprise = make_org(session, kind="enterprise", area=community)
    hr = make_role_user(session, "enterprise", org=enterprise)
    company = make_org(session, kind="property_company", area=community)
    manager = make_role_user(session, "property_manager", org=company)
    volunteer = make_role_user(session, "volunteer", area=community)
    return SimpleNamespace(
        street=street,
        community=community,
        other=other,
        station=station,
        police=police,
        office=office,
        coordinator=coordinator,
        enterprise=enterprise,
        hr=hr,
        company=company,
        manager=manager,
        volunteer=volunteer,
        site=make_site(session, area=community, company=company),
        foreign_enterprise=make_org(session, kind="enterprise", area=other),
    )


def _input(w, **kw):
    start = utcnow().replace(second=0, microsecond=0) + timedelta(days=2)
    values = dict(
        kind="anti_fraud",
        title="反诈宣传进企业",
        target="enterprise",
        enterprise_id=w.enterprise.id,
        starts_at=start,
        ends_at=start + timedelta(hours=1, minutes=30),
        organiser_id=w.station.id,
        speakers="王警官",
        planned_audience=80,
    )
    values.update(kw)
    return services.EventInput(**values)


def test_police_publish_an_event_at_an_enterprise_of_their_area(session, w):
    event = services.publish_event(session, w.police, _input(w))
    assert (event.status, event.target, event.enterprise_id) == (
        "published",
        "enterprise",
        w.enterprise.id,
    )
    assert event.area_id == w.community.id and event.duty_id is None
    assert len(event.signin_token) >= 20
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "outreachevent")
    ).all()
    assert actions == ["outreach_published"]


def test_an_enterprise_outside_the_areas_is_refused(session, w):
    with pytest.raises(RuleViolation) as exc:
        services.publish_event(session, w.police, _input(w, enterprise_id=w.foreign_enterprise.id))
    assert exc.value.field == "enterprise_id"


def test_an_event_ending_before_it_starts_is_refused(session, w):
    data = _input(w)
    data.ends_at = data.starts_at - timedelta(minutes=1)
    with pytest.raises(RuleViolation) as exc:
        services.publish_event(session, w.police, data)
    assert [f for f, _m in exc.value.errors] == ["ends_at"]
    assert session.scalar(select(func.count()).select_from(OutreachEvent)) == 0


def test_a_school_needs_its_name_and_a_community(session, w):
    with pytest.raises(RuleViolation) as exc:
        services.publish_event(
            session, w.coordinator, _input(w, target="school", enterprise_id=None, area_id=None)
        )
    assert {f for f, _m in exc.value.errors} == {"area_id", "place"}
    event = services.publish_event(
        session,
        w.coordinator,
        _input(
            w, target="school", place="东村小学", area_id=w.community.id, organiser_id=w.office.id
        ),
    )
    assert event.target_name == "东村小学"


@pytest.mark.parametrize(
    "kind,duty_kind",
    [("anti_fraud", "anti_fraud"), ("legal", "legal_publicity"), ("anti_drug", "publicity")],
)
def test_staff_are_a_duty_of_the_matching_kind_that_volunteers_claim(session, w, kind, duty_kind):
    event = services.publish_event(session, w.police, _input(w, kind=kind, staff=2, points=15))
    task = session.get(DutyTask, event.duty_id)
    assert (task.kind, task.capacity, task.points, task.area_id) == (
        duty_kind,
        2,
        15,
        w.community.id,
    )
    assert (task.starts_at, task.ends_at) == (event.starts_at, event.ends_at)
    duty_services.claim_duty(session, w.volunteer, task)
    session.refresh(task)
    assert task.taken == 1


def test_staffing_an_event_in_the_past_is_refused_by_the_duty_rule(session, w):
    start = utcnow() - timedelta(days=1)
    with pytest.raises(RuleViolation) as exc:
        services.publish_event(
            session,
            w.police,
            _input(w, starts_at=start, ends_at=start + timedelta(hours=1), staff=2),
        )
    assert exc.value.field == "starts_at"
    # Recorded afterwards without staff: allowed (a visit already held).
    event = services.publish_event(
        session, w.police, _input(w, starts_at=start, ends_at=start + timedelta(hours=1))
    )
    assert event.duty_id is None


def test_cancelling_an_event_cancels_its_duty(session, w):
    event = services.publish_event(session, w.police, _input(w, staff=2))
    services.cancel_event(session, w.police, event)
    assert session.get(DutyTask, event.duty_id).status == "cancelled"
    with pytest.raises(Conflict):
        services.cancel_event(session, w.police, event)


# --- the sign-in window, in local time (Asia/Shanghai) ----------------------------------


@pytest.fixture
def evening(session, w, frozen_clock):
    """An event 19:00–20:30 local on 2026-12-10; the clock at noon that day."""
    frozen_clock("2026-12-10 12:00")
    start = to_utc(datetime(2026, 12, 10, 19, 0))
    event = make_event(session, area=w.community, starts_in=start - utcnow(), hours=1.5)
    return event


@pytest.mark.parametrize(
    "local,open_",
    [
        ("2026-12-10 18:29:59", False),
        ("2026-12-10 18:30:00", True),
        ("2026-12-10 22:30:00", True),
        ("2026-12-10 22:30:01", False),
    ],
)
def test_sign_in_opens_30_minutes_before_and_closes_2_hours_after(
    session, evening, frozen_clock, local, open_
):
    frozen_clock(local)
    if open_:
        signin, new = services.sign_in(session, evening, nonce="n" * 20, device="d" * 20)
        assert new and signin.id
    else:
        with pytest.raises(services.SigninClosed) as exc:
            services.sign_in(session, evening, nonce="n" * 20, device="d" * 20)
        assert exc.value.opens == to_utc(datetime(2026, 12, 10, 18, 30))
        assert exc.value.closes == to_utc(datetime(2026, 12, 10, 22, 30))
        assert queries.live_count(session, evening.id).signins == 0


def test_the_same_phone_or_a_replayed_page_gets_the_first_sign_in(session, evening, frozen_clock):
    frozen_clock("2026-12-10 19:02")
    first, new = services.sign_in(session, evening, nonce="a" * 20, device="phone-1" + "x" * 12)
    assert new
    frozen_clock("2026-12-10 19:10")
    again, new = services.sign_in(session, evening, nonce="b" * 20, device="phone-1" + "x" * 12)
    assert (again.id, new) == (first.id, False)
    replay, new = services.sign_in(session, evening, nonce="a" * 20, device="phone-2" + "x" * 12)
    assert (replay.id, new) == (first.id, False)
    assert replay.signed_at == to_utc(datetime(2026, 12, 10, 19, 2))
    # After the window the first one still answers (not a 410).
    frozen_clock("2026-12-11 09:00")
    late, new = services.sign_in(session, evening, nonce="c" * 20, device="phone-1" + "x" * 12)
    assert (late.id, new) == (first.id, False)
    assert queries.live_count(session, evening.id).signins == 1


def test_the_database_refuses_a_second_sign_in_with_the_same_nonce(session, evening):
    session.add(OutreachSignin(event_id=evening.id, nonce="z" * 20, device="d1" * 10))
    session.flush()
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(OutreachSignin(event_id=evening.id, nonce="z" * 20, device="d2" * 10))
        session.flush()


def test_a_number_is_never_taken_as_a_name(session, evening, frozen_clock):
    frozen_clock("2026-12-10 19:00")
    with pytest.raises(RuleViolation) as exc:
        services.sign_in(
            session, evening, nonce="a" * 20, device="d" * 20, name="330302199001011234"
        )
    assert exc.value.field == "name"
    signin, _new = services.sign_in(
        session, evening, nonce="a" * 20, device="d" * 20, name=" 张  三 ", employer="创客电子"
    )
    session.expire(signin)
    assert (signin.name, signin.employer) == ("张 三", "创客电子")
    stored = session.execute(
        text("SELECT name FROM outreach_signin WHERE id = :id"), {"id": signin.id}
    ).scalar()
    assert "张" not in stored  # encrypted at rest


def test_the_quiz_counts_once(session, evening, frozen_clock):
    frozen_clock("2026-12-10 19:05")
    signin, _ = services.sign_in(session, evening, nonce="a" * 20, device="d" * 20)
    assert services.answer_quiz(session, evening, signin, ["b", "a", "b", "a", "b"]) == 4
    with pytest.raises(Conflict) as exc:
        services.answer_quiz(session, evening, signin, ["b", "a", "b", "a", "a"])
    assert "4" in exc.value.message and "5" in exc.value.message
    other, _ = services.sign_in(session, evening, nonce="c" * 20, device="e" * 20)
    services.answer_quiz(session, evening, other, ["a", "a", "a", "a", "a"])  # 3 right
    live = queries.live_count(session, evening.id)
    assert (live.signins, live.answered, live.right, live.right_share) == (2, 2, 7, 70)


# --- closing -----------------------------------------------------------------------------


def test_closing_counts_sign_ins_plus_hand_count(session, w, evening, frozen_clock):
    frozen_clock("2026-12-10 19:10")
    for i in range(3):
        services.sign_in(session, evening, nonce=f"{i}" * 20, device=f"{i}d" * 10)
    frozen_clock("2026-12-10 18:00")
    with pytest.raises(Conflict):
        services.close_event(session, w.police, evening, hand_count=1, materials=1)
    frozen_clock("2026-12-10 20:40")
    services.close_event(session, w.police, evening, hand_count=12, materials=50, notes="发放手册")
    event = session.get(OutreachEvent, evening.id)
    assert (event.status, event.signins_counted, event.hand_count, event.attendance) == (
        "closed",
        3,
        12,
        15,
    )
    assert event.materials == 50
    with pytest.raises(Conflict):
        services.close_event(session, w.police, event, hand_count=1, materials=1)
    # Closed: its attendance is counted, a later sign-in is refused (410).
    with pytest.raises(services.SigninClosed) as exc:
        services.sign_in(session, event, nonce="late" * 5, device="late-phone" * 2)
    assert exc.value.status == "closed" and queries.live_count(session, event.id).signins == 3
    with pytest.raises(RuleViolation):
        services.close_event(session, w.police, event, hand_count=-1, materials=1)


# --- visit requests ----------------------------------------------------------------------


def _ask(session, w, **kw):
    values = dict(
        kind="anti_fraud",
        organization_id=w.enterprise.id,
        site_id=None,
        preferred_from=today() + timedelta(days=3),
        preferred_to=today() + timedelta(days=10),
        audience=60,
    )
    values.update(kw)
    return services.request_visit(session, w.hr, **values)


def test_a_request_for_a_past_date_is_refused(session, w):
    with pytest.raises(RuleViolation) as exc:
        _ask(session, w, preferred_from=today() - timedelta(days=1))
    assert exc.value.field == "preferred_from"
    with pytest.raises(RuleViolation) as exc:
        _ask(session, w, preferred_to=today() + timedelta(days=1))
    assert exc.value.field == "preferred_to"


def test_a_property_company_asks_for_one_of_its_sites(session, w):
    with pytest.raises(RuleViolation) as exc:
        services.request_visit(
            session,
            w.manager,
            kind="fire_safety",
            organization_id=w.company.id,
            site_id=None,
            preferred_from=today(),
            preferred_to=today(),
            audience=20,
        )
    assert exc.value.field == "site_id"
    visit = services.request_visit(
        session,
        w.manager,
        kind="fire_safety",
        organization_id=w.company.id,
        site_id=w.site.id,
        preferred_from=today(),
        preferred_to=today(),
        audience=20,
    )
    assert (visit.area_id, visit.status) == (w.site.area_id, "waiting")


def test_scheduling_a_request_publishes_its_event_and_tells_the_requester(session, w):
    visit = _ask(session, w)
    event = services.publish_event(session, w.police, _input(w, request_id=visit.id))
    session.refresh(visit)
    assert (visit.status, visit.event_id, visit.decided_by_id) == (
        "scheduled",
        event.id,
        w.police.id,
    )
    from community.core.models import Notification

    assert (
        session.scalar(
            select(func.count()).select_from(Notification).where(Notification.user_id == w.hr.id)
        )
        == 1
    )
    with pytest.raises(Conflict):
        services.publish_event(session, w.police, _input(w, request_id=visit.id))


def test_declining_needs_a_reason_and_happens_once(session, w):
    visit = _ask(session, w)
    with pytest.raises(RuleViolation):
        services.decline_request(session, w.coordinator, visit, "  ")
    services.decline_request(session, w.coordinator, visit, "本月已安排满")
    assert (visit.status, visit.reason) == ("declined", "本月已安排满")
    with pytest.raises(Conflict):
        services.decline_request(session, w.police, visit, "again")


def test_a_request_outside_the_police_area_cannot_be_scheduled_by_them(session, w):
    visit = make_request(session, organization=w.foreign_enterprise)
    with pytest.raises(RuleViolation):
        services.publish_event(session, w.police, _input(w, request_id=visit.id))


# --- experience corners -------------------------------------------------------------------


def _visit(w, corner, start_local: datetime, minutes=60):
    start = to_utc(start_local)
    return _input(
        w,
        kind="corner_visit",
        target="place",
        enterprise_id=None,
        corner_id=corner.id,
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        title="参观心防体验区",
    )


def test_corner_visits_never_overlap(session, w):
    corner = make_corner(session, area=w.community, opens=time(9), closes=time(17))
    day = (datetime.now() + timedelta(days=5)).replace(hour=0, minute=0, second=0, microsecond=0)
    first = services.publish_event(session, w.police, _visit(w, corner, day.replace(hour=10)))
    assert (first.corner_id, first.area_id, first.place) == (
        corner.id,
        w.community.id,
        corner.place,
    )
    with pytest.raises(Conflict) as exc:
        services.publish_event(
            session, w.police, _visit(w, corner, day.replace(hour=10, minute=30))
        )
    assert "参观心防体验区" in exc.value.message and "10:00–11:00" in exc.value.message
    # Back to back is fine; outside the opening hours is not.
    services.publish_event(session, w.police, _visit(w, corner, day.replace(hour=11)))
    with pytest.raises(RuleViolation) as exc:
        services.publish_event(
            session, w.police, _visit(w, corner, day.replace(hour=16, minute=30))
        )
    assert exc.value.field == "starts_at"


def test_the_database_refuses_overlapping_corner_bookings(session, w):
    corner = make_corner(session, area=w.community)
    make_event(
        session,
        area=w.community,
        kind="corner_visit",
        target="place",
        corner=corner,
        starts_in=timedelta(days=1),
        hours=2,
    )
    with pytest.raises(IntegrityError), session.begin_nested():
        make_event(
            session,
            area=w.community,
            kind="corner_visit",
            target="place",
            corner=corner,
            starts_in=timedelta(days=1, hours=1),
            hours=2,
        )
    # A cancelled booking frees its time.
    cancelled = make_event(
        session,
        area=w.community,
        kind="corner_visit",
        target="place",
        corner=corner,
        starts_in=timedelta(days=2),
        hours=1,
        status="cancelled",
    )
    make_event(
        session,
        area=w.community,
        kind="corner_visit",
        target="place",
        corner=corner,
        starts_in=timedelta(days=2),
        hours=1,
    )
    assert cancelled.id


def test_attendees_names_are_erased_after_the_retention_the_sign_ins_stay(
    session, w, evening, frozen_clock, app
):
    frozen_clock("2026-12-10 19:05")
    services.sign_in(session, evening, nonce="a" * 20, device="a" * 20, name="李四", employer="A厂")
    services.sign_in(session, evening, nonce="b" * 20, device="b" * 20)
    later = make_event(session, area=w.community, starts_in=timedelta(days=30))
    services.sign_in(
        session, later, nonce="c" * 20, device="c" * 20, name="王五", now=later.starts_at
    )
    days = app.config["OUTREACH_NAME_RETENTION_DAYS"]
    ended = evening.ends_at
    assert services.purge_signin_names(session, ended + timedelta(days=days - 1)) == 0
    assert services.purge_signin_names(session, ended + timedelta(days=days, minutes=1)) == 1
    session.expire_all()
    names = dict(session.execute(select(OutreachSignin.device, OutreachSignin.name)).all())
    assert names == {"a" * 20: None, "b" * 20: None, "c" * 20: "王五"}
    assert queries.live_count(session, evening.id).signins == 2
    employer = session.scalar(
        select(OutreachSignin.employer).where(OutreachSignin.device == "a" * 20)
    )
    assert employer == "A厂"
