"""Read side of mediation pages: the scoped case list and its search (case number,
party name prefix or phone, through the keyed hashes), a case with its parties,
mediators, sessions and timeline, my cases, the week of sessions by room, rooms
and teams, and the start-page counts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from community.accounts.models import Area, Organization, User
from community.accounts.permissions import can
from community.core.crypto import lookup_hash
from community.core.forms import EmptyForm, choices
from community.core.pagination import PER_PAGE, Page
from community.core.timeutil import day_start, local_date, today
from community.core.validators import is_id, is_valid_phone, normalize_phone
from community.duty.models import DutyClaim
from community.mediation.forms import (
    AcceptForm,
    BookForm,
    FollowupForm,
    ObjectionForm,
    OutcomeForm,
    SessionRecordForm,
)
from community.mediation.models import (
    CASE_STATES,
    CaseEvent,
    CaseMediator,
    CaseParty,
    CasePartyKey,
    MediationCase,
    MediationMember,
    MediationRoom,
    MediationSession,
)
from community.mediation.permissions import (
    assigned_scope,
    case_scope,
    lead_scope,
    police_scope,
    room_scope,
    visible_cases,
)
from community.mediation.services.intake import name_keys
from community.mediation.services.workflow import (
    conflict_findings,
    overdue_condition,
    team_members,
)

OPEN_STATES = ("new", "accepted", "concluded")
_NUMBER = re.compile(r"^TJ\d{4}-\d{5,}$", re.IGNORECASE)


def get_case(session: Session, case_id: int) -> MediationCase | None:
    return session.get(MediationCase, case_id) if is_id(case_id) else None


def get_session(session: Session, session_id: int) -> MediationSession | None:
    return session.get(MediationSession, session_id) if is_id(session_id) else None


def get_room(session: Session, room_id: int) -> MediationRoom | None:
    return session.get(MediationRoom, room_id) if is_id(room_id) else None


def get_team(session: Session, team_id: int) -> Organization | None:
    team = session.get(Organization, team_id) if is_id(team_id) else None
    return team if team is not None and team.kind == "mediation_team" else None


def search_condition(q: str):
    """SQL condition on MediationCase for the search box: a case number, an 11-digit
    phone (its keyed hash) or the beginning of a party's name (keyed hashes of
    name prefixes). None for an empty query."""
    q = (q or "").strip()
    if not q:
        return None
    if _NUMBER.match(q):
        return MediationCase.number == q.upper()
    if is_valid_phone(q):
        return MediationCase.id.in_(
            select(CaseParty.case_id).where(CaseParty.phone_hash == lookup_hash(normalize_phone(q)))
        )
    keys = name_keys(q)
    return MediationCase.id.in_(select(CasePartyKey.case_id).where(CasePartyKey.hash == keys[-1]))


def _ordered(stmt):
    """高 first, then the oldest due date, then the newest."""
    return stmt.order_by(
        MediationCase.risk_rank.desc(), MediationCase.opened_at.desc(), MediationCase.id.desc()
    )


def list_cases(
    session: Session, user: Any, *, q: str = "", status: str = "", page: int = 1
) -> Page:
    conditions = []
    found = search_condition(q)
    if found is not None:
        conditions.append(found)
    if status in CASE_STATES:
        conditions.append(MediationCase.status == status)
    elif status != "all":
        conditions.append(MediationCase.status.in_(OPEN_STATES))
    # The page's ids are chosen from the visible rows' order columns, then loaded:
    # the cases are read once per visible row from the scope's indexes, never all.
    rows = visible_cases(session, user, *conditions).subquery()
    total = session.scalar(select(func.count()).select_from(rows)) or 0
    page = min(max(page, 1), max(1, -(-total // PER_PAGE)))
    chosen = (
        select(rows.c.id)
        .order_by(rows.c.risk_rank.desc(), rows.c.opened_at.desc(), rows.c.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    )
    shown = _ordered(select(MediationCase).where(MediationCase.id.in_(chosen)))
    items = list(session.scalars(shown))
    return Page(items=items, page=page, per_page=PER_PAGE, total=total)


def my_cases(session: Session, user: Any) -> list[MediationCase]:
    """The open cases the user is assigned to (or leads the team of)."""
    return list(
        session.scalars(
            _ordered(
                select(MediationCase).where(
                    assigned_scope(user), MediationCase.status.in_(OPEN_STATES)
                )
            ).limit(200)
        )
    )


def parties(session: Session, case: MediationCase) -> list[CaseParty]:
    return list(
        session.scalars(
            select(CaseParty).where(CaseParty.case_id == case.id).order_by(CaseParty.position)
        )
    )


def mediators(session: Session, case: MediationCase) -> list[CaseMediator]:
    return list(
        session.scalars(
            select(CaseMediator)
            .where(CaseMediator.case_id == case.id)
            .order_by(CaseMediator.is_lead.desc(), CaseMediator.id)
        )
    )


def sessions_of(session: Session, case: MediationCase) -> list[MediationSession]:
    return list(
        session.scalars(
            select(MediationSession)
            .where(MediationSession.case_id == case.id)
            .order_by(MediationSession.starts_at)
        )
    )


def timeline(session: Session, case: MediationCase) -> list[CaseEvent]:
    return list(
        session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id)
            .order_by(CaseEvent.at, CaseEvent.id)
        )
    )


def rooms(session: Session, user: Any, *, active_only: bool = False) -> list[MediationRoom]:
    stmt = (
        select(MediationRoom).join(Area, Area.id == MediationRoom.area_id).where(room_scope(user))
    )
    if active_only:
        stmt = stmt.where(MediationRoom.active.is_(True))
    return list(session.scalars(stmt.order_by(MediationRoom.kind, MediationRoom.name)))


def rooms_for_case(session: Session, case: MediationCase) -> list[MediationRoom]:
    """The open rooms of the case's team's area subtree."""
    return list(
        session.scalars(
            select(MediationRoom)
            .join(Area, Area.id == MediationRoom.area_id)
            .where(
                MediationRoom.active.is_(True),
                or_(
                    Area.path.like(f"{case.team.area.path}%"),
                    Area.id == case.team.area_id,
                ),
            )
            .order_by(MediationRoom.kind, MediationRoom.name)
        )
    )


def teams(session: Session, area_scope) -> list[Organization]:
    return list(
        session.scalars(
            select(Organization)
            .join(Area, Area.id == Organization.area_id)
            .where(Organization.kind == "mediation_team", area_scope)
            .order_by(Organization.name)
        )
    )


def members(session: Session, team: Organization) -> list[MediationMember]:
    return list(
        session.scalars(
            select(MediationMember)
            .where(MediationMember.team_id == team.id)
            .order_by(MediationMember.position, MediationMember.id)
        )
    )


def week_start(day: date | None) -> date:
    day = day or today()
    return day - timedelta(days=day.weekday())


@dataclass
class WeekRow:
    room: MediationRoom
    days: list[list[MediationSession]]


def week_sessions(session: Session, user: Any, start: date) -> list[WeekRow]:
    """The week's live sessions from `start` (a Monday), by room and local day, in
    the rooms the user sees."""
    shown = rooms(session, user)
    ids = [r.id for r in shown]
    rows = {r.id: WeekRow(r, [[] for _ in range(7)]) for r in shown}
    if not ids:
        return []
    found = session.scalars(
        select(MediationSession)
        .options(selectinload(MediationSession.case))
        .where(
            MediationSession.room_id.in_(ids),
            MediationSession.status != "cancelled",
            MediationSession.starts_at >= day_start(start),
            MediationSession.starts_at < day_start(start + timedelta(days=7)),
        )
        .order_by(MediationSession.starts_at)
    )
    for s in found:
        index = (local_date(s.starts_at) - start).days
        if 0 <= index < 7:
            rows[s.room_id].days[index].append(s)
    return list(rows.values())


@dataclass(frozen=True)
class StartCounts:
    to_accept: int = 0
    mine_open: int = 0
    followups_due: int = 0
    high_open: int = 0
    area_open: int = 0
    overdue: int = 0


def _count(session: Session, *conditions) -> int:
    return session.scalar(select(func.count(MediationCase.id)).where(*conditions)) or 0


def followup_due_condition(day: date):
    return (
        (MediationCase.status == "concluded")
        & (MediationCase.outcome == "agreement")
        & MediationCase.followup_at.is_(None)
        & (MediationCase.followup_due <= day)
    )


def start_counts(
    session: Session, user: Any, *, lead: bool, mediator: bool, police: bool
) -> StartCounts:
    day = today()
    values: dict[str, int] = {}
    if lead:
        values["to_accept"] = _count(session, lead_scope(user), MediationCase.status == "new")
    if mediator:
        mine = assigned_scope(user)
        values["mine_open"] = _count(session, mine, MediationCase.status.in_(("new", "accepted")))
        values["followups_due"] = _count(session, mine, followup_due_condition(day))
    if police:
        scope = police_scope(user)
        values["area_open"] = _count(session, scope, MediationCase.status.in_(OPEN_STATES))
        values["high_open"] = _count(
            session, scope, MediationCase.status.in_(OPEN_STATES), MediationCase.risk == "high"
        )
        values["overdue"] = _count(session, scope, overdue_condition(day))
    return StartCounts(**values)


def week_days(start: date) -> list[date]:
    return [start + timedelta(days=i) for i in range(7)]


def party_of(session: Session, case: MediationCase, party_id: Any) -> CaseParty | None:
    if not is_id(party_id):
        return None
    party = session.get(CaseParty, party_id)
    return party if party is not None and party.case_id == case.id else None


def mediator_of(session: Session, case: MediationCase, user_id: Any) -> CaseMediator | None:
    if not is_id(user_id):
        return None
    return session.scalar(
        select(CaseMediator).where(CaseMediator.case_id == case.id, CaseMediator.user_id == user_id)
    )


def user_named(session: Session, username: str | None) -> User | None:
    name = (username or "").strip()
    return session.scalar(select(User).where(User.username == name)) if name else None


@dataclass(frozen=True)
class CaseActions:
    """What the user may do on the case page now (each a permission rule and the
    case's state; the services refuse the rest again)."""

    accept: bool
    work: bool
    book: bool
    outcome: bool
    withdraw_only: bool
    followup: bool
    close: bool
    reveal: bool
    object: bool
    agreement: bool


def case_actions(user: Any, case: MediationCase, has_mediators: bool) -> CaseActions:
    work = can(user, "mediation.work", case)
    agreed = case.outcome == "agreement"
    return CaseActions(
        accept=case.status == "new" and can(user, "mediation.accept", case),
        work=work,
        book=work and case.status == "accepted",
        outcome=work and case.status in ("new", "accepted"),
        withdraw_only=case.status == "new",
        followup=work and case.status == "concluded" and agreed and case.followup_at is None,
        close=work and case.status == "concluded" and (not agreed or case.followup_at is not None),
        reveal=can(user, "mediation.reveal", case),
        object=has_mediators
        and case.status in ("new", "accepted")
        and can(user, "mediation.object", case),
        agreement=agreed,
    )


def case_context(session: Session, user: Any, case: MediationCase) -> dict:
    assigned = mediators(session, case)
    actions = case_actions(user, case, bool(assigned))
    members = []
    if actions.accept:
        members = [
            (m, conflict_findings(session, case, m.user))
            for m in team_members(session, case.team_id)
        ]
    day = today()
    return {
        "parties": parties(session, case),
        "mediators": assigned,
        "sessions": sessions_of(session, case),
        "events": timeline(session, case),
        "actions": actions,
        "members": members,
        "overdue": bool(
            session.scalar(
                select(MediationCase.id).where(MediationCase.id == case.id, overdue_condition(day))
            )
        ),
        "followup_due_now": case.followup_due is not None and case.followup_due <= day,
        "opener": session.get(User, case.opened_by_id) if case.opened_by_id else None,
    }


def fill_step_choices(session: Session, case: MediationCase, name: str, form: Any) -> None:
    """The choices of the case page's forms: team members, the case's mediators and
    parties, the rooms of the team's area."""
    if name == "accept_form":
        people = [(m.user_id, m.user.display_name) for m in team_members(session, case.team_id)]
        form.lead_mediator_id.choices = choices(people)
        form.other_ids.choices = choices(people)
    elif name == "book_form":
        form.room_id.choices = choices((r.id, r.name) for r in rooms_for_case(session, case))
        form.mediator_id.choices = choices(
            (m.user_id, m.user.display_name) for m in mediators(session, case)
        )
    elif name == "objection_form":
        form.party_id.choices = choices(
            (p.id, f"{p.position}. {mask_name(p.name)}") for p in parties(session, case)
        )
        form.mediator_id.choices = choices(
            (m.user_id, m.user.display_name) for m in mediators(session, case)
        )


FORMS = {
    "accept_form": AcceptForm,
    "book_form": BookForm,
    "outcome_form": OutcomeForm,
    "followup_form": FollowupForm,
    "objection_form": ObjectionForm,
    "record_form": SessionRecordForm,
    "close_form": EmptyForm,
}


def case_forms(session: Session, case: MediationCase, ctx: dict, bound: dict) -> dict:
    """The case page's forms: the bound one of a refused step, the others empty."""
    found = {}
    for name, cls in FORMS.items():
        form = bound.get(name) or cls(formdata=None)
        fill_step_choices(session, case, name, form)
        found[name] = form
    return found


def mask_name(name: str | None) -> str:
    """A party's name as lists show it: the first character, the rest starred."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)


def site_cases(session: Session, user: Any, site: Any, limit: int = 10) -> list[MediationCase]:
    """The open cases at `site` the user may see, 高 first."""
    return list(
        session.scalars(
            _ordered(
                select(MediationCase).where(
                    MediationCase.site_id == site.id,
                    MediationCase.status.in_(OPEN_STATES),
                    case_scope(user),
                )
            ).limit(limit)
        )
    )


def sessions_in_duty(session: Session, user: Any, task: Any) -> list[MediationSession]:
    """The sessions `user` staffed (booked or held) during duty `task`'s time
    window, when `user` holds a place on that duty; earliest first, with their case
    and room. One query."""
    claimed = (
        select(DutyClaim.id)
        .where(
            DutyClaim.task_id == task.id,
            DutyClaim.volunteer_id == user.id,
            DutyClaim.status.in_(("claimed", "on_duty", "reported", "approved")),
        )
        .exists()
    )
    stmt = (
        select(MediationSession)
        .where(
            MediationSession.mediator_id == user.id,
            MediationSession.status != "cancelled",
            MediationSession.starts_at < task.ends_at,
            MediationSession.ends_at > task.starts_at,
            claimed,
        )
        .options(selectinload(MediationSession.case))
        .order_by(MediationSession.starts_at)
    )
    return list(session.scalars(stmt))
