"""Setting up mediation: rooms (area, address, kind, opening hours) and the members
of a mediation team (the `mediator` role in the team, with a position and a
category). Admins and the police of the area do this."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from community.accounts.models import Area, Membership, Organization, User
from community.accounts.services import add_membership
from community.core import audit
from community.core.errors import RuleViolation
from community.mediation.models import (
    CATEGORIES,
    POSITIONS,
    ROOM_KINDS,
    MediationMember,
    MediationRoom,
)
from community.mediation.services.common import MEMBER_ADDED, ROOM_SAVED


@dataclass(frozen=True)
class RoomInput:
    name: str
    area: Area
    address: str
    kind: str
    opens: time
    closes: time
    active: bool = True


def save_room(
    session: Session, actor: Any, data: RoomInput, room: MediationRoom | None = None
) -> MediationRoom:
    """Create a room (or change `room`): RuleViolation on name (empty or taken in
    the area), address, kind, closes (not after opens)."""
    errors: list[tuple[str | None, str]] = []
    name = " ".join((data.name or "").split())
    address = " ".join((data.address or "").split())
    if not name:
        errors.append(("name", _("A name is required.")))
    if not address:
        errors.append(("address", _("An address is required.")))
    if data.kind not in ROOM_KINDS:
        errors.append(("kind", _("Choose the kind of room.")))
    if data.closes <= data.opens:
        errors.append(("closes", _("The room closes after it opens.")))
    taken = session.scalar(
        select(MediationRoom.id).where(
            MediationRoom.area_id == data.area.id,
            MediationRoom.name == name,
            MediationRoom.id != (room.id if room is not None else 0),
        )
    )
    if name and taken:
        errors.append(("name", _("This area has a room of this name already.")))
    if errors:
        raise RuleViolation.several(errors)
    if room is None:
        room = MediationRoom()
        session.add(room)
    room.name, room.area_id, room.address, room.kind = name, data.area.id, address, data.kind
    room.opens, room.closes, room.active = data.opens, data.closes, data.active
    session.flush()
    audit.record(session, actor, ROOM_SAVED, room, {"kind": data.kind})
    return room


def add_member(
    session: Session,
    actor: Any,
    team: Organization,
    user: User | None,
    position: str,
    category: str,
) -> MediationMember:
    """Make `user` a member of the mediation `team`: RuleViolation on position,
    category or username (no such account, or already a member)."""
    if user is None:
        raise RuleViolation("username", _("No account has this username."))
    if team.kind != "mediation_team":
        raise RuleViolation(None, _("This is not a mediation team."))
    if position not in POSITIONS:
        raise RuleViolation("position", _("Choose lead or mediator."))
    if category not in CATEGORIES:
        raise RuleViolation("category", _("Choose professional, social or part-time."))
    if session.scalar(
        select(MediationMember.id).where(
            MediationMember.team_id == team.id, MediationMember.user_id == user.id
        )
    ):
        raise RuleViolation("username", _("This person is a member of the team already."))
    held = session.scalar(
        select(Membership.id).where(
            Membership.user_id == user.id,
            Membership.organization_id == team.id,
            Membership.role == "mediator",
        )
    )
    if held is None:
        add_membership(session, actor, user, "mediator", team)
    member = MediationMember(team_id=team.id, user_id=user.id, position=position, category=category)
    session.add(member)
    session.flush()
    audit.record(session, actor, MEMBER_ADDED, team, {"user": user.id, "position": position})
    return member
