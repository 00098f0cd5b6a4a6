"""Sites, buildings, rooms, QR tokens, posters, the public plaque and association membership."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from community.accounts.permissions import can
from community.core.nav import register_nav

bp = Blueprint("places", __name__)

# Sites are in the bar of those who register them; the association page of those
# who decide its applications.
register_nav(
    "places.index",
    _l("Sites"),
    order=20,
    visible=lambda u: can(u, "nav.sites"),
    primary=22,
    primary_when=lambda u: can(u, "site.create"),
)
register_nav(
    "places.associations",
    _l("Association"),
    order=60,
    visible=lambda u: can(u, "nav.associations"),
    primary=24,
    primary_when=lambda u: can(u, "association.review_queue"),
)

from community.places import (  # noqa: E402,F401
    badges,
    figures,
    permissions,
    reviews,
    rollups,
    start,
    stored,
    views,
)

for _sign in (badges.admitted, badges.shuangwu, badges.site_badges):
    bp.add_app_template_global(_sign)
