"""Factories of mediation: a team with its lead and mediators, rooms, cases opened
and accepted through the services."""

from __future__ import annotations

import itertools
from datetime import time

from community.accounts.services import create_organization
from community.mediation import services
from tests.factories.accounts import DEFAULT_PASSWORD, make_area_tree, make_role_user, make_user

_seq = itertools.count(1)


def make_team(session, *, area=None, name=None):
    if area is None:
        area = make_area_tree(session)[2]
    return create_organization(session, name or f"调解队{next(_seq)}", "mediation_team", area)


def make_member(
    session,
    *,
    team,
    position="mediator",
    category="social",
    phone=None,
    password=DEFAULT_PASSWORD,
    username=None,
    display_name=None,
):
    user = make_user(
        session,
        username=username or f"mediator{next(_seq)}",
        password=password,
        phone=phone,
        display_name=display_name,
    )
    services.add_member(session, None, team, user, position, category)
    return user


def make_room(session, *, area, name=None, kind="flagship", opens=time(8, 30), closes=time(17, 30)):
    return services.save_room(
        session,
        None,
        services.RoomInput(
            name=name or f"调解室{next(_seq)}",
            area=area,
            address="东路 1 号",
            kind=kind,
            opens=opens,
            closes=closes,
        ),
    )


def party(name="张三", phone="13800000001", role="applicant", **extra):
    return services.PartyInput(name=name, phone=phone, role=role, **extra)


def two_parties():
    return [
        party("张三", "13800000001", "applicant"),
        party("李四", "13800000002", "respondent"),
    ]


def make_case(
    session, *, opener=None, area, risk="medium", kind="rent", parties=None, site=None, amount=3000
):
    if opener is None:
        opener = make_role_user(session, "police", area=area)
    return services.open_case(
        session,
        opener,
        services.CaseInput(
            kind=kind,
            source="police",
            area=area,
            summary="押金纠纷",
            risk=risk,
            parties=parties or two_parties(),
            site=site,
            amount=amount,
        ),
    )


def accept(session, case, *, lead, mediator, others=(), reason=None):
    return services.accept_case(
        session, lead, case, services.Assignment(mediator.id, tuple(o.id for o in others), reason)
    )


def mediation_world(session, *, area=None):
    """A community with a mediation team (a lead, two mediators) and two rooms."""
    if area is None:
        area = make_area_tree(session)[2]
    team = make_team(session, area=area)
    lead = make_member(session, team=team, position="lead", category="professional")
    first = make_member(session, team=team, phone="13900000011")
    second = make_member(session, team=team, category="part_time")
    flagship = make_room(session, area=area, name=f"旗舰调解室{next(_seq)}")
    outstation = make_room(session, area=area, kind="outstation", name=f"所外调解室{next(_seq)}")
    return {
        "area": area,
        "team": team,
        "lead": lead,
        "mediator": first,
        "second": second,
        "room": flagship,
        "outstation": outstation,
    }
