"""Hazards found at sites: report (with a cleaned photo), assignment, the
open -> fixed -> closed workflow, lists and the site-page panel."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from community.accounts.permissions import can
from community.core.nav import register_nav

bp = Blueprint("hazards", __name__)

register_nav(
    "hazards.index", _l("Hazards"), order=30, visible=lambda u: can(u, "nav.hazards"), primary=30
)

from community.hazards import badges, figures, panels, permissions, reviews, start, views  # noqa: E402,F401
