"""Access rows for the resident routes. The world's residence is pending in
ctx["room"] (from places.py), reported by the site's landlord. Residents are
personal data: volunteers and associations, who see the site, do not see them
(404 on a residence, 403 on the list); the enterprise does not see this site.

POSTs carry only the CSRF token: a reject without a reason, a move-out without a
date and a bulk verification without ids are 422 for whoever may act. The police
verify last (endpoint order), so the verify row is a 303."""

from __future__ import annotations

from tests.access_rules import ANON, LOGIN
from tests.factories.residents import make_residence

_NO_RESIDENTS = {"enterprise": 404, "association": 404, "volunteer": 404, "mediator": 404}


def _row(police, runners, other=403):
    row = {ANON: LOGIN, "police": police, "*": other, **_NO_RESIDENTS}
    row.update({who: runners for who in ("landlord", "property_manager")})
    return row


_IMPORT_ROLES = ("enterprise", "landlord", "property_manager", "police")
_IMPORTERS = {ANON: LOGIN, "*": 403, **{w: 200 for w in _IMPORT_ROLES}}

_LEDGER = {
    ANON: LOGIN,
    "enterprise": 404,
    "mediator": 404,
    "volunteer": 403,
    "association": 403,
    "*": 200,
}

EXPECTED = {
    "residents.index": (
        "GET",
        {ANON: LOGIN, "association": 403, "volunteer": 403, "mediator": 403, "*": 200},
    ),
    "residents.show": (
        "GET",
        {ANON: LOGIN, "admin": 200, "coordinator": 200, **_row(200, 200)},
    ),
    "residents.due": (
        "GET",
        {ANON: LOGIN, "landlord": 200, "property_manager": 200, "*": 403},
    ),
    "residents.new": (
        "GET",
        {ANON: LOGIN, "police": 200, "landlord": 200, "property_manager": 200, "*": 403},
    ),
    "residents.rooms": (
        "GET",
        {ANON: LOGIN, "police": 200, "landlord": 200, "property_manager": 200, "*": 403},
    ),
    "residents.verify": ("POST", _row(303, 403)),
    "residents.reject": ("POST", _row(422, 403)),
    "residents.reveal": ("POST", _row(200, 403)),
    "residents.move_out": ("POST", _row(422, 422)),
    # Only the reporter (the site's landlord) corrects it, and only once it was
    # sent back: the world's residence is pending, so the landlord gets 409 (the
    # form checks nothing itself: the rules refuse, here the state first).
    "residents.resubmit": (
        "POST",
        {ANON: LOGIN, "landlord": 409, "*": 403, **_NO_RESIDENTS},
    ),
    "residents.verify_many": ("POST", {ANON: LOGIN, "police": 422, "*": 403}),
    # Every GET runs before any POST (tests/test_access.py), so the site's QR address
    # is still the one printed: public, for everyone (rotation is tested in tests/places).
    "residents.declare": ("GET", {ANON: 200, "*": 200}),
    "residents.declared": ("GET", {ANON: 200, "*": 200}),
    # The import: enterprises, landlords, property managers and the police; a job is
    # seen by its uploader only (the world's job is the requesting user's, finished).
    "residents.upload": ("GET", _IMPORTERS),
    "residents.import_job": ("GET", _IMPORTERS),
    "residents.import_errors": ("GET", _IMPORTERS),
    # The template names its site in the query (?site_id=): without one it is no
    # site of theirs (404) for those who open the import page; the site's own rows
    # are in tests/residents/test_import_template.py.
    "residents.import_template": (
        "GET",
        {ANON: LOGIN, "*": 403, **{w: 404 for w in _IMPORT_ROLES}},
    ),
    # The register download: whoever sees the site's residents; volunteers and the
    # association see the building but not its residents (403).
    "residents.building_ledger": ("GET", _LEDGER),
    "residents.site_ledger": ("GET", _LEDGER),
    # Compliance: the police and coordinators of the area and administrators see
    # the page; only the police issue yellow cards (a POST without target or reason
    # is 422).
    "residents.compliance": (
        "GET",
        {
            ANON: LOGIN,
            "admin": 200,
            "police": 200,
            "coordinator": 200,
            "association": 200,
            "*": 403,
        },
    ),
    "residents.issue_card": ("POST", {ANON: LOGIN, "police": 422, "*": 403}),
}


def world(session, ctx):
    from community.accounts.models import User
    from community.residents import queries
    from community.residents.imports.models import ImportJob

    room = queries.get_room(session, ctx["room"].id)
    landlord = session.get(User, room.building.site.landlord_id)
    residence = make_residence(session, room=room, reporter=landlord)
    job = ImportJob(user_id=(ctx["user"] or landlord).id, filename="a.csv", path="-", status="done")
    session.add(job)
    session.flush()
    return {"residence_id": residence.id, "job_id": job.id, "fmt": "csv"}
