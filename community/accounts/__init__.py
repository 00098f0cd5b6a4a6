"""Users, areas, organizations, memberships, login and permissions."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)
admin_bp = Blueprint("admin", __name__, url_prefix="/admin")

from community.accounts import views  # noqa: E402,F401
