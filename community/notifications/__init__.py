"""Notifications: the header bell, the list of one's notices (/notifications/), and
the outbox that carries notices to an SMS or e-mail sender (one per notice, or a
daily digest). The notices themselves are written by the features through
core.notify; reminders through core.reminders."""

from flask import Blueprint

from community.accounts.auth import PASSIVE_ENDPOINTS

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
PASSIVE_ENDPOINTS.add("notifications.bell")

from community.notifications import commands, jobs, permissions, views  # noqa: E402,F401
