"""Compliance of landlords and property companies: the points ledger (a line per
report, timely or late), late counts, yellow cards and the cards the rule
proposes, the compliance page /compliance/ (its routes are on the residents
blueprint), its review kind and its start-page section."""

from flask_babel import lazy_gettext as _l

from community.accounts.permissions import can
from community.core.nav import register_nav

register_nav(
    "residents.compliance",
    _l("Compliance"),
    order=27,
    visible=lambda u: can(u, "nav.compliance"),
)

from community.residents.compliance import permissions, reviews, start, views  # noqa: E402,F401
