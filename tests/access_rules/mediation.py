"""Access rows for the mediation routes. The world's mediation team is the world's
`mediation_team` organization (the requesting mediator is its lead), with another
mediator assigned to a case of the world's community that ended in an agreement
(follow-up not yet recorded: followup answers 303, close 422) and has a booked
session tomorrow (cancel answers 303); a room of the community. Empty POSTs of the
forms answer 422 to those who may act."""

from __future__ import annotations

from datetime import timedelta

from community.core.timeutil import now_local, to_utc
from community.mediation import services
from community.mediation.models import MediationMember, MediationSession
from tests.access_rules import ANON, LOGIN
from tests.factories.mediation import make_case, make_member, make_room, two_parties

VIEWERS = {"admin": 200, "police": 200, "coordinator": 200, "mediator": 200}
OPENERS = {
    "police": 200,
    "coordinator": 200,
    "association": 200,
    "property_manager": 200,
    "mediator": 200,
    "landlord": 200,
}
SETUP = {"admin": 200, "police": 200}
NOT_LEAD = {"admin": 403, "police": 403, "coordinator": 403}


def _post(**by_role):
    return ("POST", {ANON: LOGIN, **by_role, "*": 404})


EXPECTED = {
    "mediation.index": ("GET", {ANON: LOGIN, "admin": 200, **OPENERS, "*": 403}),
    "mediation.rooms": ("GET", {ANON: LOGIN, "admin": 200, **OPENERS, "*": 403}),
    "mediation.new": ("GET", {ANON: LOGIN, **OPENERS, "*": 403}),
    "mediation.mine": ("GET", {ANON: LOGIN, "mediator": 200, "*": 403}),
    "mediation.week": (
        "GET",
        {ANON: LOGIN, "admin": 200, "police": 200, "coordinator": 200, "mediator": 200, "*": 403},
    ),
    "mediation.new_room": ("GET", {ANON: LOGIN, **SETUP, "*": 403}),
    "mediation.edit_room": ("GET", {ANON: LOGIN, **SETUP, "*": 404}),
    "mediation.team": ("GET", {ANON: LOGIN, **SETUP, "mediator": 200, "*": 404}),
    "mediation.add_member": _post(admin=422, police=422, mediator=403),
    "mediation.show": ("GET", {ANON: LOGIN, **VIEWERS, "*": 404}),
    "mediation.agreement": ("GET", {ANON: LOGIN, **VIEWERS, "*": 404}),
    "mediation.accept": _post(**NOT_LEAD, mediator=422),
    "mediation.objection": _post(admin=403, police=422, coordinator=403, mediator=422),
    "mediation.book": _post(**NOT_LEAD, mediator=422),
    "mediation.cancel_session": _post(**NOT_LEAD, mediator=303),
    "mediation.record_session": _post(**NOT_LEAD, mediator=422),
    "mediation.outcome": _post(**NOT_LEAD, mediator=422),
    "mediation.followup": _post(**NOT_LEAD, mediator=303),
    "mediation.close": _post(**NOT_LEAD, mediator=422),
    "mediation.reveal": _post(admin=403, police=200, coordinator=403, mediator=403),
}


def world(session, ctx):
    community = ctx["community"]
    team = ctx["orgs"]["mediation_team"]
    user = ctx["user"]
    if ctx["who"] == "mediator":
        session.add(
            MediationMember(team_id=team.id, user_id=user.id, position="lead", category="social")
        )
        session.flush()
    other = make_member(session, team=team, phone="13911112222")
    room = make_room(session, area=community, name="访问调解室")
    case = make_case(session, area=community, parties=two_parties())
    services.accept_case(session, other, case, services.Assignment(other.id))
    start = now_local().replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=1)
    booked = MediationSession(
        case_id=case.id,
        room_id=room.id,
        mediator_id=other.id,
        starts_at=to_utc(start),
        ends_at=to_utc(start + timedelta(hours=1)),
        status="booked",
    )
    session.add(booked)
    services.conclude_case(
        session, other, case, services.Outcome("agreement", terms="退还押金", settled_amount=1000)
    )
    session.flush()
    return {
        "case_id": case.id,
        "party_id": services_first_party(session, case),
        "session_id": booked.id,
        "mediation_room_id": room.id,
        "team_id": team.id,
        "mediator_user_id": other.id,
    }


def services_first_party(session, case) -> int:
    from community.mediation import queries

    return queries.parties(session, case)[0].id
