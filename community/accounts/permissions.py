"""Every access rule of the application: `can(user, action, obj)` and query scopes.

Roles come from memberships; scope follows the area tree (district > street >
community). A list never shows what the detail page would refuse: views use
the scopes below for both, answering 404 outside the scope and 403 for a
forbidden action on a visible object.
"""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context
from sqlalchemy import Select, false, or_, select

from community.accounts.models import Area, Membership
from community.extensions import db


def memberships(user: Any) -> list[Membership]:
    """The user's memberships, loaded once per request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    cache = g.setdefault("_memberships", {}) if has_request_context() else {}
    if user.id not in cache:
        cache[user.id] = list(
            db.session.scalars(select(Membership).where(Membership.user_id == user.id))
        )
    return cache[user.id]


def forget_memberships() -> None:
    if has_request_context():
        g.pop("_memberships", None)


def roles(user: Any) -> set[str]:
    return {m.role for m in memberships(user)}


def has_role(user: Any, *wanted: str) -> bool:
    return bool(roles(user) & set(wanted))


def is_admin(user: Any) -> bool:
    return has_role(user, "admin")


def scope_areas(user: Any, *role_names: str) -> list[Area]:
    """Root areas the user covers through the given roles (all roles if none given)."""
    result = []
    for m in memberships(user):
        if role_names and m.role not in role_names:
            continue
        area = m.organization.area if m.organization is not None else m.area
        if area is not None:
            result.append(area)
    return result


def area_subtree_filter(column, areas: list[Area]):
    """SQL condition: `column` (an Area.path column) lies in one of the subtrees."""
    if not areas:
        return false()
    return or_(*[column.like(f"{a.path}%") for a in areas])


def in_scope_area(user: Any, area: Area | None, *role_names: str) -> bool:
    if area is None:
        return False
    return any(area.path.startswith(a.path) for a in scope_areas(user, *role_names))


def visible_areas(user: Any) -> Select:
    """Areas the user may pick or see: everything for admins, else their subtrees."""
    stmt = select(Area).order_by(Area.path)
    if is_admin(user):
        return stmt
    return stmt.where(area_subtree_filter(Area.path, scope_areas(user)))


def org_ids(user: Any, *role_names: str) -> set[int]:
    return {
        m.organization_id
        for m in memberships(user)
        if m.organization_id is not None and (not role_names or m.role in role_names)
    }


# Roles that see every site of their area subtree.
AREA_ROLES = ("police", "coordinator", "volunteer")


def visible_sites(user: Any) -> Select:
    """Sites the user may see: admins all; police, coordinators and volunteers the
    sites of their areas; an association its members' sites; a property manager
    the company's compounds; a landlord their own."""
    from community.places.models import Site

    stmt = select(Site)
    if is_admin(user):
        return stmt
    return stmt.where(_site_scope(user, Site))


def _site_scope(user: Any, Site) -> Any:
    conditions = []
    areas = scope_areas(user, *AREA_ROLES)
    if areas:
        conditions.append(
            Site.area_id.in_(select(Area.id).where(area_subtree_filter(Area.path, areas)))
        )
    associations = org_ids(user, "association")
    if associations:
        conditions.append(Site.association_id.in_(associations))
    companies = org_ids(user, "property_manager")
    if companies:
        conditions.append(Site.company_id.in_(companies))
    if has_role(user, "landlord"):
        conditions.append(Site.landlord_id == user.id)
    return or_(*conditions) if conditions else false()


def can_see_site(user: Any, site: Any) -> bool:
    if is_admin(user):
        return True
    if in_scope_area(user, site.area, *AREA_ROLES):
        return True
    if site.association_id is not None and site.association_id in org_ids(user, "association"):
        return True
    if site.company_id is not None and site.company_id in org_ids(user, "property_manager"):
        return True
    return has_role(user, "landlord") and site.landlord_id == user.id


def _runs_site(user: Any, site: Any) -> bool:
    """The site's own landlord or a manager of its property company."""
    if has_role(user, "landlord") and site.landlord_id == user.id:
        return True
    return site.company_id is not None and site.company_id in org_ids(user, "property_manager")


def _polices_site(user: Any, site: Any) -> bool:
    return is_admin(user) or in_scope_area(user, site.area, "police")


def _inspects_site(user: Any, site: Any) -> bool:
    return is_admin(user) or in_scope_area(user, site.area, "police", "coordinator")


def _edits_site(user: Any, site: Any) -> bool:
    return _runs_site(user, site) or _polices_site(user, site)


def _fixes_hazard(user: Any, hazard: Any) -> bool:
    if hazard.assignee_user_id is not None and hazard.assignee_user_id == user.id:
        return True
    return hazard.assignee_org_id is not None and hazard.assignee_org_id in org_ids(
        user, "property_manager"
    )


def _decides_application(user: Any, application: Any) -> bool:
    return is_admin(user) or application.association_id in org_ids(user, "association")


# action -> predicate(user, obj). Every feature's rules are rows of this table;
# `obj` is the object acted on (a Site for site.* rules, etc.).
_RULES: dict[str, Any] = {
    "admin.manage": lambda user, obj: is_admin(user),
    "account.use": lambda user, obj: user is not None and user.is_authenticated,
    # places
    "site.list": lambda user, obj: True,
    "site.create": lambda user, obj: has_role(
        user, "admin", "landlord", "property_manager", "police"
    ),
    "site.view": can_see_site,
    # Police and administrators register a site for a landlord they name.
    "site.name_landlord": lambda user, obj: has_role(user, "admin", "police"),
    "site.edit": _edits_site,
    "site.manage_rooms": _edits_site,
    "site.poster": _edits_site,
    "site.rotate_token": _edits_site,
    "association.apply": lambda user, obj: has_role(user, "landlord"),
    "association.decide": _decides_application,
    "association.view_members": lambda user, obj: (
        is_admin(user) or (obj is not None and obj.id in org_ids(user, "association"))
    ),
    # ratings: safety admission and inspections
    "inspection.create": _inspects_site,
    "inspection.record": lambda user, inspection: _inspects_site(user, inspection.site),
    "inspection.list_due": lambda user, obj: has_role(
        user, "admin", "police", "coordinator", "association"
    ),
    # incidents: police only
    "incident.create": _polices_site,
    "incident.view": _inspects_site,
    # hazards
    "hazard.create": lambda user, site: (
        is_admin(user) or in_scope_area(user, site.area, "police", "coordinator", "volunteer")
    ),
    "hazard.fix": lambda user, hazard: (
        _fixes_hazard(user, hazard) or _polices_site(user, hazard.site)
    ),
    "hazard.close": lambda user, hazard: _inspects_site(user, hazard.site),
    "hazard.reopen": lambda user, hazard: _inspects_site(user, hazard.site),
    # star assessments
    "assessment.submit": lambda user, site: _runs_site(user, site) or is_admin(user),
    "assessment.decide": lambda user, assessment: _polices_site(user, assessment.site),
}


def can(user: Any, action: str, obj: Any = None) -> bool:
    """True when `user` may perform `action` (on `obj`). Unknown actions are refused."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    rule = _RULES.get(action)
    if rule is None:
        raise KeyError(f"no permission rule for action {action!r}")
    return bool(rule(user, obj))
