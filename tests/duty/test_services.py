"""Duty rules: publishing, the claim guarantee's friendly side, waiting list,
limits, on-duty steps, decisions and closing."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from community.core.errors import Conflict, RuleViolation
from community.core.models import Notification
from community.core.timeutil import utcnow
from community.duty import queries, services
from community.duty.models import DutyClaim, DutyTask
from community.hazards.models import Hazard
from tests.factories.accounts import make_area_tree, make_org
from tests.factories.duty import (
    first_checkpoint,
    make_claim,
    make_coordinator,
    make_duty,
    make_volunteer,
)
from tests.factories.places import make_site


@pytest.fixture(autouse=True)
def _english(app_ctx):
    """Services speak the default language (Chinese) outside a request; tests read English."""
    with force_locale("en"):
        yield


@pytest.fixture
def world(session):
    _d, _s, community = make_area_tree(session)
    coordinator = make_coordinator(session, area=community)
    return community, coordinator


def _input(area, **over):
    start = utcnow() + timedelta(days=1)
    values = dict(
        title="巡逻",
        kind="patrol",
        area=area,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        capacity=3,
        points=5,
        checkpoints="东门\n西门",
        repeat_weeks=0,
    )
    values.update(over)
    return services.DutyInput(**values)


def test_publish_refuses_bad_input_on_each_field(session, world):
    area, coordinator = world
    start = utcnow() - timedelta(hours=1)
    with pytest.raises(RuleViolation) as exc:
        services.publish_duty(
            session,
            coordinator,
            _input(
                area,
                starts_at=start,
                ends_at=start - timedelta(hours=1),
                capacity=0,
                points=-1,
                checkpoints="  \n",
            ),
        )
    fields = {f for f, _m in exc.value.errors}
    assert fields == {"starts_at", "ends_at", "capacity", "points", "checkpoints"}


def test_non_patrol_needs_no_checkpoint_and_repeat_creates_series(session, world):
    area, coordinator = world
    tasks = services.publish_duty(
        session, coordinator, _input(area, kind="mediation", checkpoints="", repeat_weeks=3)
    )
    assert len(tasks) == 4
    assert len({t.series_id for t in tasks}) == 1 and tasks[0].series_id
    assert tasks[3].starts_at - tasks[0].starts_at == timedelta(weeks=3)


def test_checkpoint_naming_a_site_of_the_area_is_linked(session, world):
    area, coordinator = world
    site = make_site(session, area=area, name="东村公寓")
    task = services.publish_duty(session, coordinator, _input(area, checkpoints="东村公寓\n路口"))[
        0
    ]
    session.expire_all()
    cps = queries.get_task(session, task.id).checkpoints
    assert [(c.name, c.site_id) for c in cps] == [("东村公寓", site.id), ("路口", None)]


def test_edit_rest_of_series_moves_times_and_refuses_capacity_below_taken(session, world):
    area, coordinator = world
    tasks = services.publish_duty(session, coordinator, _input(area, repeat_weeks=2))
    volunteer = make_volunteer(session, area=area)
    make_claim(session, task=tasks[1], volunteer=volunteer)
    data = _input(
        area,
        title="夜巡",
        starts_at=tasks[1].starts_at + timedelta(hours=1),
        ends_at=tasks[1].ends_at + timedelta(hours=1),
    )
    services.edit_duty(session, coordinator, tasks[1], data, rest=True)
    assert [t.title for t in tasks] == ["巡逻", "夜巡", "夜巡"]
    assert tasks[2].starts_at - tasks[0].starts_at == timedelta(weeks=2, hours=1)
    # Two places taken now: the capacity cannot go below them.
    make_claim(session, task=tasks[1], volunteer=make_volunteer(session, area=area))
    with pytest.raises(RuleViolation) as exc:
        services.edit_duty(
            session,
            coordinator,
            tasks[1],
            _input(area, starts_at=tasks[1].starts_at, ends_at=tasks[1].ends_at, capacity=1),
        )
    assert exc.value.field == "capacity"


def test_claim_counts_and_full_duty_refuses_with_waiting_list_offer(session, world):
    area, coordinator = world
    task = make_duty(session, area=area, publisher=coordinator, capacity=1)
    first, second = make_volunteer(session, area=area), make_volunteer(session, area=area)
    claim = services.claim_duty(session, first, task)
    session.commit()
    assert claim.status == "claimed" and task.taken == 1
    with pytest.raises(services.DutyFull) as exc:
        services.claim_duty(session, second, task)
    assert "已满" in exc.value.message
    session.rollback()
    assert session.get(DutyTask, task.id).taken == 1


def test_double_claim_refused_already_claimed(session, world):
    area, coordinator = world
    task = make_duty(session, area=area, publisher=coordinator)
    volunteer = make_volunteer(session, area=area)
    services.claim_duty(session, volunteer, task)
    session.commit()
    with pytest.raises(Conflict, match="already claimed"):
        services.claim_duty(session, volunteer, task)
    session.rollback()
    assert session.get(DutyTask, task.id).taken == 1


@pytest.mark.parametrize(
    "case, match",
    [("cancelled", "cancelled"), ("past", "started or is over"), ("later", "open on")],
)
def test_claim_refuses_cancelled_past_and_not_yet_open(session, world, case, match):
    area, coordinator = world
    starts_in = {"cancelled": timedelta(days=1), "past": -timedelta(hours=3)}.get(
        case, timedelta(days=20)
    )
    task = make_duty(
        session,
        area=area,
        publisher=coordinator,
        starts_in=starts_in,
        status="cancelled" if case == "cancelled" else "published",
    )
    with pytest.raises(Conflict, match=match):
        services.claim_duty(session, make_volunteer(session, area=area), task)


def test_database_refuses_overbooking_and_second_live_claim(session, world, _transaction):
    area, coordinator = world
    task = make_duty(session, area=area, publisher=coordinator, capacity=1)
    volunteer = make_volunteer(session, area=area)
    make_claim(session, task=task, volunteer=volunteer)
    session.commit()
    with pytest.raises(IntegrityError):
        with session.begin_nested():
            session.execute(update(DutyTask).where(DutyTask.id == task.id).values(taken=2))
    with pytest.raises(IntegrityError):
        with session.begin_nested():
            session.add(DutyClaim(task_id=task.id, volunteer_id=volunteer.id, status="waiting"))
            session.flush()
    # A cancelled claim does not count: a new one is allowed beside it.
    session.execute(
        text("UPDATE duty_claim SET status = 'cancelled' WHERE task_id = :t"), {"t": task.id}
    )
    session.add(DutyClaim(task_id=task.id, volunteer_id=volunteer.id, status="waiting"))
    session.flush()


def test_waiting_list_gets_the_freed_place_in_order_and_is_notified(session, world):
    area, coordinator = world
    task = make_duty(session, area=area, publisher=coordinator, capacity=1)
    holder, first, second = (make_volunteer(session, area=area) for _ in range(3))
    services.claim_duty(session, holder, task)
    services.join_waiting_list(session, first, task)
    services.join_waiting_list(session, second, task)
    session.commit()
    services.cancel_claim(session, holder, task)
    claims = {c.volunteer_id: c.status for c in queries.task_claims(session, task)}
    assert claims == {holder.id: "cancelled", first.id: "claimed", second.id: "waiting"}
    assert session.get(DutyTask, task.id).taken == 1
    notice = session.scalar(select(Notification).where(Notification.user_id == first.id))
    assert notice.kind == "duty-promoted"


def test_join_waiting_list_refused_when_a_place_is_free(session, world):
    area, coordinator = world
    task = make_duty(session, area=area, publisher=coordinator, capacity=2)
    with pytest.raises(Conflict, match="free place"):
        services.join_waiting_list(session, make_volunteer(session, area=area), task)


def test_cancel_refused_close_to_the_start(session, world, app):
    area, coordinator = world
    hours = app.config["DUTY_CANCEL_HOURS"]
    task = make_duty(
        session, area=area, publisher=coordinator, starts_in=timedelta(hours=hours - 1)
    )
    volunteer = make_volunteer(session, area=area)
    services.claim_duty(session, volunteer, task)
    with pytest.raises(Conflict, match="hours before the start"):
        services.cancel_claim(session, volunteer, task)


def test_daily_cap_and_overlap_name_the_reason(session, world, app):
    area, coordinator = world
    volunteer = make_volunteer(session, area=area)
    base = (utcnow() + timedelta(days=2)).replace(hour=1, minute=0, second=0, microsecond=0)
    first = make_duty(session, area=area, publisher=coordinator, title="早班", starts_at=base)
    overlapping = make_duty(
        session, area=area, publisher=coordinator, starts_at=base + timedelta(hours=1)
    )
    services.claim_duty(session, volunteer, first)
    session.commit()
    with pytest.raises(Conflict, match="早班"):
        services.claim_duty(session, volunteer, overlapping)
    session.rollback()
    cap = app.config["DUTY_DAILY_CAP"]
    for i in range(1, cap):
        services.claim_duty(
            session,
            volunteer,
            make_duty(
                session, area=area, publisher=coordinator, starts_at=base + timedelta(hours=3 * i)
            ),
        )
    extra = make_duty(
        session, area=area, publisher=coordinator, starts_at=base + timedelta(hours=3 * cap)
    )
    session.commit()
    with pytest.raises(Conflict, match="that day"):
        services.claim_duty(session, volunteer, extra)
    session.rollback()


def test_three_no_shows_bar_claims_and_say_until_when(session, world):
    area, coordinator = world
    volunteer = make_volunteer(session, area=area)
    for days in (3, 6, 9):
        past = make_duty(session, area=area, publisher=coordinator, starts_in=-timedelta(days=days))
        make_claim(session, task=past, volunteer=volunteer, status="no_show")
    task = make_duty(session, area=area, publisher=coordinator)
    session.commit()
    with pytest.raises(Conflict, match="claim again from"):
        services.claim_duty(session, volunteer, task)
    session.rollback()
    assert services.no_show_bar(session, volunteer.id, utcnow() + timedelta(days=12)) is None


def test_check_in_window_visits_and_check_out_with_hazard(session, world):
    area, coordinator = world
    site = make_site(session, area=area, name="西村出租屋")
    task = make_duty(
        session,
        area=area,
        publisher=coordinator,
        starts_in=timedelta(hours=2),
        checkpoints="西村出租屋\n路口",
    )
    volunteer = make_volunteer(session, area=area)
    claim = services.claim_duty(session, volunteer, task)
    with pytest.raises(Conflict, match="Check-in opens at"):
        services.check_in(session, volunteer, claim)
    session.execute(
        update(DutyTask)
        .where(DutyTask.id == task.id)
        .values(starts_at=utcnow() + timedelta(minutes=10))
    )
    session.expire(task)
    services.check_in(session, volunteer, claim)
    assert claim.status == "on_duty"
    cp = first_checkpoint(session, task)
    visit = services.visit_checkpoint(session, volunteer, claim, cp, lat=30.25, lon=120.16)
    again = services.visit_checkpoint(session, volunteer, claim, cp)
    assert again.id == visit.id and visit.lat == 30.25
    services.check_out(
        session,
        volunteer,
        claim,
        "一切正常",
        [services.HazardInput("楼道堆物", "high", site)],
    )
    assert claim.status == "reported"
    hazard = session.scalar(select(Hazard).where(Hazard.site_id == site.id))
    assert hazard.reported_by_id == volunteer.id and hazard.status == "open"


def test_approve_awards_points_once_and_second_decision_conflicts(session, world):
    area, coordinator = world
    task = make_duty(session, area=area, publisher=coordinator, points=12)
    claim = make_claim(
        session, task=task, volunteer=make_volunteer(session, area=area), status="reported"
    )
    assert [c.id for c in queries.list_pending_reports(session, coordinator)] == [claim.id]
    services.approve_report(session, coordinator, claim)
    assert claim.status == "approved" and claim.points_awarded == 12
    with pytest.raises(Conflict, match="already decided"):
        services.reject_report(session, coordinator, claim, "no")
    with pytest.raises(RuleViolation):
        services.reject_report(session, coordinator, claim, "  ")
    assert queries.list_pending_reports(session, coordinator) == []


def test_pending_reports_are_scoped_to_the_coordinators_areas(session, world):
    area, coordinator = world
    _d, _s, elsewhere = make_area_tree(session)
    task = make_duty(session, area=elsewhere)
    make_claim(
        session, task=task, volunteer=make_volunteer(session, area=elsewhere), status="reported"
    )
    assert queries.list_pending_reports(session, coordinator) == []


def test_close_duties_marks_no_shows_and_done_and_is_idempotent(session, world):
    area, coordinator = world
    past = make_duty(session, area=area, publisher=coordinator, starts_in=-timedelta(hours=5))
    absent = make_claim(session, task=past, volunteer=make_volunteer(session, area=area))
    present = make_claim(
        session, task=past, volunteer=make_volunteer(session, area=area), status="reported"
    )
    assert services.close_duties(session) == (1, 1)
    assert services.close_duties(session) == (0, 0)
    session.refresh(absent)
    session.refresh(present)
    session.refresh(past)
    assert (absent.status, present.status, past.status) == ("no_show", "reported", "done")


def test_cancel_duty_cancels_claims_and_notifies(session, world):
    area, coordinator = world
    task = make_duty(session, area=area, publisher=coordinator, capacity=1)
    a, b = make_volunteer(session, area=area), make_volunteer(session, area=area)
    services.claim_duty(session, a, task)
    services.join_waiting_list(session, b, task)
    services.cancel_duty(session, coordinator, task)
    assert task.status == "cancelled" and task.taken == 0
    kinds = session.scalars(
        select(Notification.kind).where(Notification.user_id.in_([a.id, b.id]))
    ).all()
    assert kinds == ["duty-cancelled", "duty-cancelled"]
    with pytest.raises(Conflict):
        services.cancel_duty(session, coordinator, task)


def test_team_reserved_duty_only_for_its_members(session, world):
    from community.accounts.permissions import can

    area, coordinator = world
    team = make_org(session, kind="volunteer_team", area=area)
    task = make_duty(session, area=area, publisher=coordinator, team=team)
    member = make_volunteer(session, team=team)
    outsider = make_volunteer(session, area=area)
    assert can(member, "duty.claim", task)
    assert not can(outsider, "duty.claim", task)
    # The start page's open duties apply the same rule in SQL.
    open_to_all = make_duty(session, area=area, publisher=coordinator)
    far = make_duty(session, area=make_area_tree(session)[2], publisher=None)

    def shown(user):
        found = queries.list_duties(
            session, user, start=queries.local_today(), days=7, claimable_only=True, limit=5
        )
        return {t.id for t in found}

    assert shown(member) == {task.id, open_to_all.id}
    assert shown(outsider) == {open_to_all.id}
    assert far.id not in shown(member) | shown(outsider)


def test_volunteer_record_totals_count_every_claim_not_only_the_shown_ones(
    session, world, monkeypatch
):
    from community.duty import queries

    community, coordinator = world
    volunteer = make_volunteer(session, area=community)
    for points, status in ((7, "approved"), (5, "approved"), (0, "no_show"), (0, "cancelled")):
        task = make_duty(
            session, area=community, publisher=coordinator, starts_in=-timedelta(days=3)
        )
        claim = make_claim(session, task=task, volunteer=volunteer, status=status)
        claim.points_awarded = points
    session.flush()
    monkeypatch.setattr(queries, "LIST_LIMIT", 1)
    record = queries.volunteer_record(session, coordinator, volunteer)
    assert len(record.claims) == 1
    assert (record.points, record.duties, record.no_shows) == (12, 2, 1)


def test_claimability_names_each_state_and_the_rows_rule_agrees(session, world):
    """One rule: claimability() for a task, claimable_now() for rows, the claim by it."""
    area, coordinator = world
    me = make_volunteer(session, area=area)
    now = utcnow()
    tasks = {
        "open": make_duty(session, area=area, publisher=coordinator),
        "not_open": make_duty(
            session, area=area, publisher=coordinator, starts_in=timedelta(days=9)
        ),
        "started": make_duty(
            session, area=area, publisher=coordinator, starts_in=-timedelta(minutes=5)
        ),
        "over": make_duty(session, area=area, publisher=coordinator, starts_in=-timedelta(hours=5)),
        "cancelled": make_duty(session, area=area, publisher=coordinator, status="cancelled"),
        "full": make_duty(session, area=area, publisher=coordinator, capacity=1),
        "mine": make_duty(session, area=area, publisher=coordinator, starts_in=timedelta(days=3)),
    }
    make_claim(session, task=tasks["full"], volunteer=make_volunteer(session, area=area))
    mine = make_claim(session, task=tasks["mine"], volunteer=me)
    session.flush()
    for t in tasks.values():
        session.refresh(t)
    verdicts = {
        name: services.claimability(t, now, mine if name == "mine" else None)
        for name, t in tasks.items()
    }
    assert {name: v.state for name, v in verdicts.items()} == {n: n for n in tasks}
    assert verdicts["not_open"].when == tasks["not_open"].starts_at - timedelta(days=7)
    assert verdicts["mine"].claim is mine
    assert [n for n, v in verdicts.items() if v.can_claim] == ["open"]
    assert [n for n, v in verdicts.items() if v.can_wait] == ["full"]
    ids = {t.id: n for n, t in tasks.items()}
    rows = session.scalars(
        select(DutyTask.id).where(DutyTask.id.in_(ids), services.claimable_now(now))
    ).all()
    assert {ids[i] for i in rows} == {"open", "mine"}  # "mine" is claimable_by's part
    rows = session.scalars(
        select(DutyTask.id).where(DutyTask.id.in_(ids), services.claimable_by(session, me, now))
    ).all()
    assert {ids[i] for i in rows} == {"open"}
    # The claim refuses exactly what the card does not offer, with its reason.
    for name, t in tasks.items():
        if name == "open":
            continue
        with pytest.raises(Conflict) as refused:
            services.claim_duty(session, me, t)
        assert str(refused.value.message) == services.refusal(verdicts[name]), name


def test_claimable_by_leaves_out_a_day_where_the_volunteer_holds_the_most_duties(
    session, world, app
):
    area, coordinator = world
    me = make_volunteer(session, area=area)
    zone = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
    day = utcnow().replace(tzinfo=UTC).astimezone(zone).date() + timedelta(days=2)

    def at(days: int, hour: int):
        local = datetime.combine(day + timedelta(days=days), time(hour), tzinfo=zone)
        return local.astimezone(UTC).replace(tzinfo=None)

    for hour in (8, 10):  # DUTY_DAILY_CAP = 2 on `day`
        held = make_duty(session, area=area, publisher=coordinator, starts_at=at(0, hour), hours=1)
        make_claim(session, task=held, volunteer=me)
    same_day = make_duty(session, area=area, publisher=coordinator, starts_at=at(0, 15))
    next_day = make_duty(session, area=area, publisher=coordinator, starts_at=at(1, 15))
    session.flush()
    shown = session.scalars(
        select(DutyTask.id).where(
            DutyTask.id.in_([same_day.id, next_day.id]),
            services.claimable_by(session, me, utcnow()),
        )
    ).all()
    assert shown == [next_day.id]
    with pytest.raises(Conflict, match="most per day"):
        services.claim_duty(session, me, same_day)
