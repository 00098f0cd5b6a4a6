"""Access rules of duties: coordinators publish and decide in their areas' subtree,
volunteers of the area see and claim, a claim's on-duty steps belong to its
volunteer alone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, false, func, or_, select, true

from community.accounts.models import Area, Membership, Organization, User
from community.accounts.permissions import (
    area_subtree_filter,
    has_role,
    in_scope_area,
    is_admin,
    memberships,
    org_ids,
    rule,
    scope_areas,
    visible_areas,
)
from community.duty.models import DutyTask

# Roles that see the duties of their areas.
VIEW_ROLES = ("coordinator", "volunteer", "police")


@rule("nav.duties")
def _nav(user: Any, obj: Any) -> bool:
    return is_admin(user) or has_role(user, *VIEW_ROLES)


@rule("nav.duties.mine")
def _nav_mine(user: Any, obj: Any) -> bool:
    return has_role(user, "volunteer")


@rule("duty.create")
def _publishes(user: Any, obj: Any) -> bool:
    return is_admin(user) or has_role(user, "coordinator")


@rule("duty.view")
def _sees(user: Any, task: Any) -> bool:
    return is_admin(user) or in_scope_area(user, task.area, *VIEW_ROLES)


@rule("duty.manage")
def _manages(user: Any, task: Any) -> bool:
    """Edit, cancel, see the claimants' routes, decide their reports."""
    return is_admin(user) or in_scope_area(user, task.area, "coordinator")


@rule("duty.claim")
def _claims(user: Any, task: Any) -> bool:
    if not in_scope_area(user, task.area, "volunteer"):
        return False
    return task.team_id is None or task.team_id in org_ids(user, "volunteer")


@rule("claim.view")
def _sees_claim(user: Any, claim: Any) -> bool:
    return claim.volunteer_id == user.id or _manages(user, claim.task)


@rule("claim.act")
def _acts_on_claim(user: Any, claim: Any) -> bool:
    """Check in, tick checkpoints, check out: the claim's own volunteer only."""
    return claim.volunteer_id == user.id


@rule("claim.decide")
def _decides(user: Any, claim: Any) -> bool:
    return _manages(user, claim.task)


def decidable_reports(user: Any, claims: Any) -> set[int]:
    """Ids of the claims whose report the user may approve or return now: reported,
    on a duty they manage (the report list and a duty's volunteers offer the decision
    for these only)."""
    return {c.id for c in claims if c.status == "reported" and _decides(user, c)}


@rule("nav.duties.patrols", "duty.patrols")
def _watches_patrols(user: Any, obj: Any) -> bool:
    """On patrol now: the coordinators (their areas' duties) and admins."""
    return is_admin(user) or has_role(user, "coordinator")


@rule("nav.duties.reports", "duty.reports")
def _reviews(user: Any, obj: Any) -> bool:
    return is_admin(user) or has_role(user, "coordinator")


@rule("duty.record")
def _sees_record(user: Any, volunteer: Any) -> bool:
    """A volunteer's own record; a coordinator's (or admin's) for volunteers of
    their areas."""
    if volunteer.id == user.id:
        return True
    if is_admin(user):
        return True
    theirs = scope_areas(volunteer, "volunteer")
    return any(in_scope_area(user, a, "coordinator") for a in theirs)


def record_scope(user: Any):
    """SQL condition on User.id: the rule "duty.record" for rows (pages linking to
    volunteers' records link only these): the user's own, a coordinator's volunteers
    of their areas' subtrees (a volunteer's area: their team's, or their own), all
    for an admin."""
    if is_admin(user):
        return true()
    own = User.id == user.id
    areas = scope_areas(user, "coordinator")
    if not areas:
        return own
    theirs = (
        select(Membership.user_id)
        .outerjoin(Organization, Organization.id == Membership.organization_id)
        .join(Area, Area.id == func.coalesce(Organization.area_id, Membership.area_id))
        .where(Membership.role == "volunteer", area_subtree_filter(Area.path, areas))
    )
    return or_(own, User.id.in_(theirs))


def duty_scope(user: Any, roles_held: tuple[str, ...] = VIEW_ROLES):
    """SQL condition on DutyTask.area_id: the task lies in the user's areas."""
    if is_admin(user):
        return true()
    areas = scope_areas(user, *roles_held)
    return DutyTask.area_id.in_(select(Area.id).where(area_subtree_filter(Area.path, areas)))


def claim_scope(user: Any):
    """SQL condition on DutyTask: the rule "duty.claim" for rows (the task lies in the
    user's volunteer areas and is open to everyone or to one of their teams)."""
    areas = scope_areas(user, "volunteer")
    if not areas:
        return false()
    teams = sorted(org_ids(user, "volunteer"))
    return and_(
        DutyTask.area_id.in_(select(Area.id).where(area_subtree_filter(Area.path, areas))),
        or_(DutyTask.team_id.is_(None), DutyTask.team_id.in_(teams)),
    )


def managed_scope(user: Any):
    return duty_scope(user, ("coordinator",))


def publish_scope(user: Any):
    """SQL condition on Area: the areas the user may publish duties in (admin: all)."""
    if is_admin(user):
        return true()
    return area_subtree_filter(Area.path, scope_areas(user, "coordinator"))


def team_scope(user: Any):
    """SQL condition on Organization: the volunteer teams a duty the user publishes may
    be reserved for (the teams of the areas they publish in)."""
    return and_(
        Organization.kind == "volunteer_team",
        Organization.area_id.in_(select(Area.id).where(publish_scope(user))),
    )


def leaderboard_area_scope(user: Any):
    """SQL condition on Area: the areas the leaderboard may be narrowed to (those the
    user sees)."""
    return Area.id.in_(visible_areas(user).with_only_columns(Area.id).order_by(None))


def is_volunteer(user: Any) -> bool:
    return has_role(user, "volunteer")


def is_coordinator(user: Any) -> bool:
    return is_admin(user) or has_role(user, "coordinator")


def volunteer_teams(user: Any) -> set[int]:
    return org_ids(user, "volunteer")


def team_of(user: Any):
    """The user's volunteer team (an Organization), or None."""
    for m in memberships(user):
        if m.role == "volunteer" and m.organization is not None:
            return m.organization
    return None
