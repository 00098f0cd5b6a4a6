"""Outreach (宣传): publicity events with QR sign-in, visit requests from
enterprises and property companies, coverage of every enterprise and site per
kind, and experience corners (心防体验区)."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from community.accounts.permissions import can
from community.core.nav import register_nav

bp = Blueprint("outreach", __name__, url_prefix="/outreach")

register_nav(
    "outreach.index",
    _l("Outreach"),
    order=45,
    visible=lambda u: can(u, "nav.outreach"),
    primary=40,
    primary_when=lambda u: can(u, "outreach.create"),
)
register_nav(
    "outreach.requests",
    _l("Visit requests"),
    order=46,
    visible=lambda u: can(u, "outreach.request.create") or can(u, "outreach.review_queue"),
    # After hazards (30): a property company's bar keeps sites, residents and hazards;
    # an enterprise, with two entries before it, gets its requests third.
    primary=35,
    primary_when=lambda u: can(u, "outreach.request.create") and not can(u, "outreach.create"),
)
register_nav(
    "outreach.coverage",
    _l("Outreach coverage"),
    order=47,
    visible=lambda u: can(u, "nav.outreach.coverage"),
)

from community.outreach import (  # noqa: E402,F401
    badges,
    figures,
    panels,
    permissions,
    reviews,
    services,
    signin_views,
    start,
    views,
)
