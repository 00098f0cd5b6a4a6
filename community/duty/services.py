"""Duty rules: publish (with weekly repeats), edit, cancel; claim, wait, cancel a
claim; check in, tick checkpoints, check out with a report and hazards; approve or
reject reports; close ended duties.

The guarantee. A claim's first statement is one conditional UPDATE of the task
(`taken = taken + 1 WHERE taken < capacity AND status = 'published' AND open`):
PostgreSQL takes the row lock and re-checks the WHERE after waiting on a
concurrent claim; SQLite (whose driver begins the transaction at this first
write) serialises writers on the database lock. Only then is the claim inserted,
under a partial unique index (one live claim per task and volunteer). Every
change of `taken` (claim, cancel, promotion from the waiting list, capacity
edit, cancelling the task) goes through a conditional UPDATE of the same task row,
so they serialise per task. A refusal after the UPDATE raises Conflict and the
caller rolls the transaction back (views do so before answering 409).
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, false, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from community.accounts.models import Area, Organization
from community.accounts.permissions import area_subtree_filter
from community.core import audit
from community.core.errors import Conflict, RuleViolation
from community.core.notify import notify, path_for, register_message
from community.core.timeutil import day_bounds, local_date, to_local, utcnow
from community.duty.models import (
    KINDS,
    PLACE_STATES,
    CheckpointVisit,
    DutyCheckpoint,
    DutyClaim,
    DutyTask,
)
from community.places.models import Site

register_message("duty-cancelled", _l("The duty “%(title)s” on %(when)s was cancelled."))
register_message(
    "duty-promoted",
    _l("A place became free: you now hold the duty “%(title)s” on %(when)s."),
)
register_message("duty-approved", _l("Your report on “%(title)s” was approved: %(points)s points."))
register_message("duty-rejected", _l("Your report on “%(title)s” was returned: %(reason)s"))

audit.register_actions(
    {
        "duty_published": _l("Duty published"),
        "duty_edited": _l("Duty changed"),
        "duty_cancelled": _l("Duty cancelled"),
        "duty_claimed": _l("Duty claimed"),
        "duty_waiting": _l("Joined a duty's waiting list"),
        "duty_promoted": _l("Moved up from the waiting list"),
        "duty_claim_cancelled": _l("Claim cancelled"),
        "duty_checked_in": _l("Checked in on duty"),
        "duty_reported": _l("Duty report sent"),
        "duty_report_approved": _l("Duty report approved"),
        "duty_report_rejected": _l("Duty report sent back"),
    }
)

MAX_REPEAT_WEEKS = 26
MAX_CHECKPOINTS = 30


# --- time: one implementation for the whole app, core.timeutil (COMMUNITY_TIMEZONE)


def when(task: DutyTask) -> str:
    return to_local(task.starts_at).strftime("%Y-%m-%d %H:%M")


def _cfg(name: str) -> int:
    return int(current_app.config[name])


def check_in_opens(task: DutyTask) -> datetime:
    """When check-in opens: DUTY_CHECK_IN_MINUTES before the start."""
    return task.starts_at - timedelta(minutes=_cfg("DUTY_CHECK_IN_MINUTES"))


def cancel_closes(task: DutyTask) -> datetime:
    """Until when a claimed place may be given up: DUTY_CANCEL_HOURS before the start."""
    return task.starts_at - timedelta(hours=_cfg("DUTY_CANCEL_HOURS"))


def _link(task: DutyTask) -> str:
    return path_for("duty.show", task_id=task.id)


# --- publish, edit, cancel the task ------------------------------------------------


@dataclass
class DutyInput:
    title: str
    kind: str
    area: Area | None
    starts_at: datetime | None  # naive UTC
    ends_at: datetime | None
    capacity: int | None
    points: int | None
    checkpoints: str = ""
    repeat_weeks: int = 0
    team: Organization | None = None


def parse_checkpoints(text: str | None) -> list[str]:
    return [line.strip()[:200] for line in (text or "").splitlines() if line.strip()]


def _validate(data: DutyInput, *, now: datetime, is_new: bool) -> list[str]:
    errors: list[tuple[str | None, str]] = []
    if not (data.title or "").strip():
        errors.append(("title", _("Give the duty a title.")))
    if data.kind not in KINDS:
        errors.append(("kind", _("Unknown kind of duty.")))
    if data.area is None:
        errors.append(("area_id", _("Choose an area you coordinate.")))
    if data.starts_at is None:
        errors.append(("starts_at", _("Give the start (YYYY-MM-DDTHH:MM).")))
    elif is_new and data.starts_at <= now:
        errors.append(("starts_at", _("The start lies in the past.")))
    if data.ends_at is None:
        errors.append(("ends_at", _("Give the end (YYYY-MM-DDTHH:MM).")))
    elif data.starts_at is not None and data.ends_at <= data.starts_at:
        errors.append(("ends_at", _("The end must come after the start.")))
    elif data.starts_at is not None and data.ends_at - data.starts_at > timedelta(hours=24):
        errors.append(("ends_at", _("A duty lasts at most 24 hours.")))
    if data.capacity is None or data.capacity < 1:
        errors.append(("capacity", _("At least one place.")))
    if data.points is None or data.points < 0:
        errors.append(("points", _("Points cannot be negative.")))
    lines = parse_checkpoints(data.checkpoints)
    if data.kind == "patrol" and not lines:
        errors.append(("checkpoints", _("A patrol needs at least one checkpoint.")))
    if len(lines) > MAX_CHECKPOINTS:
        errors.append(("checkpoints", _("At most %(num)d checkpoints.", num=MAX_CHECKPOINTS)))
    if not 0 <= (data.repeat_weeks or 0) <= MAX_REPEAT_WEEKS:
        errors.append(("repeat_weeks", _("Repeat for 0 to %(num)d weeks.", num=MAX_REPEAT_WEEKS)))
    if errors:
        raise RuleViolation.several(errors)
    return lines


def _route_sites(session: Session, area: Area, lines: list[str]) -> dict[str, int]:
    """Site name -> id for the checkpoint lines that are exactly the name of a site
    of the area (hazards found there are reported at it). One query per publication,
    however many weeks it spans."""
    if not lines:
        return {}
    return dict(
        session.execute(
            select(Site.name, Site.id)
            .join(Area, Area.id == Site.area_id)
            .where(Site.name.in_(lines), area_subtree_filter(Area.path, [area]))
        ).all()
    )


def _route(lines: list[str], sites: dict[str, int]) -> list[DutyCheckpoint]:
    """Checkpoints in order, linked to their sites."""
    return [
        DutyCheckpoint(position=i, name=name, site_id=sites.get(name))
        for i, name in enumerate(lines, 1)
    ]


def publish_duty(session: Session, coordinator: Any, data: DutyInput) -> list[DutyTask]:
    """Publish a task, and with `repeat_weeks` = N the same task on each of the next N
    weeks (one series). RuleViolation on the fields: title, kind, area_id, starts_at
    (in the past), ends_at (not after the start), capacity (< 1), points (< 0),
    checkpoints (a patrol without one), repeat_weeks."""
    lines = _validate(data, now=utcnow(), is_new=True)
    weeks = data.repeat_weeks or 0
    series = uuid.uuid4().hex if weeks else None
    sites = _route_sites(session, data.area, lines)
    tasks = []
    for week in range(weeks + 1):
        shift = timedelta(weeks=week)
        task = DutyTask(
            title=data.title.strip()[:120],
            kind=data.kind,
            area_id=data.area.id,
            starts_at=data.starts_at + shift,
            ends_at=data.ends_at + shift,
            capacity=data.capacity,
            taken=0,
            points=data.points,
            status="published",
            publisher_id=coordinator.id if coordinator is not None else None,
            team_id=data.team.id if data.team is not None else None,
            series_id=series,
        )
        task.area = data.area
        task.checkpoints = _route(lines, sites)
        session.add(task)
        tasks.append(task)
    session.flush()
    audit.record(
        session, coordinator, "duty_published", tasks[0], {"title": tasks[0].title, "weeks": weeks}
    )
    return tasks


def series_rest(session: Session, task: DutyTask) -> list[DutyTask]:
    """The task and the later published occurrences of its series."""
    if task.series_id is None:
        return [task]
    return list(
        session.scalars(
            select(DutyTask)
            .where(
                DutyTask.series_id == task.series_id,
                DutyTask.starts_at >= task.starts_at,
                DutyTask.status == "published",
            )
            .order_by(DutyTask.starts_at)
        )
    )


def edit_duty(
    session: Session, coordinator: Any, task: DutyTask, data: DutyInput, *, rest: bool = False
) -> list[DutyTask]:
    """Change a published task, or (rest=True) it and the later occurrences of its
    series: the same title, kind, area, places, points and route, the times moved by
    the same amount. RuleViolation as publish_duty, and on capacity below the places
    taken; the route of a task already walked stays. Conflict when not published."""
    if task.status != "published":
        raise Conflict(_("Only a published duty can be changed."))
    lines = _validate(data, now=utcnow(), is_new=False)
    start_shift = data.starts_at - task.starts_at
    end_shift = data.ends_at - task.ends_at
    targets = series_rest(session, task) if rest else [task]
    old_lines = [c.name for c in task.checkpoints]
    sites = _route_sites(session, data.area, lines)
    for t in targets:
        # Places: a conditional UPDATE, so a claim landing meanwhile cannot be cut off.
        moved = session.execute(
            update(DutyTask)
            .where(DutyTask.id == t.id, DutyTask.taken <= data.capacity)
            .values(capacity=data.capacity)
            .execution_options(synchronize_session=False)
        )
        session.expire(t, ["capacity", "taken"])
        if moved.rowcount != 1:
            raise RuleViolation(
                "capacity",
                _(
                    "%(num)d volunteers already hold a place on %(when)s.",
                    num=t.taken,
                    when=when(t),
                ),
            )
        t.title = data.title.strip()[:120]
        t.kind = data.kind
        t.area_id = data.area.id
        t.area = data.area
        t.starts_at = t.starts_at + start_shift
        t.ends_at = t.ends_at + end_shift
        t.points = data.points
        t.team_id = data.team.id if data.team is not None else None
        if lines != old_lines or t is not task:
            walked = session.scalar(
                select(func.count())
                .select_from(CheckpointVisit)
                .join(DutyCheckpoint, DutyCheckpoint.id == CheckpointVisit.checkpoint_id)
                .where(DutyCheckpoint.task_id == t.id)
            )
            if not walked:
                session.execute(delete(DutyCheckpoint).where(DutyCheckpoint.task_id == t.id))
                session.expire(t, ["checkpoints"])
                session.flush()
                for cp in _route(lines, sites):
                    cp.task_id = t.id
                    session.add(cp)
        session.flush()
        _fill_from_waiting(session, t)
    audit.record(session, coordinator, "duty_edited", task, {"occurrences": len(targets)})
    session.flush()
    return targets


def cancel_duty(session: Session, coordinator: Any, task: DutyTask, *, rest: bool = False) -> int:
    """Cancel a published task (or it and the rest of its series): every live claim
    is cancelled and its volunteer notified. Returns the tasks cancelled; Conflict
    when the task is not published any more."""
    targets = series_rest(session, task) if rest else [task]
    now = utcnow()
    count = 0
    for t in targets:
        result = session.execute(
            update(DutyTask)
            .where(DutyTask.id == t.id, DutyTask.status == "published")
            .values(status="cancelled", cancelled_at=now, taken=0)
            .execution_options(synchronize_session=False)
        )
        session.expire(t, ["status", "cancelled_at", "taken"])
        if result.rowcount != 1:
            if t is task:
                raise Conflict(_("This duty is not published any more."))
            continue
        count += 1
        claimants = list(
            session.scalars(
                select(DutyClaim.volunteer_id).where(
                    DutyClaim.task_id == t.id, DutyClaim.status.in_(("claimed", "waiting"))
                )
            )
        )
        session.execute(
            update(DutyClaim)
            .where(DutyClaim.task_id == t.id, DutyClaim.status.in_(("claimed", "waiting")))
            .values(status="cancelled", cancelled_at=now)
            .execution_options(synchronize_session=False)
        )
        notify(
            session,
            claimants,
            "duty-cancelled",
            link=_link(t),
            key=f"duty-cancelled-{t.id}",
            title=t.title,
            when=when(t),
        )
        audit.record(session, coordinator, "duty_cancelled", t, {"claims": len(claimants)})
    session.flush()
    return count


# --- claims ----------------------------------------------------------------------


def claims_open_at(task: DutyTask) -> datetime:
    """When claims open: DUTY_CLAIM_OPENS_DAYS before the start."""
    return task.starts_at - timedelta(days=_cfg("DUTY_CLAIM_OPENS_DAYS"))


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
        DutyTask.starts_at <= now + timedelta(days=_cfg("DUTY_CLAIM_OPENS_DAYS")),
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
    cap = _cfg("DUTY_DAILY_CAP")
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
        _cfg("DUTY_NO_SHOW_LIMIT"),
        timedelta(days=_cfg("DUTY_NO_SHOW_WINDOW_DAYS")),
        timedelta(days=_cfg("DUTY_NO_SHOW_BAR_DAYS")),
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
                num=_cfg("DUTY_NO_SHOW_LIMIT"),
                days=_cfg("DUTY_NO_SHOW_WINDOW_DAYS"),
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
    cap = _cfg("DUTY_DAILY_CAP")
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


def _fill_from_waiting(session: Session, task: DutyTask) -> list[DutyClaim]:
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
            link=_link(task),
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
    hours = _cfg("DUTY_CANCEL_HOURS")
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
        _fill_from_waiting(session, task)
    session.flush()
    return claim


# --- on duty ---------------------------------------------------------------------


def _step(session: Session, claim: DutyClaim, expected: str, message: str, **values: Any) -> None:
    result = session.execute(
        update(DutyClaim)
        .where(DutyClaim.id == claim.id, DutyClaim.status == expected)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.expire(claim, [*values, "status"])
    if result.rowcount != 1:
        raise Conflict(message)


def check_in(session: Session, volunteer: Any, claim: DutyClaim) -> DutyClaim:
    """claimed -> on_duty, from DUTY_CHECK_IN_MINUTES before the start until the end.
    Conflict saying when check-in opens (or that it is over / not possible)."""
    now = utcnow()
    task = claim.task
    opens = check_in_opens(task)
    if claim.status != "claimed" or task.status == "cancelled":
        raise Conflict(_("Only a claimed duty can be checked in."))
    if now < opens:
        raise Conflict(
            _("Check-in opens at %(when)s.", when=to_local(opens).strftime("%Y-%m-%d %H:%M"))
        )
    if now >= task.ends_at:
        raise Conflict(_("This duty is over: check-in is closed."))
    _step(
        session,
        claim,
        "claimed",
        _("Only a claimed duty can be checked in."),
        status="on_duty",
        checked_in_at=now,
    )
    audit.record(session, volunteer, "duty_checked_in", claim, {"task_id": task.id})
    session.flush()
    return claim


def _coordinate(value: float | None, bound: float) -> float | None:
    if value is None:
        return None
    if not -bound <= value <= bound:
        return None
    return round(float(value), 6)


def visit_checkpoint(
    session: Session,
    volunteer: Any,
    claim: DutyClaim,
    checkpoint: DutyCheckpoint,
    *,
    lat: float | None = None,
    lon: float | None = None,
) -> CheckpointVisit:
    """Tick a checkpoint of the claim's task while on duty (any order), time-stamped,
    with the browser's position when given. Ticking it again keeps the first visit.
    Conflict when the claim is not on duty."""
    if claim.status != "on_duty":
        raise Conflict(_("Check in first: checkpoints are ticked on duty."))
    existing = session.scalar(
        select(CheckpointVisit).where(
            CheckpointVisit.claim_id == claim.id, CheckpointVisit.checkpoint_id == checkpoint.id
        )
    )
    if existing is not None:
        return existing
    lat, lon = _coordinate(lat, 90), _coordinate(lon, 180)
    visit = CheckpointVisit(
        claim_id=claim.id,
        checkpoint_id=checkpoint.id,
        visited_at=utcnow(),
        lat=lat if lon is not None else None,
        lon=lon if lat is not None else None,
    )
    session.add(visit)
    try:
        session.flush()
    except IntegrityError as exc:  # a double tap landing at the same moment
        raise Conflict(_("This checkpoint is already ticked.")) from exc
    return visit


@dataclass
class HazardInput:
    description: str
    severity: str
    site: Site
    photo: IO[bytes] | None = None


def check_out(
    session: Session,
    volunteer: Any,
    claim: DutyClaim,
    report: str,
    hazards: list[HazardInput] = (),
) -> DutyClaim:
    """on_duty -> reported with a short report; each hazard found is reported through
    the hazards service at its site (photo included). RuleViolation("report") when
    empty, Conflict when not on duty."""
    from community.hazards.services import report_hazard

    report = (report or "").strip()
    if not report:
        raise RuleViolation("report", _("Write a short report."))
    if len(report) > 2000:
        raise RuleViolation("report", _("At most 2000 characters."))
    if claim.status != "on_duty":
        raise Conflict(_("Only a duty you are on can be checked out."))
    for hazard in hazards:
        try:
            report_hazard(
                session,
                volunteer,
                hazard.site,
                description=hazard.description,
                severity=hazard.severity,
                photo=hazard.photo,
            )
        except RuleViolation as exc:  # the check-out form names its hazard fields hazard_*
            raise RuleViolation.several(
                [(f"hazard_{f}" if f else None, m) for f, m in exc.errors]
            ) from exc
    _step(
        session,
        claim,
        "on_duty",
        _("Only a duty you are on can be checked out."),
        status="reported",
        checked_out_at=utcnow(),
        report=report,
    )
    audit.record(
        session,
        volunteer,
        "duty_reported",
        claim,
        {"task_id": claim.task_id, "hazards": len(hazards)},
    )
    session.flush()
    return claim


# --- decisions ---------------------------------------------------------------------


def approve_report(session: Session, coordinator: Any, claim: DutyClaim) -> DutyClaim:
    """reported -> approved; the volunteer earns the task's points and is notified.
    Conflict when someone already decided (a conditional UPDATE on the status)."""
    task = claim.task
    _step(
        session,
        claim,
        "reported",
        _("This report was already decided."),
        status="approved",
        points_awarded=task.points,
        decided_by_id=coordinator.id,
        decided_at=utcnow(),
    )
    notify(
        session,
        [claim.volunteer_id],
        "duty-approved",
        link=_link(task),
        key=f"duty-decided-{claim.id}",
        title=task.title,
        points=task.points,
    )
    audit.record(session, coordinator, "duty_report_approved", claim, {"points": task.points})
    session.flush()
    return claim


def reject_report(session: Session, coordinator: Any, claim: DutyClaim, reason: str) -> DutyClaim:
    """reported -> rejected with a reason (no points). RuleViolation("reason") when
    empty; Conflict when someone already decided."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("reason", _("Say why the report is returned."))
    task = claim.task
    _step(
        session,
        claim,
        "reported",
        _("This report was already decided."),
        status="rejected",
        points_awarded=0,
        decided_by_id=coordinator.id,
        decided_at=utcnow(),
        decision_reason=reason[:500],
    )
    notify(
        session,
        [claim.volunteer_id],
        "duty-rejected",
        link=_link(task),
        key=f"duty-decided-{claim.id}",
        title=task.title,
        reason=reason[:200],
    )
    audit.record(session, coordinator, "duty_report_rejected", claim, {"reason": reason})
    session.flush()
    return claim


def list_pending_reports(session: Session, user: Any) -> list[DutyClaim]:
    """Reports waiting for the user's decision (see queries.list_pending_reports)."""
    from community.duty.queries import list_pending_reports as pending

    return pending(session, user)


# --- closing -----------------------------------------------------------------------


def close_duties(session: Session, now: datetime | None = None) -> tuple[int, int]:
    """Claims nobody checked into by the end become no_show, waiting claims of ended
    tasks are cancelled, and published tasks past their end become done. Safe to
    run twice (conditional UPDATEs). Returns (no-shows, tasks done)."""
    now = now or utcnow()
    ended = select(DutyTask.id).where(DutyTask.status == "published", DutyTask.ends_at <= now)
    no_shows = session.execute(
        update(DutyClaim)
        .where(DutyClaim.status == "claimed", DutyClaim.task_id.in_(ended))
        .values(status="no_show")
        .execution_options(synchronize_session=False)
    ).rowcount
    session.execute(
        update(DutyClaim)
        .where(DutyClaim.status == "waiting", DutyClaim.task_id.in_(ended))
        .values(status="cancelled", cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    done = session.execute(
        update(DutyTask)
        .where(and_(DutyTask.status == "published", DutyTask.ends_at <= now))
        .values(status="done")
        .execution_options(synchronize_session=False)
    ).rowcount
    session.flush()
    return no_shows or 0, done or 0
