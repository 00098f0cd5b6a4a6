"""The area dashboard: registration rate and its trend, timely and late reports,
stars, admission and 双无, open hazards, pending reviews, per area with drill-down
district > street > community, each chart with its table and a CSV download.

Figures come from the provider registry in core.figures, filled by the features
(each in its figures.py); this package reads the registry and knows none of them.
The residence counters they read are kept by core.rollups."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from community.accounts.permissions import can
from community.core.nav import register_nav

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

register_nav(
    "dashboard.index", _l("Dashboard"), order=15, visible=lambda u: can(u, "nav.dashboard")
)

from community.dashboard import permissions, start, views  # noqa: E402,F401
