"""Access rows for the safety-admission inspections, the due list and incidents."""

from __future__ import annotations

from tests.access_rules import ANON, LOGIN
from tests.factories.inspections import checklist, make_inspection

# Who sees ctx["site"]: admin, police, coordinator, volunteer (the area), association
# and property_manager (its organizations), landlord (their own); enterprise does not.
INSPECTORS = {"admin", "police", "coordinator"}
SEES_SITE = ("association", "landlord", "property_manager", "volunteer")


def _row(method, inspectors_get, others_get, *, police_only=False):
    table = {ANON: LOGIN, "enterprise": 404, "mediator": 404}
    for role in SEES_SITE:
        table[role] = others_get
    for role in INSPECTORS:
        table[role] = inspectors_get
    if police_only:
        table["coordinator"] = others_get
    return (method, table)


EXPECTED = {
    # POST with only a CSRF token: start (or continue) an inspection -> its page.
    "inspections.new": _row("POST", 303, 403),
    "inspections.show": _row("GET", 200, 200),
    # No result chosen: 422 for the inspectors.
    "inspections.record_item": _row("POST", 422, 403),
    # Nothing answered yet: 422 for the inspectors.
    "inspections.complete": _row("POST", 422, 403),
    "inspections.due": (
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
    # Police (and admin) only; empty form: 422.
    "inspections.add_incident": _row("POST", 422, 403, police_only=True),
}


def world(session, ctx):
    inspection = make_inspection(session, site=ctx["site"])
    return {"inspection_id": inspection.id, "item_id": checklist(session)[0].id}
