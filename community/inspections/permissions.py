"""Access rules of inspections and incidents: the police and coordinators of a
site's area inspect it; the police record incidents."""

from __future__ import annotations

from typing import Any

from community.accounts.permissions import has_role, rule
from community.places.permissions import can_see_site, inspects_site, polices_site

rule("inspection.create", "incident.view")(inspects_site)
rule("incident.create")(polices_site)


@rule("inspection.view")
def _sees_inspection(user: Any, inspection: Any) -> bool:
    return can_see_site(user, inspection.site)


@rule("inspection.record")
def _records(user: Any, inspection: Any) -> bool:
    return inspects_site(user, inspection.site)


@rule("inspection.list_due")
def _lists_due(user: Any, obj: Any) -> bool:
    return has_role(user, "admin", "police", "coordinator", "association")


@rule("inspection.review_queue")
def _reviews_due(user: Any, obj: Any) -> bool:
    """Inspections due wait in the review queue of those who inspect."""
    return has_role(user, "admin", "police", "coordinator")
