"""The scoped loaders and the main list queries use their indexes: none of them reads
the whole site table, so a page costs what it shows, whatever the number of sites.

Each function runs for real; the statements it sent are captured and explained on
the same database (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN with sequential
scans priced out, so a plan still scanning `site` has no index to use)."""

from __future__ import annotations

from datetime import date

import pytest

from community.assessments import queries as assessments
from community.extensions import db
from community.hazards import queries as hazards
from community.inspections import queries as inspections
from community.places import queries as places
from community.places.queries import SiteFilters
from community.residents import queries as residents
from community.residents.queries import ResidentFilters
from tests.dbutil import statements_sent
from tests.factories.accounts import make_area_tree, make_org, make_role_user
from tests.factories.assessments import make_assessment
from tests.factories.hazards import make_hazard
from tests.factories.inspections import make_inspection
from tests.factories.places import make_building, make_room, make_site
from tests.factories.residents import make_residence


@pytest.fixture
def world(session):
    _, street, community = make_area_tree(session)
    police = make_role_user(session, "police", org=make_org(session, area=street))
    landlord = make_role_user(session, "landlord", area=community)
    site = make_site(session, area=community, landlord=landlord)
    for _ in range(5):
        make_site(session, area=community)
    building = make_building(session, site=site)
    room = make_room(session, building=building)
    hazard = make_hazard(session, site=site, reporter=police)
    inspection = make_inspection(session, site=site, inspector=police)
    from datetime import date

    assessment = make_assessment(session, site=site, month=date(2026, 1, 1))
    residence = make_residence(
        session, room=residents.get_room(session, room.id), reporter=landlord
    )
    session.flush()
    return locals()


def _captured(session, call):
    statements = statements_sent(session, call, lambda st: st.lstrip().upper().startswith("SELECT"))
    assert statements, "the call sent no SELECT"
    return statements


def _plans(session, statements) -> list[str]:
    conn = session.connection()
    plans = []
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        for statement, parameters in statements:
            rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).all()
            plans.append("\n".join(r[0] for r in rows))
        conn.exec_driver_sql("SET LOCAL enable_seqscan = on")
    else:
        for statement, parameters in statements:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            plans.append("\n".join(r[-1] for r in rows))
    return plans


def _scans_site(plan: str) -> bool:
    lines = plan.splitlines()
    if any("Seq Scan on site " in line or line.endswith("Seq Scan on site") for line in lines):
        return True
    # "SCAN site_fts VIRTUAL TABLE INDEX ...": the search's text index, not the table.
    return any(
        line.strip() == "SCAN site" or line.strip().startswith("SCAN site ") for line in lines
    )


CALLS = {
    "get_site": lambda w, s: places.get_site(s, w["site"].id),
    "get_building": lambda w, s: places.get_building(s, w["building"].id),
    "get_room": lambda w, s: places.get_room(s, w["room"].id),
    "get_hazard": lambda w, s: hazards.get_hazard(s, w["hazard"].id),
    "get_inspection": lambda w, s: inspections.get_inspection(s, w["inspection"].id),
    "get_assessment": lambda w, s: assessments.get_assessment(s, w["assessment"].id),
    "list_rooms": lambda w, s: places.list_rooms(s, w["building"]),
    "list_buildings": lambda w, s: places.list_buildings(s, w["site"]),
    "hazards of the police": lambda w, s: hazards.list_hazards(s, w["police"]),
    "hazards of the landlord": lambda w, s: hazards.list_hazards(s, w["landlord"]),
    "assessments of the police": lambda w, s: assessments.list_assessments(s, w["police"]),
    "assessment queue": lambda w, s: assessments.list_assessments(
        s, w["police"], status="submitted"
    ),
    "sites of the landlord": lambda w, s: places.list_sites(s, w["landlord"], SiteFilters()),
    "get_residence": lambda w, s: residents.get_residence(s, w["residence"].id),
    "residence queue of the police": lambda w, s: residents.list_residences(
        s, w["police"], ResidentFilters(status="pending", oldest_first=True)
    ),
    "residences of the landlord": lambda w, s: residents.list_residences(
        s, w["landlord"], ResidentFilters()
    ),
    "residences by ID number": lambda w, s: residents.list_residences(
        s, w["police"], ResidentFilters(q="11010519491231002X")
    ),
    "building residents": lambda w, s: residents.building_residents(s, w["building"]),
    "room rates": lambda w, s: residents.room_rates(s, w["building"]),
    "building rates": lambda w, s: residents.building_rates(s, w["site"]),
    "site rates of a page": lambda w, s: residents.site_rates(s, [w["site"].id, w["room"].id]),
    "community rates": lambda w, s: residents.community_rates(s, w["police"]),
    "inspections due of the police": lambda w, s: inspections.list_due(s, w["police"]),
    "sites of the police": lambda w, s: places.list_sites(s, w["police"], SiteFilters()),
    "sites of the police, searched": lambda w, s: places.list_sites(
        s, w["police"], SiteFilters(q=w["site"].name)
    ),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_query_uses_indexes_and_never_scans_all_sites(session, world, name):
    statements = _captured(session, lambda: CALLS[name](world, session))
    for plan in _plans(session, statements):
        assert not _scans_site(plan), f"{name} scans the site table:\n{plan}"


def test_the_check_recognises_a_full_scan(session, world):
    """A query that must read every site is caught (the check is not vacuous)."""
    statements = _captured(
        session,
        lambda: db.session.execute(db.text("SELECT count(*) FROM site WHERE length(address) > 3")),
    )
    assert any(_scans_site(plan) for plan in _plans(session, statements))


def test_due_list_walks_the_range_of_due_sites(session, world):
    """The inspected part of the due list reads the range of the stored due date
    (ix_site_due: due_on, name, area_id), for its count and its page; an OR
    per cadence level made SQLite OR the admission and star indexes instead (every
    unadmitted site of the district)."""
    make_site(session, area=world["community"], last_inspected_on=date(2020, 1, 1))
    statements = _captured(session, lambda: inspections.list_due(session, world["police"]))
    due = [(st, p) for st, p in statements if "due_on <=" in st]
    assert len(due) == 2, statements  # the count and the page
    for plan in _plans(session, due):
        assert "MULTI-INDEX OR" not in plan, plan
        if session.get_bind().dialect.name == "sqlite":
            assert "INDEX ix_site_due (due_on<?)" in plan or (
                "INDEX ix_site_due (due_on>? AND due_on<?)" in plan
            ), plan


def test_default_eager_loads_never_materialise_a_nested_join():
    """Every mapped class loaded with its default eager joins reads each related row
    by its key: no nested "(site JOIN area)" under a LEFT OUTER JOIN, which SQLite
    materialises by copying the whole related table on every query (the outreach
    events list copied all 50,000 sites per request in `make bench`; the 200-ms
    police start page). Checked on an empty SQLite schema: the join's shape is the
    statement's, not the data's."""
    import importlib
    import pkgutil

    from sqlalchemy import create_engine, select

    import community

    for module in pkgutil.walk_packages(community.__path__, "community."):
        if module.name.endswith(".models"):
            importlib.import_module(module.name)
    engine = create_engine("sqlite://")
    db.metadata.create_all(engine)
    mappers = sorted(db.Model.registry.mappers, key=lambda m: m.class_.__name__)
    assert len(mappers) > 30
    materialised = {}
    with engine.connect() as conn:
        for mapper in mappers:
            sql = str(
                select(mapper.class_)
                .limit(25)
                .compile(engine, compile_kwargs={"literal_binds": True})
            )
            plan = [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
            bad = [step for step in plan if "MATERIALIZE" in step or "AUTOMATIC" in step]
            if bad:
                materialised[mapper.class_.__name__] = bad
    engine.dispose()
    assert materialised == {}
