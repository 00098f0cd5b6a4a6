"""The places section of the start page `/` (core.start): a landlord or property
manager who runs no site yet gets 登记第一个场所 and the steps that follow it (one
query; none for users who run sites by no role)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from community.accounts.permissions import can
from community.core.start import StartSection, register_start_section
from community.places.models import Site
from community.places.permissions import run_sites
from community.places.queries import association_choices


@register_start_section
def first_site_section(session: Session, user: Any) -> StartSection | None:
    """Shown until the user's first site exists; a landlord who is no approved member
    of an association is also pointed at the association page."""
    sites = run_sites(user)
    if sites is None or not can(user, "site.create"):
        return None
    if session.scalar(select(select(Site.id).where(sites).exists())):
        return None
    join = can(user, "association.apply") and not association_choices(session, user)
    return StartSection(
        "places/_start_first_site.html",
        order=5,
        context={"join_association": join, "deadline": current_app.config["REPORT_DEADLINE_DAYS"]},
    )
