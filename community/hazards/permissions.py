"""Access rules of hazards: who reports at a site, who fixes, closes, reopens and
assigns, and which list tabs a user gets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, or_

from community.accounts.permissions import (
    has_role,
    in_scope_area,
    is_admin,
    org_ids,
    rule,
    scope_areas,
)
from community.hazards.models import Hazard
from community.places.permissions import (
    AREA_ROLES,
    can_see_site,
    inspects_site,
    people_in_scope,
    polices_site,
    runs_site,
)

# Who a hazard may be assigned to (see assignable_people).
ASSIGNABLE_ROLES = ("landlord", "property_manager", "coordinator")

rule("nav.hazards")(lambda user, obj: True)


@rule("hazard.view")
def _sees(user: Any, hazard: Any) -> bool:
    """Whoever sees the site, and whoever the hazard is assigned to."""
    return can_see_site(user, hazard.site) or _fixes(user, hazard)


@rule("hazard.create")
def _reports(user: Any, site: Any) -> bool:
    """Volunteers, coordinators and police of the area, and the site's own landlord
    or property company (they are the first to see one)."""
    return (
        is_admin(user)
        or in_scope_area(user, site.area, "police", "coordinator", "volunteer")
        or runs_site(user, site)
    )


def _fixes(user: Any, hazard: Any) -> bool:
    if hazard.assignee_user_id is not None and hazard.assignee_user_id == user.id:
        return True
    return hazard.assignee_org_id is not None and hazard.assignee_org_id in org_ids(
        user, "property_manager"
    )


@rule("hazard.fix")
def _fixes_or_polices(user: Any, hazard: Any) -> bool:
    return _fixes(user, hazard) or polices_site(user, hazard.site)


@rule("hazard.close", "hazard.reopen", "hazard.assign")
def _inspects(user: Any, hazard: Any) -> bool:
    return inspects_site(user, hazard.site)


def tabs_for(user: Any) -> list[str]:
    """The list tabs that make sense for the user's roles; the first is the default.
    Every tab is limited to the sites the user may see."""
    tabs = []
    if has_role(user, "landlord", "property_manager"):
        tabs.append("assigned")
    tabs.append("area")
    if is_admin(user) or has_role(user, "police", "coordinator", "volunteer"):
        tabs.append("reported")
    return tabs


def fixes_hazards(user: Any) -> bool:
    """Landlords and property managers fix the hazards assigned to them (their start
    page lists the open ones)."""
    return has_role(user, "landlord", "property_manager")


def has_jurisdiction(user: Any) -> bool:
    """Whole areas (police, coordinators, volunteers, administrators), as opposed to
    the few sites of a landlord, company or association."""
    return is_admin(user) or bool(scope_areas(user, *AREA_ROLES))


def assignable_people(user: Any, site: Any):
    """SQL condition on User: whom the user may assign a hazard at `site` to — the
    landlords, property managers and coordinators whose membership lies in the
    areas the user inspects, that include the site's area."""
    areas = [
        a for a in scope_areas(user, "police", "coordinator") if site.area.path.startswith(a.path)
    ]
    return people_in_scope(user, ASSIGNABLE_ROLES, areas)


def assigned_to(user: Any):
    """SQL condition on Hazard: assigned to the user (or to their property company)."""
    conditions = []
    if has_role(user, "landlord"):
        conditions.append(Hazard.assignee_user_id == user.id)
    companies = org_ids(user, "property_manager")
    if companies:
        conditions.append(Hazard.assignee_org_id.in_(companies))
    return or_(*conditions) if conditions else false()


@rule("hazard.review_queue")
def _reviews_fixes(user: Any, obj: Any) -> bool:
    """Fixed hazards wait in the review queue of those who close them."""
    return has_role(user, "admin", "police", "coordinator")
