"""Access rules of the spreadsheet import: who imports at a site, who opens the
import page, and the channel an imported row is recorded through."""

from __future__ import annotations

from typing import Any

from sqlalchemy import true

from community.accounts.permissions import has_role, is_admin, rule
from community.places.permissions import runs_site, site_scope
from community.residents.permissions import (
    channel_for,
    employs_at,
    polices,
    reports_at,
    site_of,
)


@rule("residence.import")
def _imports(user: Any, site: Any) -> bool:
    """Bulk import at a site: whoever may report there, the dormitory's enterprise,
    and administrators (the command line's default acting user)."""
    site = site_of(site)
    return is_admin(user) or reports_at(user, site) or employs_at(user, site)


@rule("residence.import_any")
def _imports_somewhere(user: Any, obj: Any) -> bool:
    """Opens the import page: enterprises, landlords, property managers and the police."""
    return has_role(user, "enterprise", "landlord", "property_manager", "police")


def importable_sites(user: Any) -> Any:
    """SQL condition on Site twinning residence.import: the sites the user reports at
    (their own, their property company's, their police area's) and their
    enterprise's dormitories; every site for an administrator."""
    if is_admin(user):
        return true()
    return site_scope(user, ("police",), associations=False, enterprises=True)


def import_channel(user: Any, site: Any) -> str:
    """The channel of an imported row (the user may import at `site`): as a report
    (police, landlord, property company), else the dormitory's enterprise. An
    administrator's bulk load is recorded through the site's own operator channel
    (enterprise, property company, else landlord) and stays pending."""
    if polices(user, site) or runs_site(user, site):
        return channel_for(user, site)
    if employs_at(user, site):
        return "enterprise"
    if site.enterprise_id is not None:
        return "enterprise"
    return "property_manager" if site.company_id is not None else "landlord"


def imports_in_bulk(user: Any) -> bool:
    """Enterprises report their employees by spreadsheet: their start page lists
    their uploads."""
    return has_role(user, "enterprise")
