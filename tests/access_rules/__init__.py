"""Expected status per route and role, one module per feature.

Each module defines EXPECTED: {endpoint: (method, {who: status})} where `who`
is "anonymous", a role, or "*" (every logged-in role not listed), and may define
world(session, ctx) -> dict adding the objects its URLs point at to `ctx`
(ctx holds "community", "street", "district", "orgs" {kind: Organization},
"user" (the requesting user or None) and "who"). Status "login" means a
redirect to the login page.
"""

from __future__ import annotations

ANON = "anonymous"
LOGIN = "login"
# A volunteer leading the world's volunteer team (membership.lead): rows that do
# not name it expect what they expect of a volunteer.
TEAM_LEAD = "team_lead"


def modules():
    """The tables, places first: the modules above it use the site it puts in ctx."""
    from tests.access_rules import (
        accounts,
        assessments,
        audit,
        dashboard,
        duty,
        hazards,
        inspections,
        mediation,
        notifications,
        outreach,
        places,
        residents,
        reviews,
    )

    return [
        places,
        accounts,
        inspections,
        hazards,
        assessments,
        residents,
        duty,
        mediation,
        outreach,
        dashboard,
        notifications,
        audit,
        reviews,
    ]


def expected() -> dict:
    table: dict = {}
    for module in modules():
        for endpoint, row in module.EXPECTED.items():
            if endpoint in table:
                raise AssertionError(f"{endpoint} has rows in two access_rules modules")
            table[endpoint] = row
    return table
