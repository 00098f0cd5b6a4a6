"""Factories for duties, volunteers and claims in any state."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from sqlalchemy import select, update

from community.core.timeutil import utcnow
from community.duty import services
from community.duty.models import DutyCheckpoint, DutyClaim, DutyTask
from tests.factories.accounts import make_org, make_role_user

_seq = itertools.count(1)


def make_coordinator(session, *, area, password="correct-horse-battery"):
    org = make_org(session, kind="community_office", area=area)
    return make_role_user(session, "coordinator", org=org, password=password)


def make_volunteer(
    session, *, area=None, team=None, username=None, password="correct-horse-battery"
):
    """A volunteer of `area` (org-less) or a member of volunteer team `team`."""
    return make_role_user(
        session,
        "volunteer",
        org=team,
        area=None if team else area,
        password=password,
        username=username,
    )


def make_duty(
    session,
    *,
    area,
    publisher=None,
    title=None,
    kind="patrol",
    starts_in: timedelta = timedelta(days=2),
    hours: float = 2,
    capacity: int = 5,
    points: int = 10,
    checkpoints: str = "东门\n南门\n北门",
    repeat_weeks: int = 0,
    team=None,
    starts_at: datetime | None = None,
    status: str = "published",
) -> DutyTask:
    """A published duty through the service; `starts_in` may be negative (the row is
    moved into the past after publishing, as time would have done)."""
    start = starts_at or (utcnow() + starts_in).replace(microsecond=0)
    future = start if start > utcnow() + timedelta(minutes=1) else utcnow() + timedelta(days=1)
    tasks = services.publish_duty(
        session,
        publisher,
        services.DutyInput(
            title=title or f"duty {next(_seq)}",
            kind=kind,
            area=area,
            starts_at=future,
            ends_at=future + timedelta(hours=hours),
            capacity=capacity,
            points=points,
            checkpoints=checkpoints,
            repeat_weeks=repeat_weeks,
            team=team,
        ),
    )
    task = tasks[0]
    if future != start or status != "published":
        session.execute(
            update(DutyTask)
            .where(DutyTask.id == task.id)
            .values(starts_at=start, ends_at=start + timedelta(hours=hours), status=status)
        )
        session.expire(task)
    return task


def make_claim(session, *, task, volunteer, status="claimed", checked_in_at=None, report=None):
    """A claim written directly in `status` (taken follows for place-holding states)."""
    claim = DutyClaim(
        task_id=task.id,
        volunteer_id=volunteer.id,
        status=status,
        claimed_at=utcnow(),
        checked_in_at=checked_in_at,
        checked_out_at=utcnow() if status in ("reported", "approved", "rejected") else None,
        report=report or ("all quiet" if status in ("reported", "approved", "rejected") else None),
    )
    session.add(claim)
    if status in ("claimed", "on_duty", "reported", "approved", "rejected", "no_show"):
        session.execute(
            update(DutyTask).where(DutyTask.id == task.id).values(taken=DutyTask.taken + 1)
        )
        session.expire(task, ["taken"])
    session.flush()
    return claim


def first_checkpoint(session, task) -> DutyCheckpoint:
    return session.scalar(
        select(DutyCheckpoint)
        .where(DutyCheckpoint.task_id == task.id)
        .order_by(DutyCheckpoint.position)
    )
