"""Access rows for the dashboard routes. Every role's user covers the world's
community: police, coordinators and associations (and admins) see its dashboard,
the other roles have none (403). ?area= is the world's community."""

from __future__ import annotations

from tests.access_rules import ANON, LOGIN

_SEES = {
    ANON: LOGIN,
    "admin": 200,
    "police": 200,
    "coordinator": 200,
    "association": 200,
    "*": 403,
}

EXPECTED = {
    "dashboard.index": ("GET", _SEES),
    "dashboard.csv_figure": ("GET", _SEES),
}


def world(session, ctx):
    return {"figure": "registration", "area": ctx["community"].id}
