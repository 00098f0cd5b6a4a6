"""The audit log page (/audit/): the events in the reader's scope (administrators
all; police their areas' and their own, see permissions.visible_events), filtered,
paged and exported as CSV. Events are written by the features through
core.audit.record; nothing here (or anywhere in the app) changes or deletes one."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from community.accounts.permissions import can
from community.core.nav import register_nav

bp = Blueprint("audit", __name__, url_prefix="/audit")

register_nav("audit.index", _l("Audit log"), order=85, visible=lambda u: can(u, "audit.view"))

from community.audit import permissions, views  # noqa: E402,F401
