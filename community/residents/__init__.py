"""Residents: persons and their residences, reported by landlords, property
companies and the police or self-declared through the house's QR code; the
police verify them. (Export, compliance, purging and the spreadsheet import —
the `imports` sub-package — build on the services here.)"""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from community.accounts.permissions import can
from community.core.nav import register_nav

bp = Blueprint("residents", __name__)

register_nav(
    "residents.index",
    _l("Residents"),
    order=25,
    visible=lambda u: can(u, "nav.residents"),
    primary=20,
)

# compliance first: its models and ledger rule are what rollups and services build on.
from community.residents import (  # noqa: E402,F401
    badges,
    commands,
    compliance,  # noqa: E402,F401
    figures,
    imports,
    panels,
    permissions,
    reminders,
    reviews,
    rollups,
    start,
    views,
)
