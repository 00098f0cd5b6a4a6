"""Access rules of places: who sees which sites (the scope every feature above
builds on), who edits them, names their landlord, manages rooms and posters, and
landlords' association membership."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, false, func, or_, select, true

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
    visible_areas,
)
from community.places.models import AssociationApplication, Site

# Roles that see every site of their area subtree.
AREA_ROLES = ("police", "coordinator", "volunteer")


def visible_sites(user: Any) -> Select:
    """Sites the user may see: admins all; police, coordinators and volunteers the
    sites of their areas; an association its members' sites; a property manager
    the company's compounds; an enterprise the dormitories registered as its own;
    a landlord their own."""
    stmt = select(Site)
    if is_admin(user):
        return stmt
    return stmt.where(_site_scope(user))


def at_site_in(user: Any, site_id_column, scope: Any, area_roles=AREA_ROLES) -> Any:
    """SQL condition for rows of another table (hazards, assessments, residences ...):
    the row's site satisfies `scope` (a condition on Site for this user).

    Whole areas (police, coordinators, volunteers) cover thousands of sites: a
    correlated EXISTS lets the database walk the listed table in its own order and
    look each row's site up by primary key, so the page costs what it lists, not the
    number of sites in scope. A landlord, company or association sees a few sites:
    their ids drive the query instead."""
    if is_admin(user):
        return true()
    if scope_areas(user, *area_roles):
        return (
            select(Site.id).where(Site.id == site_id_column, scope).correlate_except(Site).exists()
        )
    return site_id_column.in_(select(Site.id).where(scope))


def at_visible_site(user: Any, site_id_column) -> Any:
    """The row's site is one the user may see (see at_site_in)."""
    return at_site_in(user, site_id_column, _site_scope(user))


def site_scope(
    user: Any,
    area_roles: tuple[str, ...] = AREA_ROLES,
    *,
    associations: bool = True,
    enterprises: bool = True,
) -> Any:
    """SQL condition on Site: the sites of the user's areas (through `area_roles`),
    of their association and property company, their dormitories (enterprises) and
    their own (landlords). Features with a narrower audience (residents) pass fewer
    area roles or leave associations or enterprises out."""
    conditions = []
    areas = scope_areas(user, *area_roles)
    if areas:
        conditions.append(
            Site.area_id.in_(select(Area.id).where(area_subtree_filter(Area.path, areas)))
        )
    association_ids = org_ids(user, "association") if associations else set()
    if association_ids:
        conditions.append(Site.association_id.in_(association_ids))
    companies = org_ids(user, "property_manager")
    if companies:
        conditions.append(Site.company_id.in_(companies))
    enterprise_ids = org_ids(user, "enterprise") if enterprises else set()
    if enterprise_ids:
        conditions.append(Site.enterprise_id.in_(enterprise_ids))
    if has_role(user, "landlord"):
        conditions.append(Site.landlord_id == user.id)
    return or_(*conditions) if conditions else false()


def _site_scope(user: Any) -> Any:
    return site_scope(user)


def scope_area_ids(user: Any) -> Select | None:
    """SELECT of the ids of the areas whose sites are the whole of visible_sites(user)
    (administrators: every area), or None when the scope holds sites by other ties
    too (an association, a company, an enterprise, a landlord's own): lists may then
    read the scope area by area (places.queries.scoped_page). Mirrors site_scope."""
    if is_admin(user):
        return select(Area.id)
    areas = scope_areas(user, *AREA_ROLES)
    others = org_ids(user, "association", "property_manager", "enterprise")
    if not areas or others or has_role(user, "landlord"):
        return None
    return select(Area.id).where(area_subtree_filter(Area.path, areas))


def can_see_site(user: Any, site: Any) -> bool:
    if is_admin(user):
        return True
    if in_scope_area(user, site.area, *AREA_ROLES):
        return True
    if site.association_id is not None and site.association_id in org_ids(user, "association"):
        return True
    if site.company_id is not None and site.company_id in org_ids(user, "property_manager"):
        return True
    if site.enterprise_id is not None and site.enterprise_id in org_ids(user, "enterprise"):
        return True
    return has_role(user, "landlord") and site.landlord_id == user.id


def runs_site(user: Any, site: Any) -> bool:
    """The site's own landlord or a manager of its property company."""
    if has_role(user, "landlord") and site.landlord_id == user.id:
        return True
    return site.company_id is not None and site.company_id in org_ids(user, "property_manager")


def run_sites(user: Any) -> Any | None:
    """SQL condition on Site twinning runs_site: the user's own sites (landlord) and
    their property company's; None when the user runs no site by role (start-page
    sections then skip their queries)."""
    conditions = []
    if has_role(user, "landlord"):
        conditions.append(Site.landlord_id == user.id)
    companies = org_ids(user, "property_manager")
    if companies:
        conditions.append(Site.company_id.in_(companies))
    return or_(*conditions) if conditions else None


def polices_site(user: Any, site: Any) -> bool:
    return is_admin(user) or in_scope_area(user, site.area, "police")


def inspects_site(user: Any, site: Any) -> bool:
    return is_admin(user) or in_scope_area(user, site.area, "police", "coordinator")


def polices_areas(user: Any, area_id_column) -> Any:
    """SQL condition on an area id: polices_site for rows (the review queue)."""
    return true() if is_admin(user) else in_areas(user, area_id_column, "police")


def inspects_areas(user: Any, area_id_column) -> Any:
    """SQL condition on an area id: inspects_site for rows (the review queue)."""
    return true() if is_admin(user) else in_areas(user, area_id_column, "police", "coordinator")


def edits_site(user: Any, site: Any) -> bool:
    return runs_site(user, site) or polices_site(user, site)


def _decides_application(user: Any, application: Any) -> bool:
    return is_admin(user) or application.association_id in org_ids(user, "association")


def _reviews_application(user: Any, application: Any) -> bool:
    """In the review queue, the police of the association's community decide its
    applications too (the association page stays the officers')."""
    return _decides_application(user, application) or in_scope_area(
        user, application.association.area, "police"
    )


def decides_applications(user: Any, association_area_id_column) -> Any:
    """SQL condition for the review queue: applications to the user's associations
    or to an association of the user's police areas."""
    if is_admin(user):
        return true()
    return or_(
        AssociationApplication.association_id.in_(sorted(org_ids(user, "association"))),
        in_areas(user, association_area_id_column, "police"),
    )


@rule("association.review_queue")
def _reviews_applications(user: Any, obj: Any) -> bool:
    return has_role(user, "admin", "association", "police")


# --- rules -------------------------------------------------------------------------

rule("site.list", "nav.sites")(lambda user, obj: True)
rule("site.view")(can_see_site)
rule("site.edit", "site.manage_rooms", "site.poster", "site.rotate_token")(edits_site)


@rule("site.create")
def _creates_sites(user: Any, obj: Any) -> bool:
    return has_role(user, "admin", "landlord", "property_manager", "police")


@rule("site.name_landlord")
def _names_landlord(user: Any, obj: Any) -> bool:
    """Police and administrators register a site for a landlord they name."""
    return has_role(user, "admin", "police")


@rule("association.apply")
def _applies(user: Any, obj: Any) -> bool:
    return has_role(user, "landlord")


rule("association.decide")(_decides_application)
rule("association.review")(_reviews_application)


@rule("association.view_members")
def _views_members(user: Any, association: Any) -> bool:
    return is_admin(user) or (
        association is not None and association.id in org_ids(user, "association")
    )


@rule("nav.associations")
def _association_nav(user: Any, obj: Any) -> bool:
    return has_role(user, "landlord", "association")


@rule("association.page")
def _opens_associations(user: Any, obj: Any) -> bool:
    """Who /associations/ answers (landlords apply there, officers and admins
    decide): the review queue links an application there for them only."""
    return has_role(user, "admin", "landlord", "association")


# --- scopes and role-dependent choices used by the places queries and services -------


def is_manager_only(user: Any) -> bool:
    """A property manager with no other role that may own or register sites: their
    sites are theirs only through their company."""
    return has_role(user, "property_manager") and not has_role(user, "admin", "police", "landlord")


def managed_associations(user: Any):
    """SQL condition on Organization: the associations whose applications and members
    the user manages (administrators: all)."""
    from community.accounts.models import Organization

    if is_admin(user):
        return true()
    return Organization.id.in_(org_ids(user, "association"))


def registers_company_sites(user: Any) -> bool:
    """A property manager with no other role that may own or register sites: they
    register the compounds their company runs, for that company only."""
    return is_manager_only(user)


def may_assign_company(user: Any, company: Any | None) -> bool:
    """Whether a site the user saves may name `company` (None: no company) as far as
    their role goes: a manager without other roles names their own company, anyone
    else any company they are offered (the offer is checked apart)."""
    if not is_manager_only(user):
        return True
    return company is not None and company.id in org_ids(user, "property_manager")


def owner_for_new_site(user: Any) -> int | None:
    """The landlord of a site the user registers without naming one: a landlord owns
    the sites they register; anyone else registers a site with no landlord."""
    return user.id if is_landlord(user) else None


def placement_communities(user: Any) -> Select:
    """The communities (a SELECT of Area) where the user may place a site: the
    communities of their scope (a landlord: the community of their landlord
    membership; administrators: every community)."""
    return visible_areas(user).where(Area.level == "community")


def picks_member_associations(user: Any) -> bool:
    """Landlords may attach a site to the associations they are an approved member
    of (see picks_any_association for police and administrators)."""
    return is_landlord(user)


def landlord_communities(user: Any) -> list[Area]:
    """The communities of the user's landlord memberships."""
    return [a for a in scope_areas(user, "landlord") if a.level == "community"]


def may_apply_to(user: Any, association: Any) -> bool:
    """A landlord may apply to the landlord associations of their own communities."""
    return is_landlord(user) and association.area_id in {a.id for a in landlord_communities(user)}


def is_landlord(user: Any) -> bool:
    return has_role(user, "landlord")


def nameable_landlords(user: Any):
    """SQL condition on User: the landlords the user may name as a site's landlord —
    administrators any landlord; police the landlords whose landlord membership lies
    in their areas."""
    return people_in_scope(user, ("landlord",), scope_areas(user, "police"))


def people_in_scope(user: Any, roles_held: tuple[str, ...] | None, areas: list[Area]):
    """SQL condition on User: users holding one of `roles_held` (any role when None)
    through a membership in one of `areas` (administrators: anywhere)."""
    from community.accounts.models import Membership, Organization, User

    held = select(Membership.user_id)
    if roles_held:
        held = held.where(Membership.role.in_(roles_held))
    if is_admin(user):
        return User.id.in_(held)
    if not areas:
        return false()
    in_area = (
        held.outerjoin(Organization, Organization.id == Membership.organization_id)
        .join(Area, Area.id == func.coalesce(Organization.area_id, Membership.area_id))
        .where(area_subtree_filter(Area.path, areas))
    )
    return User.id.in_(in_area)


def company_scope(user: Any) -> tuple[bool, set[int], list[Area]]:
    """Which property companies the user may name: (every company?, own company ids
    only when a manager without other roles picks, the areas whose companies count)."""
    own = org_ids(user, "property_manager")
    if is_admin(user):
        return True, own, []
    if own and not has_role(user, "police", "landlord"):
        return False, own, []
    return False, own, scope_areas(user)


def enterprise_scope(user: Any) -> tuple[bool, set[int], list[Area]]:
    """Which enterprises the user may name as a dormitory's (see company_scope)."""
    return is_admin(user), set(), [] if is_admin(user) else scope_areas(user)


def picks_any_association(user: Any) -> bool:
    """Police and administrators may attach a site to the associations of their
    communities; landlords only to those they are an approved member of."""
    return is_admin(user) or has_role(user, "police")


@rule("building.view")
def _sees_building(user: Any, building: Any) -> bool:
    return can_see_site(user, building.site)


@rule("room.view")
def _sees_room(user: Any, room: Any) -> bool:
    return can_see_site(user, room.building.site)
