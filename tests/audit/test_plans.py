"""Each audit filter is served by its index (the page costs what it shows)."""

from __future__ import annotations

from datetime import date

import pytest

from community.audit import queries
from community.core import audit
from tests.factories.accounts import make_role_user, make_user
from tests.test_query_plans import _captured, _plans

FILTERS = {
    "user": (lambda u: queries.Filters(username=u.username), "ix_audit_event_actor_id"),
    "object": (
        lambda u: queries.Filters(object_type="user", object_id=u.id),
        "ix_audit_event_object",
    ),
    "action": (lambda u: queries.Filters(action="probe"), "ix_audit_event_action"),
    "dates": (
        lambda u: queries.Filters(date_from=date(2026, 1, 1), date_to=date(2026, 1, 2)),
        "ix_audit_event_at",
    ),
}


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_audit_filter_uses_its_index(session, name):
    user = make_user(session)
    for _ in range(3):
        audit.record(session, user, "probe", user)
    session.flush()
    make, index = FILTERS[name]
    admin = make_role_user(session, "admin")
    statements = _captured(
        session, lambda: queries.list_events(session, admin, make(user), before=10**6)
    )
    plan = _plans(session, statements)[-1]
    assert index in plan, plan
