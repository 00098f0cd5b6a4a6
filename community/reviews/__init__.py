"""The review queue: one list per user of everything waiting for their decision
(the kinds are registered by the features, see community.core.reviews), decided in
place or in bulk, with a count next to the navigation entry and on the start page."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from community.accounts.permissions import can
from community.core.nav import register_nav

bp = Blueprint("reviews", __name__, url_prefix="/reviews")

register_nav(
    "reviews.index",
    _l("Reviews"),
    order=15,
    visible=lambda u: can(u, "nav.reviews"),
    primary=10,
    badge=lambda u: _waiting(u),
)


def _waiting(user) -> int:
    from community.extensions import db
    from community.reviews.queries import COUNT_CAP, counts

    return sum(counts(db.session, user, cap=COUNT_CAP).values())


from community.reviews import figures, permissions, start, views  # noqa: E402,F401
