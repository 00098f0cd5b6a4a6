"""Access rules of star assessments: the site's landlord or company submits, the
police liaison of its area decides."""

from __future__ import annotations

from typing import Any

from community.accounts.permissions import has_role, is_admin, rule
from community.places.permissions import can_see_site, polices_site, run_sites, runs_site


@rule("assessment.view")
def _sees(user: Any, assessment: Any) -> bool:
    return can_see_site(user, assessment.site)


@rule("assessment.submit")
def _submits(user: Any, site: Any) -> bool:
    return runs_site(user, site) or is_admin(user)


@rule("assessment.decide")
def _decides(user: Any, assessment: Any) -> bool:
    return polices_site(user, assessment.site)


@rule("assessment.decide_site")
def _decides_site(user: Any, site: Any) -> bool:
    return polices_site(user, site)


@rule("nav.assessments")
def _nav(user: Any, obj: Any) -> bool:
    return has_role(
        user, "admin", "police", "coordinator", "association", "landlord", "property_manager"
    )


def default_status(user: Any) -> str:
    """Deciders land on what waits for them; everyone else sees every state."""
    return "submitted" if has_role(user, "police", "admin") else "all"


@rule("assessment.review_queue")
def _reviews(user: Any, obj: Any) -> bool:
    """Submitted assessments wait in the review queue of those who decide them."""
    return has_role(user, "police", "admin")


@rule("assessment.due_list")
def _lists_due(user: Any, obj: Any) -> bool:
    """The sites still to assess this month: those who run sites."""
    return run_sites(user) is not None
