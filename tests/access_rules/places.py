"""Access rows for the places routes, and the world every other module builds on:
ctx["site"] is a site on the community (owned by the requesting landlord when the
requester is one), managed by the property company, in the landlord association."""

from __future__ import annotations

from tests.access_rules import ANON, LOGIN
from tests.factories.accounts import make_role_user
from tests.factories.places import make_application, make_building, make_room, make_site

# Who runs the world's site (owner landlord, company manager) or polices it.
_MANAGE = {"admin", "police", "landlord", "property_manager"}
# Who sees it without running it: area roles and the association.
_SEE = {"coordinator", "volunteer", "association"}


def _rows(manage, see, other):
    row = {ANON: LOGIN, "enterprise": other, "mediator": other}
    row.update({who: manage for who in _MANAGE})
    row.update({who: see for who in _SEE})
    return row


EXPECTED = {
    "places.index": ("GET", {ANON: LOGIN, "*": 200}),
    "places.new": (
        "GET",
        {
            ANON: LOGIN,
            "admin": 200,
            "police": 200,
            "landlord": 200,
            "property_manager": 200,
            "*": 403,
        },
    ),
    "places.show": ("GET", _rows(200, 200, 404)),
    "places.status": ("GET", _rows(200, 200, 404)),
    "places.edit": ("GET", _rows(200, 403, 404)),
    # An empty building/room form is invalid input for those who may add one.
    "places.add_building": ("POST", _rows(422, 403, 404)),
    "places.building": ("GET", _rows(200, 200, 404)),
    "places.building_panels": ("GET", _rows(200, 200, 404)),
    "places.add_room": ("POST", _rows(422, 403, 404)),
    "places.edit_room": ("GET", _rows(200, 403, 404)),
    "places.poster": ("GET", _rows(200, 403, 404)),
    "places.rotate_token": ("POST", _rows(303, 403, 404)),
    "places.plaque": ("GET", {ANON: 200, "*": 200}),
    "places.associations": (
        "GET",
        {ANON: LOGIN, "admin": 200, "landlord": 200, "association": 200, "*": 403},
    ),
    # Anyone but a landlord of the community gets 404, as for an id that is no
    # association: the answer tells nothing about which ids are associations.
    "places.apply_association": ("POST", {ANON: LOGIN, "landlord": 303, "*": 404}),
    # The application belongs to another landlord: invisible to everyone but the
    # association (and admins), who must choose a decision.
    "places.decide_application": (
        "POST",
        {ANON: LOGIN, "admin": 422, "association": 422, "*": 404},
    ),
}


def world(session, ctx):
    community = ctx["community"]
    user = ctx["user"]
    owner = (
        user if ctx["who"] == "landlord" else make_role_user(session, "landlord", area=community)
    )
    site = make_site(
        session,
        area=community,
        landlord=owner,
        company=ctx["orgs"]["property_company"],
        association=ctx["orgs"]["landlord_association"],
        name="access-site",
    )
    building = make_building(session, site=site, name="1号楼")
    room = make_room(session, building=building, number="101")
    applicant = make_role_user(session, "landlord", area=community)
    application = make_application(
        session, landlord=applicant, association=ctx["orgs"]["landlord_association"]
    )
    ctx["site"] = site
    ctx["building"] = building
    ctx["room"] = room
    return {
        "site_id": site.id,
        "building_id": building.id,
        "room_id": room.id,
        "token": site.qr_token,
        "application_id": application.id,
        # Not "org_id": the accounts module sets that one to a volunteer team.
        "association_id": ctx["orgs"]["landlord_association"].id,
    }
