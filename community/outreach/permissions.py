"""Access rules of outreach: police and coordinators publish events and decide
visit requests in their areas' subtree; volunteers of the area see events (they
staff them through the linked duty); an enterprise or property company asks for
visits and sees its own requests and the events held at its premises. The
attendees' sign-in is public (no account): it has no rule here.

A volunteer team's lead (membership.lead, set where an administrator adds the
member) publishes events organised by their team, in the team's area subtree, and
manages them (live count, poster, cancel, close) like the police do theirs; they
decide no visit request, read no coverage and open no corner.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, or_, select, true

from community.accounts.models import Area, Organization
from community.accounts.permissions import (
    area_subtree_filter,
    has_role,
    in_areas,
    in_scope_area,
    is_admin,
    led_teams,
    org_ids,
    rule,
    scope_areas,
)
from community.outreach.models import OutreachEvent, VisitRequest

# Who publishes events and decides requests in their areas.
PUBLISH_ROLES = ("police", "coordinator")
# Who sees the events of their areas.
VIEW_ROLES = ("police", "coordinator", "volunteer")
# Who asks for a visit at their premises (through their organization).
REQUEST_ROLES = ("enterprise", "property_manager")
# Organizations that may organise an event.
ORGANISER_KINDS = ("police_station", "community_office", "volunteer_team")


@rule("nav.outreach")
def _nav(user: Any, obj: Any) -> bool:
    return is_admin(user) or has_role(user, *VIEW_ROLES, *REQUEST_ROLES)


@rule("outreach.corner.create", "nav.outreach.coverage")
def _publishes_for_the_area(user: Any, obj: Any) -> bool:
    return is_admin(user) or has_role(user, *PUBLISH_ROLES)


@rule("outreach.create")
def _publishes(user: Any, obj: Any) -> bool:
    return _publishes_for_the_area(user, obj) or bool(led_teams(user))


def _led_ids(user: Any) -> set[int]:
    return {team.id for team in led_teams(user)}


def _requester_orgs(user: Any) -> set[int]:
    return org_ids(user, *REQUEST_ROLES)


@rule("outreach.view")
def _sees(user: Any, event: Any) -> bool:
    """Whoever covers its area, its organiser's members, and the enterprise it is
    held at."""
    if is_admin(user) or in_scope_area(user, event.area, *VIEW_ROLES):
        return True
    if event.organiser_id in org_ids(user):
        return True
    return event.enterprise_id is not None and event.enterprise_id in _requester_orgs(user)


@rule("outreach.manage")
def _manages(user: Any, event: Any) -> bool:
    """Close, see the live count and the poster: police and coordinators of its
    area, and the members of its organiser other than volunteers."""
    if is_admin(user) or in_scope_area(user, event.area, *PUBLISH_ROLES):
        return True
    return event.organiser_id in org_ids(user, *PUBLISH_ROLES) | _led_ids(user)


@rule("outreach.request.create")
def _requests(user: Any, obj: Any) -> bool:
    return bool(_requester_orgs(user))


@rule("outreach.request.view")
def _sees_request(user: Any, request: Any) -> bool:
    return request.organization_id in _requester_orgs(user) or _decides(user, request)


@rule("outreach.request.decide")
def _decides(user: Any, request: Any) -> bool:
    return is_admin(user) or in_scope_area(user, request.area, *PUBLISH_ROLES)


@rule("outreach.review_queue")
def _reviews(user: Any, obj: Any) -> bool:
    return is_admin(user) or has_role(user, *PUBLISH_ROLES)


@rule("outreach.enterprise.view")
def _sees_enterprise(user: Any, org: Any) -> bool:
    """An enterprise's outreach page: its own staff, and police and coordinators of
    its area."""
    if org.id in org_ids(user, "enterprise"):
        return True
    return is_admin(user) or in_scope_area(user, org.area, *PUBLISH_ROLES)


def event_scope(user: Any):
    """SQL condition on OutreachEvent: the rule "outreach.view" for rows."""
    if is_admin(user):
        return true()
    conditions = []
    if scope_areas(user, *VIEW_ROLES):
        conditions.append(in_areas(user, OutreachEvent.area_id, *VIEW_ROLES))
    own = org_ids(user)
    if own:
        conditions.append(OutreachEvent.organiser_id.in_(own))
    theirs = _requester_orgs(user)
    if theirs:
        conditions.append(OutreachEvent.enterprise_id.in_(theirs))
    return or_(*conditions) if conditions else false()


def request_scope(user: Any):
    """SQL condition on VisitRequest: their own organization's, or in the areas they
    decide for."""
    if is_admin(user):
        return true()
    conditions = []
    own = _requester_orgs(user)
    if own:
        conditions.append(VisitRequest.organization_id.in_(own))
    if scope_areas(user, *PUBLISH_ROLES):
        conditions.append(in_areas(user, VisitRequest.area_id, *PUBLISH_ROLES))
    return or_(*conditions) if conditions else false()


def decides_requests(user: Any, area_id_column):
    """SQL condition on an area id: the requests the user decides (review queue)."""
    return true() if is_admin(user) else in_areas(user, area_id_column, *PUBLISH_ROLES)


def publish_areas(user: Any):
    """SQL condition on Area: the areas the user may publish events in (a team
    lead: their team's area subtree)."""
    if is_admin(user):
        return true()
    teams = [team.area for team in led_teams(user)]
    return area_subtree_filter(Area.path, [*scope_areas(user, *PUBLISH_ROLES), *teams])


def coverage_areas(user: Any):
    """SQL condition on Area: the areas whose coverage the user may read (police
    and coordinators: a team lead reads none)."""
    if is_admin(user):
        return true()
    return area_subtree_filter(Area.path, scope_areas(user, *PUBLISH_ROLES))


def organiser_scope(user: Any):
    """SQL condition on Organization: organisers the user may name — the police
    stations, community offices and volunteer teams of the areas they publish in, or
    on an ancestor of them, and their own organizations; a team lead names their
    own team only."""
    own = org_ids(user, *PUBLISH_ROLES) | _led_ids(user)
    kinds = Organization.kind.in_(ORGANISER_KINDS)
    if is_admin(user):
        return kinds
    areas = scope_areas(user, *PUBLISH_ROLES)
    if not areas:
        return kinds & Organization.id.in_(own)
    ancestors = {int(part) for a in areas for part in a.path.strip("/").split("/") if part}
    return kinds & or_(
        Organization.id.in_(own),
        Organization.area_id.in_(select(Area.id).where(coverage_areas(user))),
        Organization.area_id.in_(ancestors),
    )


def requester_orgs(user: Any) -> set[int]:
    """The organizations the user asks for visits for."""
    return _requester_orgs(user)


def publishes(user: Any) -> bool:
    return is_admin(user) or has_role(user, *PUBLISH_ROLES)


def asks_for_visits(user: Any) -> bool:
    return bool(_requester_orgs(user))
