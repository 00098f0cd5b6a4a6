"""Access rows for the outreach routes. The world's event is published in the
world's community, organised by its volunteer team (whose lead, TEAM_LEAD, manages
it as the police do; the team's other volunteers see it), held at its enterprise (so
the enterprise sees it) and starting in ten minutes (its sign-in is open); it has
no photo. A visit request of the enterprise waits. POSTs carry only the CSRF
token: closing without a hand count and declining without a reason are 422 for
those who may, cancelling is a 303. The attendees' sign-in is public; without the
phone's cookie the take-away page sends back to the sign-in (302); a quiz posted
without answers is 422 (with answers but no sign-in, 403)."""

from __future__ import annotations

from datetime import timedelta

from tests.access_rules import ANON, LOGIN, TEAM_LEAD
from tests.factories.outreach import make_event, make_request

PUBLISHERS = {"admin": 200, "police": 200, "coordinator": 200}
VIEWERS = {**PUBLISHERS, "volunteer": 200, "enterprise": 200}
SEES_NOT_MANAGES = {"volunteer": 403, "enterprise": 403}
# The lead of the event's organiser: publishes and manages the team's events; no
# coverage, corners or requests (a volunteer there).
LEADS = {TEAM_LEAD: 200}

EXPECTED = {
    "outreach.index": (
        "GET",
        {ANON: LOGIN, **VIEWERS, "property_manager": 200, "*": 403},
    ),
    "outreach.new": ("GET", {ANON: LOGIN, **PUBLISHERS, **LEADS, "*": 403}),
    "outreach.show": ("GET", {ANON: LOGIN, **VIEWERS, "*": 404}),
    "outreach.count": (
        "GET",
        {ANON: LOGIN, **PUBLISHERS, **SEES_NOT_MANAGES, **LEADS, "*": 404},
    ),
    "outreach.poster": (
        "GET",
        {ANON: LOGIN, **PUBLISHERS, **SEES_NOT_MANAGES, **LEADS, "*": 404},
    ),
    "outreach.photo": ("GET", {ANON: LOGIN, "*": 404}),
    "outreach.edit": (
        "GET",
        {ANON: LOGIN, **PUBLISHERS, **SEES_NOT_MANAGES, **LEADS, "*": 404},
    ),
    "outreach.close": (
        "POST",
        {
            ANON: LOGIN,
            "admin": 422,
            "police": 422,
            "coordinator": 422,
            **SEES_NOT_MANAGES,
            TEAM_LEAD: 422,
            "*": 404,
        },
    ),
    "outreach.cancel": (
        "POST",
        {
            ANON: LOGIN,
            "admin": 303,
            "police": 303,
            "coordinator": 303,
            **SEES_NOT_MANAGES,
            TEAM_LEAD: 303,
            "*": 404,
        },
    ),
    # Public: the attendees have no account.
    "outreach.signin": ("GET", {ANON: 200, "*": 200}),
    "outreach.done": ("GET", {ANON: 302, "*": 302}),
    "outreach.answer": ("POST", {ANON: 422, "*": 422}),
    "outreach.requests": (
        "GET",
        {ANON: LOGIN, **PUBLISHERS, "enterprise": 200, "property_manager": 200, "*": 403},
    ),
    "outreach.new_request": (
        "GET",
        {ANON: LOGIN, "enterprise": 200, "property_manager": 200, "*": 403},
    ),
    "outreach.show_request": ("GET", {ANON: LOGIN, **PUBLISHERS, "enterprise": 200, "*": 404}),
    "outreach.decline": (
        "POST",
        {ANON: LOGIN, "admin": 422, "police": 422, "coordinator": 422, "enterprise": 403, "*": 404},
    ),
    "outreach.coverage": ("GET", {ANON: LOGIN, **PUBLISHERS, "*": 403}),
    "outreach.enterprise": ("GET", {ANON: LOGIN, **PUBLISHERS, "enterprise": 200, "*": 404}),
    "outreach.corners": ("GET", {ANON: LOGIN, **PUBLISHERS, "*": 403}),
}


def world(session, ctx):
    orgs = ctx["orgs"]
    event = make_event(
        session,
        area=ctx["community"],
        organiser=orgs["volunteer_team"],
        target="enterprise",
        enterprise=orgs["enterprise"],
        starts_in=timedelta(minutes=10),
    )
    visit = make_request(session, organization=orgs["enterprise"])
    return {
        "event_id": event.id,
        "position": 1,
        "signin_token": event.signin_token,
        "request_id": visit.id,
        "enterprise_id": orgs["enterprise"].id,
        "outreach_organiser_id": orgs["police_station"].id,
    }
