"""Access rows for the star assessment routes.

world() puts a submitted assessment of the previous month on ctx["site"] (the
places module's site): its landlord is the requesting landlord, its company the
world's property company, its association the world's landlord association.
"""

from __future__ import annotations

from tests.access_rules import ANON, LOGIN
from tests.factories.assessments import make_assessment

# Visible without the right to act: police/coordinator/volunteer (area),
# association (member site). The enterprise does not see the site.
_SUBMITTERS = {
    "admin": 303,
    "landlord": 303,
    "property_manager": 303,
    "enterprise": 404,
    "mediator": 404,
}

EXPECTED = {
    "assessments.index": ("GET", {ANON: LOGIN, "*": 200}),
    "assessments.due": (
        "GET",
        {ANON: LOGIN, "landlord": 200, "property_manager": 200, "*": 403},
    ),
    # Start without a month = the previous month, which exists: 303 to it.
    # Last month is assessed already, so a bare POST (no month) has nothing to start: 422.
    "assessments.new": (
        "POST",
        {
            ANON: LOGIN,
            **{w: 422 for w, s in _SUBMITTERS.items() if s == 303},
            "enterprise": 404,
            "mediator": 404,
            "*": 403,
        },
    ),
    "assessments.show": ("GET", {ANON: LOGIN, "enterprise": 404, "mediator": 404, "*": 200}),
    # Submitting the submitted assessment again changes nothing: 303.
    "assessments.submit": ("POST", {ANON: LOGIN, **_SUBMITTERS, "*": 403}),
    # The police of the area (and admins) may decide: an empty decision is 422.
    "assessments.decide": (
        "POST",
        {ANON: LOGIN, "admin": 422, "police": 422, "enterprise": 404, "mediator": 404, "*": 403},
    ),
}


def world(session, ctx):
    from community.assessments.criteria import add_months
    from community.core.timeutil import today

    assessment = make_assessment(
        session, site=ctx["site"], month=add_months(today(), -1), status="submitted"
    )
    return {"assessment_id": assessment.id}
