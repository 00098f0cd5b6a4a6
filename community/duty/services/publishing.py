"""Publishing duties: publish a task (with weekly repeats as one series), edit it or
the rest of its series, cancel it (its volunteers are told)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from community.accounts.models import Area, Organization
from community.accounts.permissions import area_subtree_filter
from community.core import audit
from community.core.errors import Conflict, RuleViolation
from community.core.notify import notify, register_message
from community.core.timeutil import utcnow
from community.duty.models import KINDS, CheckpointVisit, DutyCheckpoint, DutyClaim, DutyTask
from community.duty.services.claims import fill_from_waiting
from community.duty.services.common import duty_link, when
from community.places.models import Site

register_message("duty-cancelled", _l("The duty “%(title)s” on %(when)s was cancelled."))

audit.register_actions(
    {
        "duty_published": _l("Duty published"),
        "duty_edited": _l("Duty changed"),
        "duty_cancelled": _l("Duty cancelled"),
    }
)

MAX_REPEAT_WEEKS = 26
MAX_CHECKPOINTS = 30


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


# A checkpoint line may end with its place: `东门岗亭 @ 28.0012, 120.6034` (a tick
# within geo.NEAR_METRES of it is marked near).
_PLACE = re.compile(r"^(.*?)\s*@\s*(-?\d{1,2}(?:\.\d+)?)\s*[,，]\s*(-?\d{1,3}(?:\.\d+)?)$")


def split_place(line: str) -> tuple[str, float | None, float | None]:
    """A checkpoint line as (name, lat, lon); no place (None, None) when the line
    ends with none, or with one off the globe."""
    match = _PLACE.match(line)
    if not match or not match.group(1):
        return line, None, None
    lat, lon = float(match.group(2)), float(match.group(3))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return line, None, None
    return match.group(1), round(lat, 6), round(lon, 6)


def checkpoint_line(cp: DutyCheckpoint) -> str:
    """A checkpoint as the form's line (its place after @ when known)."""
    if cp.lat is None or cp.lon is None:
        return cp.name
    return f"{cp.name} @ {cp.lat}, {cp.lon}"


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
    names = [split_place(line)[0] for line in lines]
    return dict(
        session.execute(
            select(Site.name, Site.id)
            .join(Area, Area.id == Site.area_id)
            .where(Site.name.in_(names), area_subtree_filter(Area.path, [area]))
        ).all()
    )


def _route(lines: list[str], sites: dict[str, int]) -> list[DutyCheckpoint]:
    """Checkpoints in order, linked to their sites, with their places."""
    route = []
    for i, line in enumerate(lines, 1):
        name, lat, lon = split_place(line)
        route.append(
            DutyCheckpoint(position=i, name=name, site_id=sites.get(name), lat=lat, lon=lon)
        )
    return route


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
    old_lines = [checkpoint_line(c) for c in task.checkpoints]
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
        fill_from_waiting(session, t)
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
            link=duty_link(t),
            key=f"duty-cancelled-{t.id}",
            title=t.title,
            when=when(t),
        )
        audit.record(session, coordinator, "duty_cancelled", t, {"claims": len(claimants)})
    session.flush()
    return count
