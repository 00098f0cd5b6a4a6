"""Read side of the duty pages: lists in scope, a volunteer's duties, the route
walked, pending reports, leaderboards and records (figures from SQL aggregates)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Float, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from community.accounts.models import Area, Membership, Organization, User
from community.accounts.permissions import can
from community.core.timeutil import day_bounds, local_date, month_bounds, utcnow
from community.core.timeutil import today as local_today
from community.duty.models import (
    PLACE_STATES,
    CheckpointVisit,
    DutyCheckpoint,
    DutyClaim,
    DutyTask,
)
from community.duty.permissions import (
    claim_scope,
    duty_scope,
    leaderboard_area_scope,
    managed_scope,
    publish_scope,
    record_scope,
    team_scope,
)
from community.duty.services.claims import cancel_closes, claimability, claimable_by
from community.places.models import Site
from community.places.permissions import visible_sites

LIST_LIMIT = 200


def get_task(session: Session, task_id: int) -> DutyTask | None:
    return session.scalar(
        select(DutyTask)
        .where(DutyTask.id == task_id)
        .options(selectinload(DutyTask.checkpoints).joinedload(DutyCheckpoint.site))
    )


def get_claim(session: Session, claim_id: int) -> DutyClaim | None:
    return session.scalar(
        select(DutyClaim)
        .where(DutyClaim.id == claim_id)
        .options(
            joinedload(DutyClaim.task, innerjoin=True)
            .selectinload(DutyTask.checkpoints)
            .joinedload(DutyCheckpoint.site),
            selectinload(DutyClaim.visits),
            joinedload(DutyClaim.volunteer, innerjoin=True),
        )
        # After an on-duty step the page shows the claim as it is now.
        .execution_options(populate_existing=True)
    )


def my_claims_on(session: Session, user: Any, task_ids: list[int]) -> dict[int, DutyClaim]:
    """The user's live claim per task (for the cards' buttons)."""
    if not task_ids:
        return {}
    rows = session.scalars(
        select(DutyClaim).where(
            DutyClaim.volunteer_id == user.id,
            DutyClaim.task_id.in_(task_ids),
            DutyClaim.status != "cancelled",
        )
    )
    return {c.task_id: c for c in rows}


@dataclass(frozen=True)
class DutyActions:
    """What a duty card offers the user now, decided here so the template only reads
    it: the one-tap buttons (claim, join the waiting list, give up a place or leave
    the list) or what is true instead (claims open at `opens_at`, started, over,
    too late to give the place up). `offers`: the user may claim on this task at
    all (the row of buttons shows); `claim`: their live claim, shown on the card."""

    claim: DutyClaim | None = None
    offers: bool = False
    can_claim: bool = False
    can_wait: bool = False
    can_cancel: bool = False
    can_leave: bool = False
    cancel_closed: bool = False
    opens_at: datetime | None = None
    started: bool = False
    over: bool = False

    @property
    def waiting(self) -> bool:
        return self.claim is not None and self.claim.status == "waiting"

    @property
    def claim_open(self) -> bool:
        """The claim has an on-duty page worth a link (claimed or on duty)."""
        return self.claim is not None and self.claim.status in ("claimed", "on_duty")

    @property
    def claim_moved_on(self) -> bool:
        """The claim is past "claimed" (on duty, reported, ...): the card names its state."""
        return self.claim is not None and self.claim.status not in ("claimed", "waiting")


def duty_actions(user: Any, task: DutyTask, claim: DutyClaim | None, now: datetime) -> DutyActions:
    """The card's actions by the claim rule (services.claimability), the "duty.claim"
    permission and the cancel window (services.cancel_closes)."""
    if not can(user, "duty.claim", task):
        return DutyActions(claim=claim)
    verdict = claimability(task, now, claim)
    mine = verdict.state == "mine" and task.status == "published"
    held = mine and claim.status == "claimed"
    can_cancel = held and now < cancel_closes(task)
    return DutyActions(
        claim=claim,
        offers=True,
        can_claim=verdict.can_claim,
        can_wait=verdict.can_wait,
        can_cancel=can_cancel,
        can_leave=mine and claim.status == "waiting",
        cancel_closed=held and not can_cancel,
        opens_at=verdict.when if verdict.state == "not_open" else None,
        started=verdict.state == "started",
        over=verdict.state == "over",
    )


def card_actions(session: Session, user: Any, tasks: list[DutyTask]) -> dict[int, DutyActions]:
    """DutyActions per task id for the cards of `tasks` (one query: the user's claims)."""
    now = utcnow()
    mine = my_claims_on(session, user, [t.id for t in tasks])
    return {t.id: duty_actions(user, t, mine.get(t.id), now) for t in tasks}


@dataclass(frozen=True)
class ClaimActions:
    """What the on-duty page offers: check in (a claimed duty), tick checkpoints and
    check out (on duty); only to the claim's own volunteer."""

    can_check_in: bool = False
    can_tick: bool = False
    can_check_out: bool = False


def claim_actions(user: Any, claim: DutyClaim) -> ClaimActions:
    if not can(user, "claim.act", claim):
        return ClaimActions()
    on_duty = claim.status == "on_duty"
    return ClaimActions(
        can_check_in=claim.status == "claimed", can_tick=on_duty, can_check_out=on_duty
    )


def checkpoint_names(task: DutyTask) -> dict[int, str]:
    """Checkpoint id -> name, for the timelines of the task's claims."""
    return {cp.id: cp.name for cp in task.checkpoints}


def week_start(value: date | None) -> date:
    day = value or local_today()
    return day - timedelta(days=day.weekday())


def list_duties(
    session: Session,
    user: Any,
    *,
    start: date,
    days: int = 7,
    kind: str = "",
    free_only: bool = False,
    area_id: int | None = None,
    statuses: tuple[str, ...] = ("published",),
    upcoming_only: bool = True,
    claimable_only: bool = False,
    limit: int = LIST_LIMIT,
) -> list[DutyTask]:
    """Tasks in the user's scope starting in the local days [start, start+days),
    by start time. One query."""
    lo, _unused = day_bounds(start)
    hi, _unused = day_bounds(start + timedelta(days=days))
    stmt = select(DutyTask).where(
        duty_scope(user),
        DutyTask.starts_at >= lo,
        DutyTask.starts_at < hi,
        DutyTask.status.in_(statuses),
    )
    if upcoming_only:
        stmt = stmt.where(DutyTask.ends_at > utcnow())
    if kind:
        stmt = stmt.where(DutyTask.kind == kind)
    if free_only:
        stmt = stmt.where(DutyTask.taken < DutyTask.capacity)
    if area_id:
        stmt = stmt.where(DutyTask.area_id == area_id)
    if claimable_only:
        # What the volunteer can claim now: their scope, and the claim rule in SQL.
        stmt = stmt.where(claim_scope(user), claimable_by(session, user, utcnow()))
    return list(session.scalars(stmt.order_by(DutyTask.starts_at, DutyTask.id).limit(limit)))


def by_day(tasks: list[DutyTask], start: date, days: int = 7) -> list[tuple[date, list[DutyTask]]]:
    grouped: dict[date, list[DutyTask]] = {start + timedelta(days=i): [] for i in range(days)}
    for t in tasks:
        grouped.setdefault(local_date(t.starts_at), []).append(t)
    return sorted(grouped.items())


def waiting_counts(session: Session, task_ids: list[int]) -> dict[int, int]:
    if not task_ids:
        return {}
    rows = session.execute(
        select(DutyClaim.task_id, func.count())
        .where(DutyClaim.task_id.in_(task_ids), DutyClaim.status == "waiting")
        .group_by(DutyClaim.task_id)
    )
    return dict(rows.all())


def waiting_position(session: Session, claim: DutyClaim) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                DutyClaim.task_id == claim.task_id,
                DutyClaim.status == "waiting",
                or_(
                    DutyClaim.claimed_at < claim.claimed_at,
                    and_(DutyClaim.claimed_at == claim.claimed_at, DutyClaim.id < claim.id),
                ),
            )
        )
        or 0
    ) + 1


@dataclass
class MyDuties:
    on_duty: list[DutyClaim]
    upcoming: list[DutyClaim]
    history: list[DutyClaim]
    points_month: int


def my_duties(session: Session, user: Any) -> MyDuties:
    """The volunteer's claims: on duty now (checked in, or claimed and starting
    soon), upcoming, and the last 50 others with points. Two queries."""
    now = utcnow()
    claims = list(
        session.scalars(
            select(DutyClaim)
            .join(DutyTask, DutyTask.id == DutyClaim.task_id)
            .where(DutyClaim.volunteer_id == user.id, DutyClaim.status != "cancelled")
            .options(joinedload(DutyClaim.task, innerjoin=True))
            .order_by(DutyTask.starts_at.desc())
            .limit(100)
        )
    )
    soon = now + timedelta(hours=1)
    on_duty, upcoming, history = [], [], []
    for c in claims:
        t = c.task
        if c.status == "on_duty" or (
            c.status == "claimed"
            and t.starts_at <= soon < t.ends_at + timedelta(hours=1)
            and t.ends_at > now
        ):
            on_duty.append(c)
        elif c.status in ("claimed", "waiting") and t.starts_at > now and t.status == "published":
            upcoming.append(c)
        else:
            history.append(c)
    upcoming.reverse()
    return MyDuties(on_duty, upcoming, history[:50], points_this_month(session, user))


def points_this_month(session: Session, user: Any) -> int:
    lo, hi = month_bounds(local_today())
    return (
        session.scalar(
            select(func.coalesce(func.sum(DutyClaim.points_awarded), 0))
            .join(DutyTask, DutyTask.id == DutyClaim.task_id)
            .where(
                DutyClaim.volunteer_id == user.id,
                DutyClaim.status == "approved",
                DutyTask.starts_at >= lo,
                DutyTask.starts_at < hi,
            )
        )
        or 0
    )


def next_duty(session: Session, user: Any) -> DutyClaim | None:
    now = utcnow()
    return session.scalar(
        select(DutyClaim)
        .join(DutyTask, DutyTask.id == DutyClaim.task_id)
        .where(
            DutyClaim.volunteer_id == user.id,
            DutyClaim.status.in_(("claimed", "on_duty")),
            DutyTask.ends_at > now,
            DutyTask.status == "published",
        )
        .options(joinedload(DutyClaim.task, innerjoin=True))
        .order_by(DutyTask.starts_at)
        .limit(1)
    )


def task_claims(session: Session, task: DutyTask) -> list[DutyClaim]:
    """Every claim on the task with its volunteer and visits (the route walked):
    place holders first, then the waiting list in order, then cancelled."""
    order = case(
        (DutyClaim.status.in_(PLACE_STATES), 0), (DutyClaim.status == "waiting", 1), else_=2
    )
    return list(
        session.scalars(
            select(DutyClaim)
            .where(DutyClaim.task_id == task.id)
            .options(
                joinedload(DutyClaim.volunteer, innerjoin=True), selectinload(DutyClaim.visits)
            )
            .order_by(order, DutyClaim.claimed_at, DutyClaim.id)
        )
    )


def list_pending_reports(session: Session, user: Any) -> list[DutyClaim]:
    """Reports (status `reported`) on tasks of the areas the user coordinates, oldest
    first, with task and volunteer loaded. For the duty report list now and the
    unified review queue later."""
    return list(
        session.scalars(
            select(DutyClaim)
            .join(DutyTask, DutyTask.id == DutyClaim.task_id)
            .where(DutyClaim.status == "reported", managed_scope(user))
            .options(
                joinedload(DutyClaim.task, innerjoin=True),
                joinedload(DutyClaim.volunteer, innerjoin=True),
            )
            .order_by(DutyClaim.checked_out_at, DutyClaim.id)
            .limit(LIST_LIMIT)
        )
    )


def hours_between(session: Session, start, end):
    """SQL: hours from the datetime `start` to `end` (SQLite and PostgreSQL)."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 24
    return func.extract("epoch", end - start) / 3600


def _hours(session: Session):
    """SQL: hours between check-in and check-out of a claim."""
    return hours_between(session, DutyClaim.checked_in_at, DutyClaim.checked_out_at)


@dataclass
class Standing:
    name: str
    key: int
    points: int
    hours: float
    duties: int


def leaderboard(
    session: Session,
    user: Any,
    month: date,
    *,
    by: str = "volunteer",
    area: Any = None,
    limit: int = 50,
) -> list[Standing]:
    """Approved duties of one local month on tasks in the user's scope, summed per
    volunteer or per volunteer team (the volunteer's team membership): points, hours
    on duty, duties. One query."""
    lo, hi = month_bounds(month)
    points = func.coalesce(func.sum(DutyClaim.points_awarded), 0)
    hours = func.coalesce(func.sum(cast(_hours(session), Float)), 0)
    duties = func.count(DutyClaim.id)
    base = (
        select()
        .select_from(DutyClaim)
        .join(DutyTask, DutyTask.id == DutyClaim.task_id)
        .where(
            DutyClaim.status == "approved",
            DutyTask.starts_at >= lo,
            DutyTask.starts_at < hi,
            duty_scope(user),
        )
    )
    if area is not None:
        base = base.where(
            DutyTask.area_id.in_(select(Area.id).where(Area.path.like(f"{area.path}%")))
        )
    if by == "team":
        stmt = (
            base.join(
                Membership,
                and_(Membership.user_id == DutyClaim.volunteer_id, Membership.role == "volunteer"),
            )
            .join(
                Organization,
                and_(
                    Organization.id == Membership.organization_id,
                    Organization.kind == "volunteer_team",
                ),
            )
            .add_columns(Organization.name, Organization.id, points, hours, duties)
            .group_by(Organization.id, Organization.name)
        )
    else:
        stmt = (
            base.join(User, User.id == DutyClaim.volunteer_id)
            .add_columns(User.display_name, User.id, points, hours, duties)
            .group_by(User.id, User.display_name)
        )
    rows = session.execute(stmt.order_by(points.desc(), duties.desc()).limit(limit))
    return [Standing(n, k, int(p or 0), round(float(h or 0), 1), int(d)) for n, k, p, h, d in rows]


def openable_records(session: Session, user: Any, volunteer_ids: list[int]) -> set[int]:
    """The ids among `volunteer_ids` whose record the user may open (one query)."""
    if not volunteer_ids:
        return set()
    stmt = select(User.id).where(User.id.in_(volunteer_ids), record_scope(user))
    return set(session.scalars(stmt))


@dataclass
class Record:
    claims: list[DutyClaim]
    points: int
    duties: int
    no_shows: int


def volunteer_record(session: Session, viewer: Any, volunteer: User) -> Record:
    """The volunteer's claims on tasks the viewer may see (the newest LIST_LIMIT) and
    the totals over all of them (one aggregate, not the shown rows)."""
    seen = (
        DutyClaim.volunteer_id == volunteer.id,
        DutyClaim.status != "cancelled",
        or_(DutyClaim.volunteer_id == viewer.id, duty_scope(viewer)),
    )
    claims = list(
        session.scalars(
            select(DutyClaim)
            .join(DutyTask, DutyTask.id == DutyClaim.task_id)
            .where(*seen)
            .options(joinedload(DutyClaim.task, innerjoin=True))
            .order_by(DutyTask.starts_at.desc())
            .limit(LIST_LIMIT)
        )
    )
    points, duties, no_shows = session.execute(
        select(
            func.coalesce(func.sum(DutyClaim.points_awarded), 0),
            func.count().filter(DutyClaim.status == "approved"),
            func.count().filter(DutyClaim.status == "no_show"),
        )
        .select_from(DutyClaim)
        .join(DutyTask, DutyTask.id == DutyClaim.task_id)
        .where(*seen)
    ).one()
    return Record(claims, int(points), int(duties), int(no_shows))


def visits_by_checkpoint(claim: DutyClaim) -> dict[int, CheckpointVisit]:
    return {v.checkpoint_id: v for v in claim.visits}


def list_publishing_areas(session: Session, user: Any) -> list[Area]:
    """Areas the user may publish duties in, by path (the form's choices)."""
    return list(session.scalars(select(Area).where(publish_scope(user)).order_by(Area.path)))


def publishable_teams(session: Session, user: Any) -> list[Organization]:
    """Volunteer teams of the areas the user coordinates (a duty may be reserved)."""
    return list(
        session.scalars(select(Organization).where(team_scope(user)).order_by(Organization.name))
    )


def list_leaderboard_areas(session: Session, user: Any) -> list[Area]:
    """Areas the leaderboard may be narrowed to, by path."""
    return list(
        session.scalars(select(Area).where(leaderboard_area_scope(user)).order_by(Area.path))
    )


def hazard_sites(session: Session, user: Any, task: DutyTask) -> list:
    """Sites a hazard found on this duty may be reported at: the route's sites first,
    then the other sites of the task's area the user sees (at most 100)."""
    route = [c.site for c in task.checkpoints if c.site is not None]
    seen = {s.id for s in route}
    others = session.scalars(
        visible_sites(user)
        .join(Area, Area.id == Site.area_id)
        .where(Area.path.like(f"{task.area.path}%"))
        .order_by(Site.name)
        .limit(100)
    )
    return route + [s for s in others if s.id not in seen]
