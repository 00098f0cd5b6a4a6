"""seed-demo's mediation: the team with its lead and mediators, three rooms, and
cases in every state (one overdue for acceptance), which the pages then show."""

from __future__ import annotations

from sqlalchemy import func, select

from community.mediation import services
from community.mediation.models import (
    MediationCase,
    MediationMember,
    MediationRoom,
    MediationSession,
)
from community.seed import seed


def test_demo_team_rooms_and_cases_in_every_state(session):
    seed(session)
    positions = dict(
        session.execute(
            select(MediationMember.position, func.count()).group_by(MediationMember.position)
        ).all()
    )
    assert positions == {"lead": 1, "mediator": 4}
    kinds = set(session.scalars(select(MediationRoom.kind)))
    assert kinds == {"flagship", "outstation"}
    assert session.scalar(select(func.count(MediationRoom.id))) == 3
    states = set(session.scalars(select(MediationCase.status)))
    assert states == {"new", "accepted", "concluded", "closed"}
    outcomes = set(
        session.scalars(select(MediationCase.outcome).where(MediationCase.outcome.is_not(None)))
    )
    assert outcomes == {"agreement", "referred", "withdrawn"}
    assert (
        session.scalar(
            select(func.count(MediationSession.id)).where(MediationSession.status == "booked")
        )
        >= 2
    )
    # The overdue case is marked (and its people told) as the worker would have.
    assert session.scalar(select(func.count(MediationCase.id)).where(MediationCase.overdue)) >= 1
    assert services.mark_overdue(session) == 0
