"""Access rows for the hazard routes. The world's hazard is open, at ctx["site"]
(from places.py), assigned to its landlord and its property company; it has no
photo, so the photo route answers 404 even to those who may see the site (the
photo's access is tested in tests/hazards/test_views.py)."""

from __future__ import annotations

from tests.access_rules import ANON, LOGIN
from tests.factories.hazards import make_hazard

# POSTs carry only the CSRF token: a missing note/reason is 422 for whoever may act;
# closing an open hazard is a 409 conflict for whoever may close.
EXPECTED = {
    "hazards.index": ("GET", {ANON: LOGIN, "*": 200}),
    "hazards.show": ("GET", {ANON: LOGIN, "enterprise": 404, "mediator": 404, "*": 200}),
    "hazards.photo": ("GET", {ANON: LOGIN, "*": 404}),
    "hazards.fix_photo": ("GET", {ANON: LOGIN, "*": 404}),
    # The site's landlord and property company report at their own site too.
    "hazards.new": (
        "GET",
        {
            ANON: LOGIN,
            "admin": 200,
            "police": 200,
            "coordinator": 200,
            "volunteer": 200,
            "landlord": 200,
            "property_manager": 200,
            "enterprise": 404,
            "mediator": 404,
            "*": 403,
        },
    ),
    # The assign form's list of people: those who assign.
    "hazards.assignees": (
        "GET",
        {
            ANON: LOGIN,
            "admin": 200,
            "police": 200,
            "coordinator": 200,
            "enterprise": 404,
            "mediator": 404,
            "*": 403,
        },
    ),
    "hazards.fix": (
        "POST",
        {
            ANON: LOGIN,
            "admin": 422,
            "police": 422,
            "landlord": 422,
            "property_manager": 422,
            "enterprise": 404,
            "mediator": 404,
            "*": 403,
        },
    ),
    "hazards.assign": (
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
    "hazards.close": (
        "POST",
        {
            ANON: LOGIN,
            "admin": 409,
            "police": 409,
            "coordinator": 409,
            "enterprise": 404,
            "mediator": 404,
            "*": 403,
        },
    ),
    "hazards.reopen": (
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
}


def world(session, ctx):
    hazard = make_hazard(session, site=ctx["site"], reporter=None, description="access hazard")
    return {"hazard_id": hazard.id}
