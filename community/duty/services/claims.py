"""Claims and the waiting list: when a task takes a claim (one rule, for one task and
in SQL for rows), claim a place, join the waiting list, give a place up, and the
promotion of the first in line when a place comes free.

Every change of a task's places starts with a conditional UPDATE of the task row
(see the package doc); a refusal after it raises Conflict and the caller rolls back.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from community.core import audit
from community.core.errors import Conflict
from community.core.notify import notify, register_message
from community.core.timeutil import day_bounds, local_date, to_local, utcnow
from community.duty.models import PLACE_STATES, DutyClaim, DutyTask
from community.duty.services.common import duty_link, setting, when

register_message(
    "duty-promoted",
    _l("A place became free: you now hold the duty “%(title)s” on %(when)s."),
)

audit.register_actions(
    {
        "duty_claimed": _l("Duty claimed"),
        "duty_waiting": _l("Joined a duty's waiting list"),
        "duty_promoted": _l("Moved up from the waiting list"),
        "duty_claim_cancelled": _l("Claim cancelled"),
    }
)


def cancel_closes(task: DutyTask) -> datetime:
    """Until when a claimed place may be given up: DUTY_CANCEL_HOURS before the start."""
    return task.starts_at - timedelta(hours=setting("DUTY_CANCEL_HOURS"))


def claims_open_at(task: DutyTask) -> datetime:
    """When claims open: DUTY_CLAIM_OPENS_DAYS before the start."""
    return task.starts_at - timedelta(days=setting("DUTY_CLAIM_OPENS_DAYS"))


@dataclass(frozen=True)
class Claimability:
    """What a volunteer may do with a task now, before any tap. `state` is one of
    "mine" (they hold a live claim: `claim`), "cancelled", "over", "started",
    "not_open" (claims open at `when`, naive UTC), "full" (the waiting list is open)
    or "open" (a place can be claimed)."""

    state: str
    when: datetime | None = None
    claim: DutyClaim | None = None

    @property
    def can_claim(self) -> bool:
        return self.state == "open"

    @property
    def can_wait(self) -> bool:
        return self.state == "full"


def claimability(task: DutyTask, now: datetime, my_claim: DutyClaim | None = None) -> Claimability:
    """The one rule of when a task takes a claim, for one task and the volunteer's
    live claim on it (or None). claim_duty and join_waiting_list refuse by it, the
    card shows it; `claimable_now` is the same rule for rows (in SQL)."""
    if my_claim is not None and my_claim.status != "cancelled":
        return Claimability("mine", claim=my_claim)
    if task.status == "cancelled":
        return Claimability("cancelled")
    if task.status == "done" or task.ends_at <= now:
        return Claimability("over")
    if task.starts_at <= now:
        return Claimability("started")
    opens = claims_open_at(task)
    if now < opens:
        return Claimability("not_open", when=opens)
    if task.is_full:
        return Claimability("full")
    return Claimability("open")


def claimable_now(now: datetime):
    """SQL condition on DutyTask: claimability() is "open" (published, claims open,
    not started, a free place); what is mine is `claimable_by`'s part."""
    return and_(
        DutyTask.status == "published",
        DutyTask.starts_at > now,
        DutyTask.starts_at <= now + timedelta(days=setting("DUTY_CLAIM_OPENS_DAYS")),
        DutyTask.taken < DutyTask.capacity,
    )


def _held_places(volunteer_id: int, task=DutyTask):
    """SELECT of the (not cancelled) tasks the volunteer holds a place on."""
    return (
        select(task)
        .join(DutyClaim, DutyClaim.task_id == task.id)
        .where(
            DutyClaim.volunteer_id == volunteer_id,
            DutyClaim.status.in_(PLACE_STATES),
            task.status != "cancelled",
        )
    )


def claimable_by(session: Session, volunteer: Any, now: datetime):
    """SQL condition on DutyTask: the volunteer can claim it now (check_limits for
    rows). claimable_now, no live claim of theirs on it, no place of theirs on an
    overlapping duty, not on a day where they hold DUTY_DAILY_CAP duties already, and
    they are not barred for no-shows. Two small queries first (the bar, the days)."""
    if no_show_bar(session, volunteer.id, now) is not None:
        return false()
    first, _end = day_bounds(to_local(now).date())
    held_days = Counter(
        to_local(start).date()
        for start in session.scalars(
            _held_places(volunteer.id)
            .with_only_columns(DutyTask.starts_at)
            .where(DutyTask.starts_at >= first)
        )
    )
    cap = setting("DUTY_DAILY_CAP")
    full_days = [day_bounds(day) for day, held in held_days.items() if held >= cap]
    on_full_day = or_(
        false(), *(and_(DutyTask.starts_at >= lo, DutyTask.starts_at < hi) for lo, hi in full_days)
    )
    mine = (
        select(DutyClaim.id)
        .where(
            DutyClaim.task_id == DutyTask.id,
            DutyClaim.volunteer_id == volunteer.id,
            DutyClaim.status != "cancelled",
        )
        .exists()
    )
    other = aliased(DutyTask)
    overlapping = (
        _held_places(volunteer.id, other)
        .where(other.starts_at < DutyTask.ends_at, other.ends_at > DutyTask.starts_at)
        .exists()
    )
    return and_(claimable_now(now), ~mine, ~overlapping, ~on_full_day)


def refusal(verdict: Claimability) -> str:
    """Why a task takes no claim (the card shows the state, the 409 says this)."""
    if verdict.state == "mine":
        return _already(verdict.claim)
    if verdict.state == "cancelled":
        return _("This duty was cancelled.")
    if verdict.state in ("over", "started"):
        return _("This duty has already started or is over.")
    if verdict.state == "not_open":
        return _(
            "Claims for this duty open on %(when)s.",
            when=to_local(verdict.when).strftime("%Y-%m-%d %H:%M"),
        )
    return _("This duty is full (已满). You may join the waiting list.")


class DutyFull(Conflict):
    """The duty has no free place: the answer offers the waiting list."""


def no_show_bar(session: Session, volunteer_id: int, now: datetime) -> datetime | None:
    """Until when the volunteer may not claim (3 no-shows within 30 days bar them for
    14 days from the last of those), or None."""
    limit, window, bar = (
        setting("DUTY_NO_SHOW_LIMIT"),
        timedelta(days=setting("DUTY_NO_SHOW_WINDOW_DAYS")),
        timedelta(days=setting("DUTY_NO_SHOW_BAR_DAYS")),
    )
    times = list(
        session.scalars(
            select(DutyTask.ends_at)
            .join(DutyClaim, DutyClaim.task_id == DutyTask.id)
            .where(
                DutyClaim.volunteer_id == volunteer_id,
                DutyClaim.status == "no_show",
                DutyTask.ends_at >= now - window - bar,
            )
            .order_by(DutyTask.ends_at)
        )
    )
    until = None
    for i in range(limit - 1, len(times)):
        if times[i] - times[i - limit + 1] <= window:
            until = times[i] + bar
    return until if until is not None and until > now else None


def check_limits(session: Session, volunteer_id: int, task: DutyTask, now: datetime) -> None:
    """The volunteer's own limits: not barred for no-shows, at most DUTY_DAILY_CAP
    duties on the task's day, none overlapping it. Conflict naming the reason."""
    until = no_show_bar(session, volunteer_id, now)
    if until is not None:
        raise Conflict(
            _(
                "You missed %(num)d duties within %(days)d days: "
                "you may claim again from %(until)s.",
                num=setting("DUTY_NO_SHOW_LIMIT"),
                days=setting("DUTY_NO_SHOW_WINDOW_DAYS"),
                until=to_local(until).strftime("%Y-%m-%d %H:%M"),
            )
        )
    held = _held_places(volunteer_id).where(DutyTask.id != task.id)
    other = session.scalar(
        held.where(DutyTask.starts_at < task.ends_at, DutyTask.ends_at > task.starts_at).limit(1)
    )
    if other is not None:
        raise Conflict(
            _(
                "It overlaps your duty “%(title)s” on %(when)s.",
                title=other.title,
                when=when(other),
            )
        )
    start, end = day_bounds(local_date(task.starts_at))
    same_day = session.scalar(
        select(func.count()).select_from(
            held.where(DutyTask.starts_at >= start, DutyTask.starts_at < end).subquery()
        )
    )
    cap = setting("DUTY_DAILY_CAP")
    if same_day >= cap:
        raise Conflict(_("You already hold %(num)d duties that day (the most per day).", num=cap))


def _live_claim(session: Session, volunteer_id: int, task_id: int) -> DutyClaim | None:
    return session.scalar(
        select(DutyClaim).where(
            DutyClaim.task_id == task_id,
            DutyClaim.volunteer_id == volunteer_id,
            DutyClaim.status != "cancelled",
        )
    )


def _already(claim: DutyClaim) -> str:
    if claim.status == "waiting":
        return _("You are already on the waiting list of this duty.")
    return _("You already claimed this duty (already claimed).")


def _insert_claim(session: Session, volunteer: Any, task: DutyTask, status: str) -> DutyClaim:
    claim = DutyClaim(
        task_id=task.id, volunteer_id=volunteer.id, status=status, claimed_at=utcnow()
    )
    session.add(claim)
    try:
        session.flush()
    except IntegrityError as exc:
        # A concurrent claim by the same volunteer won the partial unique index.
        raise Conflict(_("You already claimed this duty (already claimed).")) from exc
    claim.task = task
    return claim


def _take_place(session: Session, task: DutyTask, now: datetime, *, claim: bool = False) -> bool:
    """The conditional UPDATE that takes one place of a published task that has not
    started (for a claim: one claimable now, `claimable_now`): True when it did."""
    if claim:
        condition = claimable_now(now)
    else:
        condition = and_(
            DutyTask.taken < DutyTask.capacity,
            DutyTask.status == "published",
            DutyTask.starts_at > now,
        )
    result = session.execute(
        update(DutyTask)
        .where(DutyTask.id == task.id, condition)
        .values(taken=DutyTask.taken + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def claim_duty(session: Session, volunteer: Any, task: DutyTask) -> DutyClaim:
    """Take one place. The first statement is the conditional UPDATE (see module
    doc); DutyFull when no place is left, Conflict for a cancelled, started or
    not-yet-open task, a second claim, a no-show bar, the daily cap or an overlap.
    After a Conflict the caller must roll back (the UPDATE may have run)."""
    now = utcnow()
    took = _take_place(session, task, now, claim=True)
    session.expire(task, ["taken", "status"])
    verdict = claimability(task, now, _live_claim(session, volunteer.id, task.id))
    if verdict.state == "mine":
        raise Conflict(refusal(verdict))
    if not took:
        # "open" here: the last place went between the UPDATE and this re-read.
        if verdict.state in ("full", "open"):
            raise DutyFull(refusal(Claimability("full")))
        raise Conflict(refusal(verdict))
    check_limits(session, volunteer.id, task, now)
    claim = _insert_claim(session, volunteer, task, "claimed")
    audit.record(session, volunteer, "duty_claimed", claim, {"task_id": task.id})
    return claim


def join_waiting_list(session: Session, volunteer: Any, task: DutyTask) -> DutyClaim:
    """Queue for a full task (a waiting claim holds no place). Conflict when the task
    takes no claims, has a free place (claim it instead) or the volunteer is in."""
    now = utcnow()
    # Lock the task row first (a no-op write), as every change of its places does.
    session.execute(
        update(DutyTask)
        .where(DutyTask.id == task.id)
        .values(taken=DutyTask.taken)
        .execution_options(synchronize_session=False)
    )
    session.expire(task, ["taken", "status"])
    verdict = claimability(task, now, _live_claim(session, volunteer.id, task.id))
    if verdict.can_claim:
        raise Conflict(_("This duty still has a free place: claim it."))
    if not verdict.can_wait:
        raise Conflict(refusal(verdict))
    if no_show_bar(session, volunteer.id, now) is not None:
        check_limits(session, volunteer.id, task, now)  # raises the bar's message
    claim = _insert_claim(session, volunteer, task, "waiting")
    audit.record(session, volunteer, "duty_waiting", claim, {"task_id": task.id})
    return claim


def fill_from_waiting(session: Session, task: DutyTask) -> list[DutyClaim]:
    """Give free places of a published, not yet started task to the first in line who
    may take them (not barred, under the daily cap, no overlap), at once and in this
    transaction; they are notified. Each place: the conditional UPDATE of the task,
    then the conditional UPDATE of the waiting claim."""
    now = utcnow()
    promoted: list[DutyClaim] = []
    skipped: set[int] = set()
    while True:
        if not _take_place(session, task, now):
            break
        chosen = None
        candidates = session.scalars(
            select(DutyClaim)
            .where(
                DutyClaim.task_id == task.id,
                DutyClaim.status == "waiting",
                DutyClaim.id.not_in(skipped) if skipped else DutyClaim.id.is_not(None),
            )
            .order_by(DutyClaim.claimed_at, DutyClaim.id)
        ).all()
        for candidate in candidates:
            try:
                check_limits(session, candidate.volunteer_id, task, now)
            except Conflict:
                skipped.add(candidate.id)
                continue
            moved = session.execute(
                update(DutyClaim)
                .where(DutyClaim.id == candidate.id, DutyClaim.status == "waiting")
                .values(status="claimed")
                .execution_options(synchronize_session=False)
            )
            session.expire(candidate, ["status"])
            if moved.rowcount == 1:
                chosen = candidate
                break
        if chosen is None:
            session.execute(
                update(DutyTask)
                .where(DutyTask.id == task.id)
                .values(taken=DutyTask.taken - 1)
                .execution_options(synchronize_session=False)
            )
            break
        promoted.append(chosen)
        notify(
            session,
            [chosen.volunteer_id],
            "duty-promoted",
            link=duty_link(task),
            title=task.title,
            when=when(task),
        )
        audit.record(session, None, "duty_promoted", chosen, {"task_id": task.id})
    session.expire(task, ["taken"])
    return promoted


def cancel_claim(session: Session, volunteer: Any, task: DutyTask) -> DutyClaim:
    """Give up a place (or leave the waiting list) until DUTY_CANCEL_HOURS before the
    start; the place goes at once to the first in line. Conflict when too late or
    there is nothing to cancel."""
    now = utcnow()
    claim = _live_claim(session, volunteer.id, task.id)
    if claim is None or claim.status not in ("claimed", "waiting"):
        raise Conflict(_("You hold no claim on this duty that can be cancelled."))
    hours = setting("DUTY_CANCEL_HOURS")
    if claim.status == "claimed" and cancel_closes(task) <= now:
        raise Conflict(
            _("Claims can be cancelled until %(hours)d hours before the start.", hours=hours)
        )
    was = claim.status
    # Task row first (the lock every change of places takes), then the claim.
    if was == "claimed":
        session.execute(
            update(DutyTask)
            .where(DutyTask.id == task.id, DutyTask.taken > 0)
            .values(taken=DutyTask.taken - 1)
            .execution_options(synchronize_session=False)
        )
    result = session.execute(
        update(DutyClaim)
        .where(DutyClaim.id == claim.id, DutyClaim.status == was)
        .values(status="cancelled", cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    session.expire(claim, ["status", "cancelled_at"])
    session.expire(task, ["taken"])
    if result.rowcount != 1:
        raise Conflict(_("This claim changed meanwhile; reload the page."))
    audit.record(session, volunteer, "duty_claim_cancelled", claim, {"task_id": task.id})
    if was == "claimed":
        fill_from_waiting(session, task)
    session.flush()
    return claim
