"""Demo duties for seed-demo: four volunteer teams with 60 volunteers, and a month
of duties of every kind in every state (some full with a waiting list).

Publishing goes through the service; the past (claims checked in, reported,
decided, missed) is written as it would stand by now, in bulk, so the seed stays
fast. Volunteers beyond the demo accounts cannot log in (no password)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from community.accounts import services as accounts
from community.accounts.models import Membership, User
from community.core.timeutil import to_utc, utcnow
from community.core.timeutil import today as local_today
from community.duty import services
from community.duty.models import CheckpointVisit, DutyCheckpoint, DutyClaim, DutyTask

COMMUNITY = "东村社区"
TEAMS = ("普法宣传", "纠纷调解", "治安巡防", "消防巡查")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"
TITLES = {
    "patrol": "夜间治安巡防",
    "fire_check": "出租屋消防巡查",
    "legal_publicity": "普法宣传进社区",
    "mediation": "邻里纠纷调解",
    "anti_fraud": "反诈宣传进楼道",
}
# The kinds the demo publishes (outreach staffs the "publicity" ones itself).
DEMO_KINDS = tuple(TITLES)
VOLUNTEERS = 60


def _volunteers(session: Session, context: dict) -> list[User]:
    area = context["areas"][COMMUNITY]
    teams = [
        accounts.create_organization(session, f"东村{name}志愿服务队", "volunteer_team", area)
        for name in TEAMS
    ]
    context.setdefault("orgs", {}).update({t.name: t for t in teams})
    people = []
    for i in range(VOLUNTEERS):
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)] + GIVEN[i % 5]
        # "!" is no scrypt hash: these demo people cannot log in.
        user = User(username=f"vol{i + 1:02d}", display_name=name, password_hash="!")
        session.add(user)
        people.append(user)
    session.flush()
    # Valid by construction (volunteer in a volunteer team): written in one go.
    session.add_all(
        Membership(user_id=u.id, organization_id=teams[i % len(teams)].id, role="volunteer")
        for i, u in enumerate(people)
    )
    session.flush()
    return people


def seed(session: Session, context: dict) -> None:
    users = context.get("users") or {}
    coordinator, volunteer = users.get("coordinator"), users.get("volunteer")
    if coordinator is None or COMMUNITY not in (context.get("areas") or {}):
        return
    area = context["areas"][COMMUNITY]
    people = _volunteers(session, context)
    if volunteer is not None:
        people = [volunteer, *people]
    sites = [s.name for s in (context.get("sites") or {}).values() if s.area_id == area.id][:2]
    route = "\n".join(["东门岗亭", *sites, "南门路口"])
    today = local_today()
    now = utcnow()
    tasks: list[DutyTask] = []
    for offset in range(-21, 10):
        day = today + timedelta(days=offset)
        for slot, hour in enumerate((9, 19) if offset % 2 == 0 else (19,)):
            kind = DEMO_KINDS[(offset + slot) % len(DEMO_KINDS)]
            start = to_utc(datetime.combine(day, time(hour)))
            future = max(start, now + timedelta(hours=1))
            task = services.publish_duty(
                session,
                coordinator,
                services.DutyInput(
                    title=TITLES[kind],
                    kind=kind,
                    area=area,
                    starts_at=future,
                    ends_at=future + timedelta(hours=2),
                    capacity=3 + (offset % 4),
                    points=10 + 5 * (slot + offset % 3),
                    checkpoints=route if kind in ("patrol", "fire_check") else "",
                ),
            )[0]
            if future != start:
                task.starts_at, task.ends_at = start, start + timedelta(hours=2)
            tasks.append(task)
    session.flush()
    checkpoints = {}
    for cp in session.scalars(
        select(DutyCheckpoint).where(DutyCheckpoint.task_id.in_([t.id for t in tasks]))
    ):
        checkpoints.setdefault(cp.task_id, []).append(cp)
    # A duty going on now that the demo volunteer may check into at once.
    current = services.publish_duty(
        session,
        coordinator,
        services.DutyInput(
            title="午间治安巡防",
            kind="patrol",
            area=area,
            starts_at=now + timedelta(hours=1),
            ends_at=now + timedelta(hours=3),
            capacity=4,
            points=15,
            checkpoints=route,
        ),
    )[0]
    current.starts_at = now - timedelta(minutes=10)
    session.flush()
    claims: list[DutyClaim] = []
    visits: list[CheckpointVisit] = []
    taken: dict[int, int] = {}
    cursor = 0

    def next_person():
        nonlocal cursor
        cursor += 1
        return people[cursor % len(people)]

    for i, task in enumerate(tasks):
        past = task.ends_at <= now
        places = task.capacity if i % 3 == 0 else max(task.capacity - 2, 1)
        if not past and i % 3 == 0:
            places = task.capacity  # full: a waiting list follows
        holders = [next_person() for _ in range(places)]
        if i == len(tasks) - 3 and volunteer is not None and volunteer not in holders:
            holders[0] = volunteer  # the demo volunteer holds an upcoming duty
        for n, person in enumerate(holders):
            if past:
                status = ("approved", "approved", "reported", "rejected", "no_show")[(i + n) % 5]
            else:
                status = "claimed"
            claim = DutyClaim(
                task_id=task.id,
                volunteer_id=person.id,
                status=status,
                claimed_at=task.starts_at - timedelta(days=2, minutes=n),
            )
            if status in ("approved", "reported", "rejected"):
                claim.checked_in_at = task.starts_at - timedelta(minutes=5)
                claim.checked_out_at = task.ends_at - timedelta(minutes=10)
                claim.report = (
                    "路线巡查完毕，未发现异常。" if n % 2 else "发现楼道堆物，已提醒房东整改。"
                )
            if status in ("approved", "rejected"):
                claim.decided_by_id = coordinator.id
                claim.decided_at = task.ends_at + timedelta(hours=3)
            if status == "approved":
                claim.points_awarded = task.points
            if status == "rejected":
                claim.decision_reason = "报告过于简略，请补充情况"
            claims.append(claim)
        taken[task.id] = len(holders)
        if not past and i % 3 == 0:
            for n in range(2):
                claims.append(
                    DutyClaim(
                        task_id=task.id,
                        volunteer_id=next_person().id,
                        status="waiting",
                        claimed_at=task.starts_at - timedelta(days=1, minutes=n),
                    )
                )
    if volunteer is not None:
        claims.append(
            DutyClaim(
                task_id=current.id,
                volunteer_id=volunteer.id,
                status="claimed",
                claimed_at=now - timedelta(days=1),
            )
        )
        taken[current.id] = 1
    session.add_all(claims)
    session.flush()
    for claim in claims:
        if claim.checked_in_at is not None:
            for k, cp in enumerate(checkpoints.get(claim.task_id, [])):
                visits.append(
                    CheckpointVisit(
                        claim_id=claim.id,
                        checkpoint_id=cp.id,
                        visited_at=claim.checked_in_at + timedelta(minutes=20 * (k + 1)),
                    )
                )
    session.add_all(visits)
    for task_id, count in taken.items():
        session.execute(update(DutyTask).where(DutyTask.id == task_id).values(taken=count))
    # One cancelled duty (its claimants were told) and the past closed.
    cancelled = tasks[-2]
    session.expire(cancelled)
    services.cancel_duty(session, coordinator, cancelled)
    services.close_duties(session)
    session.flush()
