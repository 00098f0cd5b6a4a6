"""Users, areas, organizations, memberships, login and the permission engine."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from community.accounts.permissions import can
from community.core.nav import register_nav

bp = Blueprint("accounts", __name__)
admin_bp = Blueprint("admin", __name__, url_prefix="/admin")

register_nav("accounts.home", _l("Home"), order=10, visible=lambda user: True)
register_nav("admin.areas", _l("Areas"), order=90, visible=lambda u: can(u, "nav.admin"))
register_nav("admin.orgs", _l("Organizations"), order=91, visible=lambda u: can(u, "nav.admin"))
register_nav("admin.users", _l("Users"), order=92, visible=lambda u: can(u, "nav.admin"))
register_nav("admin.jobs", _l("Jobs"), order=93, visible=lambda u: can(u, "nav.admin"))

from community.accounts import badges, commands, jobs_views, views  # noqa: E402,F401
