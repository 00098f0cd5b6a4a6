"""Access rules of compliance: who reads the compliance page (points, late
reports and yellow cards of the sites in scope), whose points the start page
shows, who issues yellow cards and who decides a proposed one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, true

from community.accounts.permissions import has_role, in_scope_area, is_admin, org_ids, rule
from community.places.permissions import at_site_in, site_scope
from community.residents.compliance.models import PointsEntry
from community.residents.permissions import is_police, polices_in


def points_targets(user: Any) -> Any | None:
    """SQL condition on PointsEntry: the ledger lines of the user as a landlord and
    of their property companies; None when the user is neither."""
    conditions = []
    if has_role(user, "landlord"):
        conditions.append(PointsEntry.user_id == user.id)
    companies = org_ids(user, "property_manager")
    if companies:
        conditions.append(PointsEntry.organization_id.in_(companies))
    return or_(*conditions) if conditions else None


@rule("nav.compliance", "compliance.view")
def _sees_compliance(user: Any, obj: Any) -> bool:
    """The compliance page (points, late reports, yellow cards of the sites in
    scope): the police and coordinators of the area, administrators, and an
    association officer, read-only, for their community (the association enforces
    its members' self-discipline, 行业自律)."""
    return has_role(user, "admin", "police", "coordinator", "association")


# Roles that read the compliance figures of every site of their area subtree: counts
# of reports, points and cards of landlords and companies, no resident's data.
COMPLIANCE_AREA_ROLES = ("police", "coordinator", "association")


def at_compliance_site(user: Any, site_id_column) -> Any:
    """SQL condition for rows joined to a site id: the site's compliance figures are
    the user's to read (compliance.view): the police's and coordinators' areas, an
    association's community; administrators everywhere."""
    if is_admin(user):
        return true()
    scope = site_scope(user, COMPLIANCE_AREA_ROLES, associations=False, enterprises=False)
    return at_site_in(user, site_id_column, scope, COMPLIANCE_AREA_ROLES)


@rule("compliance.issue_card")
def _issues_cards(user: Any, obj: Any) -> bool:
    """Yellow cards are the police's (to a landlord or company on their page)."""
    return is_police(user)


@rule("yellow_card_proposal.view", "yellow_card_proposal.decide")
def _decides_proposal(user: Any, proposal: Any) -> bool:
    """The police of the area where the threshold was reached issue or dismiss it."""
    return in_scope_area(user, proposal.area, "police")


def decides_proposals(user: Any, area_id_column) -> Any:
    """SQL condition on a proposal's area id: the police of the area (the review
    queue's rows of yellow_card_proposal.decide)."""
    return polices_in(user, area_id_column)
