"""Duty (乐巡): coordinators publish duties, volunteers claim them (never more than
the places), walk the route, report; coordinators approve and points add up."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from community.accounts.permissions import can
from community.core.nav import register_nav

bp = Blueprint("duty", __name__, url_prefix="/duties")

# In the bar of those who publish or claim duties (not of everyone who sees them).
register_nav(
    "duty.index",
    _l("Duties"),
    order=40,
    visible=lambda u: can(u, "nav.duties"),
    primary=12,
    primary_when=lambda u: can(u, "duty.create") or can(u, "nav.duties.mine"),
)
register_nav(
    "duty.mine",
    _l("My duties"),
    order=41,
    visible=lambda u: can(u, "nav.duties.mine"),
    primary=14,
)
register_nav(
    "duty.patrols",
    _l("On patrol now"),
    order=42,
    visible=lambda u: can(u, "nav.duties.patrols"),
)

from community.duty import (  # noqa: E402,F401
    badges,
    commands,
    figures,
    jobs,
    permissions,
    reminders,
    reviews,
    services,
    start,
    track_views,
    views,
)
