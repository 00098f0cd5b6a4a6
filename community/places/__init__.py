"""Sites, buildings, rooms, QR tokens, posters, the public plaque and association membership."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from community.accounts.permissions import can
from community.core.nav import register_nav

bp = Blueprint("places", __name__)

register_nav("places.index", _l("Sites"), order=20, visible=lambda u: can(u, "nav.sites"))
register_nav(
    "places.associations", _l("Association"), order=60, visible=lambda u: can(u, "nav.associations")
)

from community.places import badges, permissions, reviews, rollups, start, views  # noqa: E402,F401

for _sign in (badges.admitted, badges.shuangwu, badges.site_badges):
    bp.add_app_template_global(_sign)
