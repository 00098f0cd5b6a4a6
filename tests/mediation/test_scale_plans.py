"""PostgreSQL at district scale: 100,000 mediation cases over three years in 20
communities of two streets (one team each), 5% of them open, bulk-generated in
SQL (generate_series: seconds, not the minutes of the services). The street's
police see 50,000 of them.

Each scoped list (the police of the street and of one community, a team lead, a
mediator, my cases, the searches by phone and by name) and the dashboard's
mediation figures run for real; their statements are captured and run again under
EXPLAIN ANALYZE: no plan reads `mediation_case` by a sequential scan, and the rows
read from it (every plan node on the table, loops included) stay within the
scope's open cases (a list) or the period's cases of the scope (a figure), far
below the table. PostgreSQL only: SQLite's plans are in test_plans.py."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from community.core.figures import build_figure
from community.dashboard.queries import context
from community.mediation import queries
from tests.dbutil import statements_sent
from tests.factories.accounts import make_area, make_role_user
from tests.factories.mediation import accept, make_case, mediation_world, party

CASES = 100_000
COMMUNITIES = 20
# The open cases (60 days of 1,095): 5,500 of the 100,000, 2,750 of the street's
# 50,000. A list reads at most the open backlog (the scope's rows from the
# area's index, or the open rows from the status index, whichever PostgreSQL
# prices lower), twice (its count, its page), plus the cases made by the
# services; never the table.
OPEN = CASES * 60 // 1095


def _twice(rows: int) -> int:
    return 2 * rows + 100


# Each of the figures' six aggregates reads at most the cases of the last 12
# months (a third of the table, a range of it: cases are written in time order)
# and keeps the scope's; the dashboard costs the period, not the history.
FIGURE_BUDGET = 6 * (CASES // 3)

GENERATE = """
INSERT INTO mediation_case (
    number, team_id, area_id, kind, source, summary, amount, risk, risk_rank, status,
    opened_by_id, opened_at, accept_due, accepted_at, accepted_by_id, conclude_due,
    outcome, terms, settled_amount, referral, outcome_reason, concluded_at,
    concluded_by_id, followup_due, followup_at, followup_by_id, followup_performed,
    closed_at, closed_by_id, overdue)
SELECT
    'TJS-' || i, (:teams)[1 + i % 20], (:areas)[1 + i % 20],
    (ARRAY['rent','neighbour','wages','property','traffic','family','consumer','other'])[1 + i % 8],
    'police', 'generated', 1000 + i % 9000,
    (ARRAY['low','medium','high'])[1 + i % 3], 1 + i % 3,
    (ARRAY['new','accepted','concluded','closed'])[1 + st],
    NULL, o, (o + interval '3 days')::date,
    CASE WHEN st > 0 THEN o + interval '1 day' END,
    CASE WHEN st > 0 THEN :police END,
    CASE WHEN st > 0 THEN (o + interval '31 days')::date END,
    CASE WHEN st > 1 THEN CASE WHEN agreed THEN 'agreement' ELSE 'referred' END END,
    CASE WHEN st > 1 AND agreed THEN 'terms' END,
    CASE WHEN st > 1 AND agreed THEN 500 + i % 5000 END,
    CASE WHEN st > 1 AND NOT agreed THEN 'court' END,
    NULL,
    CASE WHEN st > 1 THEN o + (2 + i % 29) * interval '1 day' END,
    CASE WHEN st > 1 THEN :police END,
    CASE WHEN st > 1 AND agreed THEN (o + (32 + i % 29) * interval '1 day')::date END,
    CASE WHEN st = 3 AND agreed THEN o + (33 + i % 29) * interval '1 day' END,
    CASE WHEN st = 3 AND agreed THEN :police END,
    CASE WHEN st = 3 AND agreed THEN true END,
    CASE WHEN st = 3 THEN o + (40 + i % 29) * interval '1 day' END,
    CASE WHEN st = 3 THEN :police END,
    false
FROM (
    -- Three years of cases, inserted in the order they were opened (as they come);
    -- st: those of the last 60 days open (0 new, 1 accepted, 2 concluded), the
    -- others closed (3); about half the concluded ones agreed.
    SELECT i,
           CASE WHEN i * 1095 / :n < 60 THEN (i / 3) % 3 ELSE 3 END AS st,
           (i / 7) % 2 = 0 AS agreed,
           CAST(:now AS timestamp) - (i * 1095 / :n) * interval '1 day'
               - (i % 9) * interval '1 hour' AS o
    FROM generate_series(:n, 1, -1) AS i
) AS g
"""

# Two parties per generated case, a lead mediator on each accepted one, and a
# name key per party: searches find a handful of generated cases per key, as the
# keyed hashes of real names would.
PARTIES = """
INSERT INTO case_party (case_id, position, role, name, phone, phone_hash)
SELECT c.id, p, (ARRAY['applicant','respondent'])[p], 'x', 'x', md5(c.number || p)
FROM mediation_case AS c CROSS JOIN generate_series(1, 2) AS p
WHERE c.number LIKE 'TJS-%'
"""
KEYS = """
INSERT INTO case_party_key (party_id, case_id, hash)
SELECT id, case_id, md5('name' || (case_id % 20000)) FROM case_party WHERE name = 'x'
"""
MEDIATORS = """
INSERT INTO case_mediator (case_id, user_id, is_lead, assigned_at)
SELECT c.id, (:mediators)[array_position(:teams, c.team_id)], true, c.accepted_at
FROM mediation_case AS c WHERE c.number LIKE 'TJS-%' AND c.accepted_at IS NOT NULL
"""


@pytest.fixture
def district(session, frozen_clock):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL plans (SQLite: test_plans.py)")
    now = frozen_clock("2026-11-20 10:00")
    root = make_area(session, name="Mediation district", level="district")
    streets = [
        make_area(session, name=f"Mediation street {n}", level="street", parent=root)
        for n in (1, 2)
    ]
    worlds = [
        mediation_world(
            session,
            area=make_area(
                session, name=f"Mediation community {n}", level="community", parent=streets[n % 2]
            ),
        )
        for n in range(COMMUNITIES)
    ]
    police = make_role_user(session, "police", area=streets[0])
    # A few cases through the services, for the searches to find.
    w = worlds[0]
    for risk in ("low", "high"):
        case = make_case(
            session,
            area=w["area"],
            opener=police,
            risk=risk,
            parties=[party("欧阳明", "13900001234"), party("李四", "13800000002", "respondent")],
        )
    accept(session, case, lead=w["lead"], mediator=w["mediator"])
    session.flush()
    session.execute(
        text(GENERATE),
        {
            "teams": [x["team"].id for x in worlds],
            "areas": [x["area"].id for x in worlds],
            "police": police.id,
            "now": now,
            "n": CASES,
        },
    )
    session.execute(text(PARTIES))
    session.execute(text(KEYS))
    session.execute(
        text(MEDIATORS),
        {"mediators": [x["mediator"].id for x in worlds], "teams": [x["team"].id for x in worlds]},
    )
    for table in (
        "mediation_case",
        "case_party",
        "case_party_key",
        "case_mediator",
        "area",
        "membership",
        "organization",
        "mediation_member",
    ):
        session.execute(text(f"ANALYZE {table}"))
    return {"police": police, "worlds": worlds, "streets": streets}


def _reads(session, call) -> tuple[int, list[str]]:
    """(rows read from mediation_case, the plans) of the SELECTs `call` sends that
    read the case table."""

    def keep(statement):
        head = statement.lstrip().upper()
        return head.startswith(("SELECT", "WITH")) and "MEDIATION_CASE" in head

    statements = statements_sent(session, call, keep)
    assert statements, "the call read no case"
    conn = session.connection()
    total, plans = 0, []
    for statement, parameters in statements:
        plan = conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters
        ).scalar()
        plan = plan if isinstance(plan, list) else json.loads(plan)
        try:
            total += _case_rows(plan[0]["Plan"])
        except AssertionError as scan:
            raise AssertionError(f"{scan}\n{statement}\n{json.dumps(plan)}") from None
        plans.append(_outline(plan[0]["Plan"]))
    return total, plans


def _outline(node: dict, depth: int = 0) -> str:
    """A plan as indented lines: node, relation, index, rows read (for messages)."""
    line = " ".join(
        str(x)
        for x in (
            "  " * depth + node["Node Type"],
            node.get("Relation Name", ""),
            node.get("Index Name", ""),
            f"rows={node.get('Actual Rows')}x{node.get('Actual Loops')}",
            f"removed={node.get('Rows Removed by Filter', 0)}",
            node.get("Index Cond", ""),
            node.get("Filter", ""),
        )
        if x != ""
    )
    return "\n".join([line] + [_outline(c, depth + 1) for c in node.get("Plans", [])])


def _case_rows(node: dict) -> int:
    rows = 0
    if node.get("Relation Name") == "mediation_case":
        if node.get("Node Type") == "Seq Scan":
            raise AssertionError(f"sequential scan of mediation_case: {json.dumps(node)}")
        loops = int(node.get("Actual Loops", 1))
        rows += (
            int(node.get("Actual Rows", 0)) + int(node.get("Rows Removed by Filter", 0))
        ) * loops
        rows += int(node.get("Rows Removed by Index Recheck", 0)) * loops
    return rows + sum(_case_rows(child) for child in node.get("Plans", []))


def test_lists_and_figures_at_100000_cases_never_scan_every_case(session, district):
    """One filling of 100,000 cases, every list and the figures checked on it."""
    police, worlds = district["police"], district["worlds"]
    community_police = make_role_user(session, "police", area=worlds[2]["area"])
    session.flush()
    lists = {
        # name: (call, most rows read from mediation_case, shown at least)
        "street police": (lambda: queries.list_cases(session, police), _twice(OPEN), 25),
        "street police, page 3": (
            lambda: queries.list_cases(session, police, page=3),
            _twice(OPEN),
            25,
        ),
        "community police": (
            lambda: queries.list_cases(session, community_police),
            _twice(OPEN),
            25,
        ),
        "team lead": (
            lambda: queries.list_cases(session, worlds[4]["lead"]),
            _twice(OPEN),
            25,
        ),
        "mediator": (
            lambda: queries.list_cases(session, worlds[4]["mediator"]),
            _twice(OPEN),
            25,
        ),
        "search by phone": (
            lambda: queries.list_cases(session, police, q="13900001234"),
            50,
            2,
        ),
        "search by name": (lambda: queries.list_cases(session, police, q="欧阳"), 50, 2),
    }
    for name, (call, budget, shown) in lists.items():
        page = None

        def run(call=call):
            nonlocal page
            page = call()

        read, plans = _reads(session, run)
        assert len(page.items) >= shown, name
        assert read <= budget, f"{name}: {read} rows\n" + "\n\n".join(plans)
        risks = [c.risk_rank for c in page.items]
        assert risks == sorted(risks, reverse=True), name

    mine = None

    def run_mine():
        nonlocal mine
        mine = queries.my_cases(session, worlds[4]["mediator"])

    read, plans = _reads(session, run_mine)
    assert mine and all(c.team_id == worlds[4]["team"].id for c in mine)
    assert read <= _twice(OPEN), f"my cases: {read} rows\n" + "\n\n".join(plans)

    ctx = context(session, police, district["streets"][0])

    def figures():
        for slug in ("mediation-cases", "mediation-teams", "mediation-mediators"):
            assert build_figure(ctx, slug) is not None, slug

    read, plans = _reads(session, figures)
    assert read <= FIGURE_BUDGET, f"figures: {read} rows\n" + "\n\n".join(plans)


def test_the_check_refuses_a_sequential_scan_of_the_cases():
    """The plan walk fails on a sequential scan of mediation_case (anywhere in the
    tree) and counts the rows read, loops and filtered rows included."""
    scan = {"Node Type": "Seq Scan", "Relation Name": "mediation_case", "Actual Rows": 1}
    with pytest.raises(AssertionError, match="sequential scan"):
        _case_rows({"Node Type": "Limit", "Plans": [{"Node Type": "Sort", "Plans": [scan]}]})
    index = {
        "Node Type": "Index Scan",
        "Relation Name": "mediation_case",
        "Actual Rows": 3,
        "Actual Loops": 2,
        "Rows Removed by Filter": 1,
    }
    assert _case_rows({"Node Type": "Limit", "Plans": [index]}) == 8
