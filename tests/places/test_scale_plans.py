"""PostgreSQL at district scale: 50,000 sites in 20 communities, a police liaison
covering the 25,000 of one street. The site list and the due list read their page
in order from the indexes (each area's first rows, merged), not by sorting every
site of the scope; the search reads what the text index finds, not names in order.

Each list runs for real; its statements are captured and run again under EXPLAIN
ANALYZE, and the rows read from `site` (over every plan node on the table, loops
included) are summed: a page costs what it shows (hundreds of rows), whatever the
scope holds (25,000). Counting statements are left out (the due list counts its
parts from the index). PostgreSQL only: SQLite walks one index in order with the
scope as a filter (tests/test_query_plans.py)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from community.core.rollups import rebuild
from community.core.timeutil import today
from community.inspections import queries as inspections
from community.places import queries as places
from community.places.models import Site
from community.places.queries import SiteFilters
from community.places.stored import refresh_stored
from tests.dbutil import statements_sent
from tests.factories.accounts import make_area, make_org, make_role_user

SITES = 50_000
COMMUNITIES = 20
# A page of 25 from each of the street's ten areas, and the rows loaded by id: far
# below the street's 25,000 sites, far above what one page reads.
PAGE_BUDGET = 1_000
# A search reads the candidates of the trigram index (every name holding the
# query's trigrams, a superset of the matches) and re-checks them: about a
# thousand rows here, against the street's 25,000 walked in name order.
SEARCH_BUDGET = 2_500


@pytest.fixture
def district(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL plans (SQLite: tests/test_query_plans.py)")
    root = make_area(session, name="Scale district", level="district")
    streets = [
        make_area(session, name=f"Scale street {n}", level="street", parent=root) for n in (1, 2)
    ]
    communities = [
        make_area(session, name=f"Scale community {n}", level="community", parent=streets[n % 2])
        for n in range(COMMUNITIES)
    ]
    police = make_role_user(session, "police", org=make_org(session, area=streets[0]))
    day = today()
    rows = []
    for i in range(SITES):
        # Ten never inspected; the others inspected over the last 400 days, every
        # one not admitted (due 14 days after): about half are due.
        inspected = None if i % 5_000 == 0 else day - timedelta(days=i % 400)
        rows.append(
            {
                "name": f"scale-site-{i:06d}",
                "kind": "rental_house",
                "area_id": communities[i % COMMUNITIES].id,
                "address": f"{i} Scale Road",
                "qr_token": f"scale-{i:08d}",
                "last_inspected_on": inspected,
                "stars": (i % 5) + 1 if i % 3 else None,
            }
        )
    session.execute(Site.__table__.insert(), rows)
    refresh_stored(session)
    rebuild(session)
    # Every table the lists read, so the plans do not depend on what earlier tests
    # left in the statistics.
    for table in ("site", "rollup_month", "area", "membership", "organization"):
        session.execute(text(f"ANALYZE {table}"))
    return police


def _rows_read_from_site(session, call) -> tuple[int, list[str]]:
    def keep(statement):
        head = statement.lstrip().upper()
        return "FROM SITE" in head and not head.startswith("SELECT COUNT(")

    statements = statements_sent(session, call, keep)
    assert statements
    conn = session.connection()
    total, plans = 0, []
    for statement, parameters in statements:
        explain = "EXPLAIN (ANALYZE, FORMAT JSON) " + statement
        plan = conn.exec_driver_sql(explain, parameters).scalar()
        plan = plan if isinstance(plan, list) else json.loads(plan)
        total += _site_rows(plan[0]["Plan"])
        plans.append(json.dumps(plan[0]["Plan"]))
    return total, plans


def _site_rows(node: dict) -> int:
    rows = 0
    if node.get("Relation Name") == "site":
        rows += int(node.get("Actual Rows", 0)) * int(node.get("Actual Loops", 1))
        rows += int(node.get("Rows Removed by Filter", 0)) * int(node.get("Actual Loops", 1))
    return rows + sum(_site_rows(child) for child in node.get("Plans", []))


def test_lists_of_a_street_read_their_page_in_index_order(session, district):
    """One filling of 50,000 sites (a minute), every list checked on it."""
    _site_list_reads_one_page(session, district)
    _later_page_reads_in_order(session, district)
    _search_reads_the_matches(session, district)
    _due_list_reads_one_page(session, district)


def _site_list_reads_one_page(session, police):
    page = None

    def call():
        nonlocal page
        page = places.list_sites(session, police, SiteFilters())

    read, plans = _rows_read_from_site(session, call)
    assert page.total == SITES // 2
    names = [s.name for s in page.items]
    assert names == sorted(names) and len(names) == 25
    assert read < PAGE_BUDGET, plans


def _later_page_reads_in_order(session, police):
    first = places.list_sites(session, police, SiteFilters())
    third = None

    def call():
        nonlocal third
        third = places.list_sites(session, police, SiteFilters(page=3))

    read, plans = _rows_read_from_site(session, call)
    assert third.items[0].name > first.items[-1].name
    assert read < PAGE_BUDGET * 3, plans


def _search_reads_the_matches(session, police):
    page = None

    def call():
        nonlocal page
        page = places.list_sites(session, police, SiteFilters(q="site-0250"))  # 50 in the street

    read, plans = _rows_read_from_site(session, call)
    assert page.total == 50
    assert all("site-0250" in s.name for s in page.items)
    assert read < SEARCH_BUDGET, plans
    assert not any("ix_site_area_name" in p for p in plans), plans


def _due_list_reads_one_page(session, police):
    page = None

    def call():
        nonlocal page
        page = inspections.list_due(session, police)

    read, plans = _rows_read_from_site(session, call)
    never = [r for r in page.items if r.due_on is None]
    assert len(never) == 10  # the never-inspected sites first (all in the street)
    dues = [r.due_on for r in page.items[10:]]
    assert dues == sorted(dues) and len(dues) == 15
    assert page.total > SITES // 5
    assert read < PAGE_BUDGET, plans
