"""Access rules of mediation: who opens a case (police, coordinators, association
officers, property managers, mediators; a landlord for a dispute at their own
site), who sees it (admins; police and coordinators of its area; the members of
its team; whoever opened it), who accepts and assigns it (its team's lead), who
works it (its assigned mediators and the team's lead), who sees the parties' full
numbers (police of its area and its assigned mediators: an audited reveal), and
who sets up rooms and team members (admins, police of the area)."""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context
from sqlalchemy import Select, false, or_, select, true, union

from community.accounts.models import Area
from community.accounts.permissions import (
    area_subtree_filter,
    has_role,
    in_areas,
    in_scope_area,
    is_admin,
    org_ids,
    rule,
    scope_areas,
)
from community.extensions import db
from community.mediation.models import CaseMediator, MediationCase, MediationMember

# Roles that see every case of their areas.
AREA_ROLES = ("police", "coordinator")
# Roles that may open a case (a landlord only at their own site: opens_at_site).
OPENER_ROLES = ("police", "coordinator", "association", "property_manager", "mediator", "landlord")


def positions(user: Any) -> dict[int, str]:
    """team id -> the user's position there ("lead" or "mediator"), once per request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return {}
    if not has_role(user, "mediator"):
        return {}
    key = f"_mediation_positions_{user.id}"
    if has_request_context() and key in g:
        return g.get(key)
    found = dict(
        db.session.execute(
            select(MediationMember.team_id, MediationMember.position).where(
                MediationMember.user_id == user.id,
                MediationMember.team_id.in_(sorted(org_ids(user, "mediator")) or [0]),
            )
        ).all()
    )
    if has_request_context():
        setattr(g, key, found)
    return found


def lead_teams(user: Any) -> set[int]:
    return {team for team, position in positions(user).items() if position == "lead"}


def member_teams(user: Any) -> set[int]:
    return set(positions(user))


def is_mediator(user: Any) -> bool:
    return bool(positions(user))


def _assigned(user: Any, case: Any) -> bool:
    return (
        db.session.scalar(
            select(CaseMediator.id).where(
                CaseMediator.case_id == case.id, CaseMediator.user_id == user.id
            )
        )
        is not None
    )


@rule("nav.mediation")
def _nav(user: Any, obj: Any) -> bool:
    return is_admin(user) or has_role(user, *OPENER_ROLES)


@rule("nav.mediation.mine")
def _nav_mine(user: Any, obj: Any) -> bool:
    return is_mediator(user)


@rule("mediation.create")
def _opens(user: Any, obj: Any) -> bool:
    return has_role(user, *OPENER_ROLES)


def opens_at_site(user: Any, site: Any) -> bool:
    """A landlord asks for mediation of a dispute at their own site only; the other
    opener roles at any site they see (the site list they pick from)."""
    if has_role(user, "police", "coordinator", "association", "property_manager", "mediator"):
        return True
    return site is not None and has_role(user, "landlord") and site.landlord_id == user.id


def needs_site(user: Any) -> bool:
    """A landlord's case names their site (the only place they may open one for)."""
    return not has_role(
        user, "police", "coordinator", "association", "property_manager", "mediator"
    )


@rule("mediation.view")
def _sees(user: Any, case: Any) -> bool:
    if is_admin(user) or in_scope_area(user, case.area, *AREA_ROLES):
        return True
    if case.team_id in member_teams(user):
        return True
    return case.opened_by_id == user.id


@rule("mediation.accept")
def _accepts(user: Any, case: Any) -> bool:
    """Accept and assign mediators: the lead of the case's team."""
    return case.team_id in lead_teams(user)


@rule("mediation.work")
def _works(user: Any, case: Any) -> bool:
    """Book sessions, record them, the outcome, the follow-up, close: the case's
    assigned mediators and its team's lead."""
    return case.team_id in lead_teams(user) or (
        case.team_id in member_teams(user) and _assigned(user, case)
    )


@rule("mediation.object")
def _records_objection(user: Any, case: Any) -> bool:
    """A party's objection to a mediator is recorded by whoever works the case or
    the police of its area."""
    return _works(user, case) or in_scope_area(user, case.area, "police")


@rule("mediation.reveal")
def _reveals(user: Any, case: Any) -> bool:
    """The full phone and document number: police of the case's area and its
    assigned mediators only (audited)."""
    if in_scope_area(user, case.area, "police"):
        return True
    return case.team_id in member_teams(user) and _assigned(user, case)


@rule("mediation.rooms", "nav.mediation.rooms")
def _sets_up(user: Any, obj: Any) -> bool:
    return is_admin(user) or has_role(user, "police")


@rule("mediation.room.edit")
def _edits_room(user: Any, room: Any) -> bool:
    return is_admin(user) or in_scope_area(user, room.area, "police")


@rule("mediation.team.edit")
def _edits_team(user: Any, team: Any) -> bool:
    return is_admin(user) or in_scope_area(user, team.area, "police")


@rule("mediation.team.view")
def _sees_team(user: Any, team: Any) -> bool:
    return _edits_team(user, team) or team.id in member_teams(user)


@rule("mediation.week")
def _sees_week(user: Any, obj: Any) -> bool:
    return is_admin(user) or has_role(user, "police", "coordinator") or is_mediator(user)


def case_scope(user: Any):
    """SQL condition on MediationCase: the rule "mediation.view" for rows (a list
    reads them through visible_cases)."""
    if is_admin(user):
        return true()
    conditions = [MediationCase.opened_by_id == user.id]
    areas = scope_areas(user, *AREA_ROLES)
    if areas:
        conditions.append(in_areas(user, MediationCase.area_id, *AREA_ROLES))
    teams = member_teams(user)
    if teams:
        conditions.append(MediationCase.team_id.in_(sorted(teams)))
    return or_(*conditions)


def visible_cases(session: Any, user: Any, *conditions) -> Select:
    """SELECT of (id, risk_rank, opened_at) of the cases the user sees (the rule
    "mediation.view" for rows) that meet `conditions`: a UNION of one read per way
    of seeing a case, each with the conditions inside, the areas of the user's
    subtrees as a list of ids (one query). The same rows as
    `case_scope(user) & conditions`; but PostgreSQL reads
    `area_id IN (SELECT ...) OR ...` by scanning every case, while each branch
    here reads its own index (ix_mediation_case_area_status for the areas, the
    opener's, ix_mediation_case_team_status for the teams): a list costs the rows
    of its scope, not of the table."""
    columns = (MediationCase.id, MediationCase.risk_rank, MediationCase.opened_at)
    if is_admin(user):
        return select(*columns).where(*conditions)
    ways = [MediationCase.opened_by_id == user.id]
    areas = scope_areas(user, *AREA_ROLES)
    if areas:
        ids = session.scalars(select(Area.id).where(area_subtree_filter(Area.path, areas)))
        ways.append(MediationCase.area_id.in_(sorted(ids)))
    teams = member_teams(user)
    if teams:
        ways.append(MediationCase.team_id.in_(sorted(teams)))
    branches = [select(*columns).where(way, *conditions) for way in ways]
    return union(*branches) if len(branches) > 1 else branches[0]


def lead_scope(user: Any):
    """SQL condition on MediationCase: cases of the teams the user leads."""
    teams = lead_teams(user)
    return MediationCase.team_id.in_(sorted(teams)) if teams else false()


def assigned_scope(user: Any):
    """SQL condition on MediationCase: cases the user is assigned to, or leads."""
    mine = MediationCase.id.in_(select(CaseMediator.case_id).where(CaseMediator.user_id == user.id))
    teams = lead_teams(user)
    return or_(mine, MediationCase.team_id.in_(sorted(teams))) if teams else mine


def police_scope(user: Any):
    return in_areas(user, MediationCase.area_id, "police")


def room_scope(user: Any):
    """SQL condition on Area for rooms a user sees: admins all; police, coordinators
    and mediators their areas' subtrees (a mediator: their team's area)."""
    if is_admin(user):
        return true()
    return area_subtree_filter(Area.path, scope_areas(user, "police", "coordinator", "mediator"))


def room_setup_scope(user: Any):
    """SQL condition on Area: where the user may set up rooms and teams."""
    if is_admin(user):
        return true()
    return area_subtree_filter(Area.path, scope_areas(user, "police"))


@rule("mediation.lead_counts")
def _leads(user: Any, obj: Any) -> bool:
    return bool(lead_teams(user))


@rule("mediation.police_counts")
def _polices(user: Any, obj: Any) -> bool:
    return has_role(user, "police")
