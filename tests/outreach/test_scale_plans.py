"""PostgreSQL at district scale (issue 21 item 6): 20,000 sites (60,000 rooms) and
500 enterprises in 20 communities of two streets, 20,000 residences (a quarter
naming an enterprise as employer) and 4,000 events held over 500 days.

Each statement of the coverage page (district and street, any kind and one kind)
runs again under EXPLAIN ANALYZE: none reads site, room, building or residence
by a sequential scan; the sites never visited are read in order from ix_site_rooms
(a page, not the scope: rows read from site stay far below the 20,000), and the
employees of an enterprise come from the partial index alone (an index-only scan,
no residence row once vacuumed). The figures match what the tables say. PostgreSQL only:
SQLite's plans are tests/outreach/test_scale.py's."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, text

from community.core.rollups import rebuild
from community.core.timeutil import today
from community.outreach import queries
from community.places.models import Site
from community.places.stored import refresh_room_counts
from tests.dbutil import statements_sent
from tests.factories.accounts import make_area, make_org

SITES = 20_000
ENTERPRISES = 500
RESIDENCES = 20_000
EVENTS = 4_000
BIG = {"site", "room", "building", "residence"}
INDEX = "ix_residence_employer_active"
READS_OF_THE_INDEX = {"Index Only Scan", "Index Scan", "Bitmap Heap Scan", "Bitmap Index Scan"}
# A page of 20 read in room order through the areas and the visits: a few
# hundred rows of site, whatever the scope holds.
SITE_ROWS_BUDGET = 2_000


@pytest.fixture
def district(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL plans (SQLite: tests/outreach/test_scale.py)")
    root = make_area(session, name="Coverage district", level="district")
    streets = [
        make_area(session, name=f"Coverage street {n}", level="street", parent=root) for n in (1, 2)
    ]
    communities = [
        make_area(session, name=f"Coverage community {n}", level="community", parent=streets[n % 2])
        for n in range(20)
    ]
    station = make_org(session, area=root)
    areas = "ARRAY[" + ",".join(str(c.id) for c in communities) + "]"
    steps = (
        f"""INSERT INTO site (name, kind, area_id, address, qr_token, created_at)
        SELECT 'cov-site-' || g, 'rental_house', ({areas})[g % 20 + 1], 'road ' || g,
               'cov-' || g, now() FROM generate_series(1, {SITES}) g""",
        """INSERT INTO building (site_id, name, created_at)
        SELECT id, 'A', now() FROM site WHERE qr_token LIKE 'cov-%'""",
        """INSERT INTO room (building_id, number, beds, occupants)
        SELECT b.id, n::text, 4, 2 FROM building b JOIN site s ON s.id = b.site_id
        CROSS JOIN LATERAL generate_series(1, s.id % 5 + 1) n WHERE s.qr_token LIKE 'cov-%'""",
        f"""INSERT INTO organization (name, kind, area_id, created_at)
        SELECT 'cov-ent-' || g, 'enterprise', ({areas})[g % 20 + 1], now()
        FROM generate_series(1, {ENTERPRISES}) g""",
        f"""INSERT INTO person (id_number, id_hash, gender, birth_date, created_at)
        SELECT '-', 'cov:' || g, 'M', date '1990-01-01', now()
        FROM generate_series(1, {RESIDENCES}) g""",
        f"""WITH p AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM person
                       WHERE id_hash LIKE 'cov:%'),
             r AS (SELECT room.id, row_number() OVER (ORDER BY room.id) AS n FROM room
                   JOIN building ON building.id = room.building_id
                   JOIN site ON site.id = building.site_id WHERE site.qr_token LIKE 'cov-%')
        INSERT INTO residence (person_id, room_id, move_in, channel, reported_at, status,
                               reference, late, employer)
        SELECT p.id, r.id, current_date - 30, 'landlord', now(),
               CASE WHEN p.n % 10 = 0 THEN 'pending' ELSE 'verified' END, 'cov-' || p.n,
               false, CASE WHEN p.n % 4 = 0 THEN 'cov-ent-' || (p.n * 7 % {ENTERPRISES} + 1) END
        FROM p JOIN r ON r.n = p.n % (SELECT count(*) FROM r) + 1""",
        f"""INSERT INTO outreach_event (kind, title, target, area_id, enterprise_id, site_id,
               starts_at, ends_at, organiser_id, planned_audience, status, signin_token,
               created_at, signins_counted, hand_count, attendance, materials)
        SELECT (ARRAY['anti_fraud','legal','anti_drug','fire_safety'])[g % 4 + 1], 'cov',
               CASE WHEN g % 2 = 0 THEN 'enterprise' ELSE 'site' END,
               CASE WHEN g % 2 = 0 THEN o.area_id ELSE s.area_id END,
               CASE WHEN g % 2 = 0 THEN o.id END, CASE WHEN g % 2 = 1 THEN s.id END,
               now() - (g % 500) * interval '1 day',
               now() - (g % 500) * interval '1 day' + interval '1 hour',
               {station.id}, 30, 'closed', 'cov-' || g, now(), 20, 5, 25, 30
        FROM generate_series(1, {EVENTS}) g
        JOIN organization o ON o.name = 'cov-ent-' || (g * 7 % {ENTERPRISES} + 1)
        JOIN site s ON s.qr_token = 'cov-' || (g * 13 % {SITES} + 1)""",
    )
    for sql in steps:
        session.execute(text(sql))
    refresh_room_counts(session)
    rebuild(session)
    for table in ("site", "room", "building", "residence", "person", "organization"):
        session.execute(text(f"ANALYZE {table}"))
    session.execute(text("ANALYZE outreach_event"))
    session.execute(text("ANALYZE area"))
    session.execute(text("ANALYZE rollup_month"))
    return root, streets[0]


def _nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def _plans(session, call) -> list[tuple[str, dict]]:
    statements = statements_sent(session, call, lambda s: s.lstrip().upper().startswith("SELECT"))
    assert statements
    conn = session.connection()
    plans = []
    for statement, parameters in statements:
        plan = conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters
        ).scalar()
        plan = plan if isinstance(plan, list) else json.loads(plan)
        plans.append((statement, plan[0]["Plan"]))
    return plans


def _check(session, area, kind):
    result = None

    def call():
        nonlocal result
        result = queries.coverage(session, queries.area_ids_for(None, area), today(), kind)

    plans = _plans(session, call)
    assert len(plans) == 6
    for statement, plan in plans:
        for node in _nodes(plan):
            relation = node.get("Relation Name")
            assert not (relation in BIG and node["Node Type"] == "Seq Scan"), (
                statement,
                json.dumps(plan),
            )
            if relation == "residence" or node.get("Index Name", "").startswith("ix_residence"):
                # Index-only once vacuumed; a fresh table (no visibility map, as
                # here inside the test's transaction) gets a bitmap over it.
                assert node["Node Type"] in READS_OF_THE_INDEX, json.dumps(plan)
                assert node.get("Index Name", INDEX) == INDEX, json.dumps(plan)
    never_sites = next(p for s, p in plans if "FROM site" in s and "room_count" in s)
    read = sum(
        int(n.get("Actual Rows", 0) + n.get("Rows Removed by Filter", 0))
        * int(n.get("Actual Loops", 1))
        for n in _nodes(never_sites)
        if n.get("Relation Name") == "site"
    )
    assert read < SITE_ROWS_BUDGET, json.dumps(never_sites)
    assert any(n.get("Index Name") == "ix_site_rooms" for n in _nodes(never_sites))
    return result


def test_coverage_of_a_district_reads_no_big_table_in_full(session, district):
    """One filling (seconds), the district and a street, any kind and one kind."""
    root, street = district
    for area, kind in ((root, None), (root, "anti_fraud"), (street, None), (street, "legal")):
        result = _check(session, area, kind)
        assert len(result.never_sites) == 20
        rooms = [r for _i, _n, r in result.never_sites]
        assert rooms == sorted(rooms, reverse=True) and rooms[0] == 5
        staff = [e for _i, _n, e in result.never_enterprises]
        assert staff == sorted(staff, reverse=True)
    # The district's figures against the tables.
    assert result.sites_total == SITES // 2
    full = _check(session, root, "anti_fraud")
    assert full.sites_total == session.scalar(
        select(func.count()).select_from(Site).where(Site.qr_token.like("cov-%"))
    )
    assert full.enterprises_total == ENTERPRISES
    assert full.never_enterprises_count == ENTERPRISES - full.rows[0].enterprises
