"""Monthly star assessments (日常管理星级): start, submit, decide, lists, the site's
star history chart."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from community.accounts.permissions import can
from community.core.nav import register_nav

bp = Blueprint("assessments", __name__)

register_nav(
    "assessments.index", _l("Star ratings"), order=50, visible=lambda u: can(u, "nav.assessments")
)

from community.assessments import badges, panels, permissions, reviews, start, views  # noqa: E402,F401
