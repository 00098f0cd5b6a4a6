"""Safety admission (安全标准准入): checklist inspections, the re-inspection due list,
and the incidents (crime/public-security cases, fires) behind the 双无 badge."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from community.accounts.permissions import can
from community.core.nav import register_nav

bp = Blueprint("inspections", __name__)

register_nav(
    "inspections.due",
    _l("Inspections due"),
    order=40,
    visible=lambda u: can(u, "inspection.list_due"),
)

from community.inspections import badges, panels, permissions, reviews, views  # noqa: E402,F401
