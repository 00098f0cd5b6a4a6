"""What the mediation services share: settings, the audit actions and notices, the
timeline line, and the one conditional step of a case's status."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from community.accounts.models import User
from community.core import audit
from community.core.errors import Conflict
from community.core.notify import notify, path_for, register_message
from community.mediation.models import CaseEvent, CaseMediator, MediationCase, MediationMember

# Audit actions (object type "mediationcase" unless said otherwise).
OPENED, ACCEPTED, OBJECTION, BOOKED, HELD, SESSION_CANCELLED = (
    "mediation.opened",
    "mediation.accepted",
    "mediation.objection",
    "mediation.session_booked",
    "mediation.session_held",
    "mediation.session_cancelled",
)
CONCLUDED, FOLLOWED_UP, CLOSED, REVEALED, OVERDUE = (
    "mediation.concluded",
    "mediation.followed_up",
    "mediation.closed",
    "mediation.revealed",
    "mediation.overdue",
)
ROOM_SAVED, MEMBER_ADDED = "mediation.room_saved", "mediation.member_added"
PARTIES_PURGED = "mediation.parties_purged"
audit.register_actions(
    {
        OPENED: _l("Mediation case opened"),
        ACCEPTED: _l("Mediation case accepted and assigned"),
        OBJECTION: _l("Objection to a mediator recorded"),
        BOOKED: _l("Mediation session booked"),
        HELD: _l("Mediation session recorded"),
        SESSION_CANCELLED: _l("Mediation session cancelled"),
        CONCLUDED: _l("Mediation outcome recorded"),
        FOLLOWED_UP: _l("Mediation follow-up recorded"),
        CLOSED: _l("Mediation case closed"),
        REVEALED: _l("Mediation party's full data revealed"),
        OVERDUE: _l("Mediation case overdue"),
        ROOM_SAVED: _l("Mediation room saved"),
        MEMBER_ADDED: _l("Mediation team member added"),
        PARTIES_PURGED: _l("Mediation parties' expired personal data purged"),
    }
)

# Notices: params are case numbers, dates and names of rooms, never a party's data.
OPENED_NOTICE = "mediation-opened"
ASSIGNED_NOTICE = "mediation-assigned"
BOOKED_NOTICE = "mediation-booked"
OBJECTION_NOTICE = "mediation-objection"
CONCLUDED_NOTICE = "mediation-concluded"
CLOSED_NOTICE = "mediation-closed"
OVERDUE_NOTICE = "mediation-overdue"
register_message(OPENED_NOTICE, _l("Mediation case %(number)s was opened: accept it by %(due)s."))
register_message(ASSIGNED_NOTICE, _l("You were assigned to mediation case %(number)s."))
register_message(
    BOOKED_NOTICE, _l("A session of case %(number)s is booked in %(room)s on %(when)s.")
)
register_message(
    OBJECTION_NOTICE, _l("A party of case %(number)s objected to mediator %(mediator)s.")
)
register_message(CONCLUDED_NOTICE, _l("Mediation case %(number)s was concluded: %(outcome)s."))
register_message(CLOSED_NOTICE, _l("Mediation case %(number)s was closed."))
register_message(OVERDUE_NOTICE, _l("Mediation case %(number)s is overdue (due %(due)s)."))

STATE_VERBS = {
    "new": _l("opened"),
    "accepted": _l("accepted"),
    "concluded": _l("concluded"),
    "closed": _l("closed"),
}


def setting(name: str) -> int:
    return int(current_app.config[name])


def case_link(case: MediationCase) -> str:
    return path_for("mediation.show", case_id=case.id)


def add_event(
    session: Session, case: MediationCase, actor: Any, kind: str, note: str | None = None
) -> CaseEvent:
    event = CaseEvent(case_id=case.id, actor_id=getattr(actor, "id", None), kind=kind, note=note)
    session.add(event)
    return event


def team_leads(session: Session, team_id: int) -> list[int]:
    return list(
        session.scalars(
            select(MediationMember.user_id).where(
                MediationMember.team_id == team_id, MediationMember.position == "lead"
            )
        )
    )


def case_people(session: Session, case: MediationCase) -> list[int]:
    """Who a step of the case concerns: its assigned mediators and its team's leads."""
    assigned = session.scalars(select(CaseMediator.user_id).where(CaseMediator.case_id == case.id))
    return sorted({*assigned, *team_leads(session, case.team_id)})


def tell(session: Session, user_ids, kind: str, case: MediationCase, **params: Any) -> None:
    notify(session, user_ids, kind, link=case_link(case), number=case.number, **params)


def advance(
    session: Session,
    case: MediationCase,
    actor: Any,
    expected: tuple[str, ...],
    **values: Any,
) -> None:
    """Move the case on from one of `expected` states with one conditional UPDATE;
    Conflict naming who moved it first when it is no longer in one of them."""
    result = session.execute(
        update(MediationCase)
        .where(MediationCase.id == case.id, MediationCase.status.in_(expected))
        .values(last_actor_id=actor.id, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.refresh(case)
        name = None
        if case.last_actor_id is not None:
            name = session.scalar(select(User.display_name).where(User.id == case.last_actor_id))
        verb = STATE_VERBS.get(case.status, case.status)
        raise Conflict(
            _("This case was already %(verb)s by %(name)s.", verb=verb, name=name)
            if name
            else _("This case was already %(verb)s.", verb=verb)
        )
    session.refresh(case)
