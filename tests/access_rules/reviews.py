"""Access rows for the review queue. The world's item is a fixed hazard at
ctx["site"] (from places.py): its closers (administrators, the police and
coordinators of the area) get 422 for a POST without a decision; those who see
the site but may not close it 403; the enterprise, who does not see it, 404."""

from __future__ import annotations

from tests.access_rules import ANON, LOGIN
from tests.factories.hazards import make_hazard

# Who has a queue: some kind is theirs (association officers: the applications).
# Mediators: the cases to accept and follow-ups due of mediation.
_REVIEWERS = {
    "admin": 200,
    "police": 200,
    "coordinator": 200,
    "association": 200,
    "mediator": 200,
}

EXPECTED = {
    "reviews.index": ("GET", {ANON: LOGIN, **_REVIEWERS, "*": 403}),
    "reviews.badge": ("GET", {ANON: LOGIN, **_REVIEWERS, "*": 403}),
    "reviews.decide": (
        "POST",
        {
            ANON: LOGIN,
            "admin": 422,
            "police": 422,
            "coordinator": 422,
            "enterprise": 404,
            "mediator": 404,
            "*": 403,
        },
    ),
    # Nothing selected: 422 for reviewers.
    "reviews.bulk": (
        "POST",
        {ANON: LOGIN, **{who: 422 for who in _REVIEWERS}, "*": 403},
    ),
}


def world(session, ctx):
    hazard = make_hazard(session, site=ctx["site"], reporter=None, status="fixed")
    return {"kind_name": "hazard", "record_id": hazard.id}
