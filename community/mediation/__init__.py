"""Mediation (金牌调解): dispute cases from intake to agreement and follow-up, the
mediation teams' members and their rooms, sessions never double-booked."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from community.accounts.permissions import can
from community.core.nav import register_nav

bp = Blueprint("mediation", __name__, url_prefix="/mediation")

register_nav(
    "mediation.index",
    _l("Mediation"),
    order=45,
    visible=lambda u: can(u, "nav.mediation"),
)
register_nav(
    "mediation.mine",
    _l("My cases"),
    order=46,
    visible=lambda u: can(u, "nav.mediation.mine"),
    primary=15,
)
register_nav(
    "mediation.week",
    _l("Mediation sessions"),
    order=47,
    visible=lambda u: can(u, "mediation.week"),
)
register_nav(
    "mediation.rooms",
    _l("Mediation rooms and teams"),
    order=48,
    visible=lambda u: can(u, "nav.mediation.rooms"),
)

from community.mediation import (  # noqa: E402,F401
    badges,
    figures,
    jobs,
    panels,
    permissions,
    reviews,
    services,
    start,
    views,
)
