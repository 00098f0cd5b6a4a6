"""Access rules of residents: who sees residences (police and coordinators of the
area, the site's landlord and property company, a dormitory's enterprise — not
volunteers or associations: this is personal data), who reports them, who decides,
who reveals the full ID number (police only) and who records a move-out."""

from __future__ import annotations

from typing import Any

from sqlalchemy import true

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
from community.places.models import Site
from community.places.permissions import at_site_in, run_sites, runs_site, site_scope

# Roles that see the residents of every site of their area subtree.
RESIDENT_AREA_ROLES = ("police", "coordinator")


def site_of(obj: Any) -> Any:
    """The site of a residence, a room or a site (rules take any of them)."""
    room = getattr(obj, "room", None)
    if room is not None:
        obj = room
    building = getattr(obj, "building", None)
    return building.site if building is not None else obj


def sees_residents(user: Any, site: Any) -> bool:
    if is_admin(user) or in_scope_area(user, site.area, *RESIDENT_AREA_ROLES):
        return True
    if runs_site(user, site):
        return True
    return site.enterprise_id is not None and site.enterprise_id in org_ids(user, "enterprise")


def polices(user: Any, site: Any) -> bool:
    """The police liaison of the site's area (not administrators: decisions and the
    full ID number belong to the police)."""
    return in_scope_area(user, site.area, "police")


rule("residence.view")(lambda user, residence: sees_residents(user, site_of(residence)))
rule("residence.view_site")(lambda user, site: sees_residents(user, site_of(site)))


@rule("residence.report")
def reports_at(user: Any, room_or_site: Any) -> bool:
    """The site's landlord or property company, or the police of its area."""
    site = site_of(room_or_site)
    return runs_site(user, site) or polices(user, site)


rule("residence.decide", "residence.reveal")(
    lambda user, residence: polices(user, site_of(residence))
)


@rule("residence.move_out")
def _moves_out(user: Any, residence: Any) -> bool:
    site = site_of(residence)
    return runs_site(user, site) or polices(user, site)


@rule("residence.resubmit")
def _resubmits(user: Any, residence: Any) -> bool:
    """Whoever reported it, while they may still report at its site."""
    return residence.reporter_id == user.id and reports_at(user, residence)


@rule("nav.residents", "residence.list")
def _lists(user: Any, obj: Any) -> bool:
    return has_role(
        user, "admin", "police", "coordinator", "landlord", "property_manager", "enterprise"
    )


@rule("residence.report_any")
def _reports_somewhere(user: Any, obj: Any) -> bool:
    """Opens the report form: landlords, property managers and the police."""
    return has_role(user, "landlord", "property_manager", "police")


@rule("residence.rooms_due")
def _runs_some_site(user: Any, obj: Any) -> bool:
    """The list of rooms whose people are not all reported: those who run sites."""
    return run_sites(user) is not None


@rule("residence.verify_many")
def _verifies_in_bulk(user: Any, obj: Any) -> bool:
    """Bulk verification (each residence is still checked with residence.decide)."""
    return is_police(user)


def channel_for(user: Any, site: Any) -> str:
    """The channel of a report by `user` at `site` (they may report there): the police
    of the area first (their report counts as verified), then the landlord, then the
    property company."""
    if polices(user, site):
        return "police"
    if has_role(user, "landlord") and site.landlord_id == user.id:
        return "landlord"
    return "property_manager"


def earning_channel(user: Any, site: Any) -> str | None:
    """The channel through which a report by `user` at `site` counts in the points
    ledger: as the site's landlord or property company (channel_for) when the user
    runs the site; None for anyone else (the police, an enterprise, an
    administrator loading data, a self-declaration), whose reports earn nothing."""
    if user is None or not runs_site(user, site):
        return None
    return channel_for(user, site)


def is_police(user: Any) -> bool:
    return has_role(user, "police")


def opens_on_pending(user: Any) -> bool:
    """The resident list opens on the queue of pending reports, oldest first, for
    the police (everyone else sees every status)."""
    return is_police(user)


def polices_in(user: Any, area_id_column) -> Any:
    """SQL condition on an area id: `polices` for rows (the review queue) — the
    police of the area, not administrators (decisions belong to the police)."""
    return in_areas(user, area_id_column, "police")


def _scope(user: Any, *, report: bool = False) -> Any:
    """SQL condition on Site: the sites whose residents the user sees (report=True:
    where the user may report)."""
    roles = ("police",) if report else RESIDENT_AREA_ROLES
    return site_scope(user, roles, associations=False, enterprises=not report)


def reportable_sites(user: Any) -> Any:
    """SQL condition on Site: where the user may report a residence."""
    return _scope(user, report=True)


def at_resident_site(user: Any, site_id_column) -> Any:
    """SQL condition for rows joined to a site id (residence -> room -> building):
    the user sees the residents of that site (see places.permissions.at_site_in)."""
    if is_admin(user):
        return true()
    return at_site_in(user, site_id_column, _scope(user), RESIDENT_AREA_ROLES)


def employs_at(user: Any, site: Any) -> bool:
    """The enterprise whose dormitory this site is (reports its employees in bulk)."""
    return site.enterprise_id is not None and site.enterprise_id in org_ids(user, "enterprise")


# Roles that look after whole communities and see their registration rates.
RATE_AREA_ROLES = ("police", "coordinator", "association")


def rate_areas(user: Any, path_column) -> Any:
    """SQL condition on an Area path column: the area lies where the user sees
    registration rates (aggregates, no personal data) — the police's and
    coordinators' areas, an association's community; administrators everywhere."""
    if is_admin(user):
        return true()
    return area_subtree_filter(path_column, scope_areas(user, *RATE_AREA_ROLES))


def sees_community_rates(user: Any) -> bool:
    """The start page shows an association its community's registration rate (the
    police and coordinators read them on /compliance/)."""
    return has_role(user, "association")


def enterprise_sites(user: Any) -> Any | None:
    """SQL condition on Site: the dormitories of the user's enterprises; None for a
    user of no enterprise."""
    ids = org_ids(user, "enterprise")
    return Site.enterprise_id.in_(ids) if ids else None
