"""The scoped case lists use their indexes: none of them reads the whole case table
(SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN with sequential scans priced out),
so a page costs what it shows, whatever the number of cases."""

from __future__ import annotations

import pytest

from community.mediation import queries
from tests.factories.accounts import make_role_user
from tests.factories.mediation import accept, make_case, mediation_world
from tests.test_query_plans import _captured, _plans


@pytest.fixture
def world(session):
    w = mediation_world(session)
    w["police"] = make_role_user(session, "police", area=w["area"])
    for risk in ("low", "high", "medium"):
        case = make_case(session, area=w["area"], opener=w["police"], risk=risk)
    accept(session, case, lead=w["lead"], mediator=w["mediator"])
    session.flush()
    return w


def _scans_cases(plan: str) -> bool:
    for line in plan.splitlines():
        text = line.strip()
        if "Seq Scan on mediation_case" in text:
            return True
        if text == "SCAN mediation_case" or text.startswith("SCAN mediation_case "):
            return True
    return False


CALLS = {
    "list of the police": lambda w, s: queries.list_cases(s, w["police"]),
    "list of the team lead": lambda w, s: queries.list_cases(s, w["lead"]),
    "list of a mediator": lambda w, s: queries.list_cases(s, w["mediator"]),
    "search by phone": lambda w, s: queries.list_cases(s, w["police"], q="13800000001"),
    "search by name": lambda w, s: queries.list_cases(s, w["police"], q="张"),
    "my cases": lambda w, s: queries.my_cases(s, w["mediator"]),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_case_lists_never_scan_every_case(session, world, name):
    statements = _captured(session, lambda: CALLS[name](world, session))
    for plan in _plans(session, statements):
        assert not _scans_cases(plan), f"{name} scans the case table:\n{plan}"


def test_the_check_recognises_a_full_scan(session, world):
    from community.extensions import db

    statements = _captured(
        session,
        lambda: db.session.execute(
            db.text("SELECT count(*) FROM mediation_case WHERE length(summary) > 3")
        ),
    )
    assert any(_scans_cases(plan) for plan in _plans(session, statements))
