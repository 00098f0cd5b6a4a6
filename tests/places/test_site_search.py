"""Site search: the index path (SQLite FTS5 trigram, PostgreSQL pg_trgm) finds exactly
what LIKE finds, stays in step with the site table, and does not scan it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from community.places.models import Site
from community.places.permissions import visible_sites
from community.places.queries import SiteFilters, site_text_match
from tests.factories.accounts import make_role_user
from tests.factories.places import make_site

NAMES = [
    ("东村青年公寓", "东村路12号"),
    ("西村青年公寓二期", "西村大道3-5号"),
    ("河边出租屋", "河边路100号"),
    ("Sunrise Apartments", "88 Harbour Road"),
    ("SUNRISE annex", "88-1 harbour road"),
    ('The "Quoted" House', "1 O'Brien Lane"),
    ("100% Rental", "5_7 Under_score St"),
    ("Slash/Back\\slash 楼", "路/号"),
    ("Café Été", "ÉCOLE 路"),
    ("全角ＡＢＣ公寓", "ａｂｃ街"),
]

QUERIES = [
    # Chinese, 3+ characters (index) and 1-2 characters (LIKE)
    "青年公",
    "东村青年公寓",
    "出租屋",
    "公寓",
    "村",
    "路12号",
    # Latin, any case
    "sunrise",
    "SUNRISE AP",
    "harbour road",
    "Rd",
    # digits
    "100",
    "88",
    "3-5",
    # quotes, LIKE wildcards, escapes
    '"Quoted"',
    '"',
    'd" Ho',
    "O'Brien",
    "'",
    "100%",
    "%",
    "% R",
    "5_7",
    "_",
    "r_s",
    "/Back",
    "\\slash",
    # case folding beyond ASCII (LIKE folds ASCII only; so must the index path)
    "café",
    "CAFÉ",
    "été",
    "école",
    "ａｂｃ",
    "ＡＢＣ",
    # nothing
    "不存在的",
    "zzz",
]


@pytest.fixture
def sites(session, world):
    made = [make_site(session, area=world.east, name=n, address=a) for n, a in NAMES]
    session.commit()
    return made


def _dialect(session) -> str:
    return session.get_bind().dialect.name


def _ids(session, condition) -> list[int]:
    return list(session.scalars(select(Site.id).where(condition).order_by(Site.id)))


@pytest.mark.parametrize("q", QUERIES)
def test_index_search_finds_exactly_what_like_finds(session, sites, q):
    indexed = _ids(session, site_text_match(q, _dialect(session)))
    scanned = _ids(session, site_text_match(q, "like"))  # any other dialect: LIKE
    assert indexed == scanned


def test_search_finds_chinese_substrings_of_names_and_addresses(session, sites):
    by_name = {s.id: s.name for s in sites}
    found = _ids(session, site_text_match("青年公", _dialect(session)))
    assert sorted(by_name[i] for i in found) == ["东村青年公寓", "西村青年公寓二期"]
    found = _ids(session, site_text_match("河边路", _dialect(session)))
    assert [by_name[i] for i in found] == ["河边出租屋"]


def test_search_follows_renames_and_deletes(session, sites):
    site = sites[2]
    dialect = _dialect(session)
    site.name = "柳树湾新居"
    session.commit()
    assert _ids(session, site_text_match("柳树湾", dialect)) == [site.id]
    assert _ids(session, site_text_match("河边出租", dialect)) == []
    session.delete(site)
    session.commit()
    assert _ids(session, site_text_match("柳树湾", dialect)) == []


def test_site_list_search_through_the_page(client, login_as, session, world):
    login_as("police", org=world.police_station)
    for name, address in NAMES:
        make_site(session, area=world.east, name=name, address=address)
    session.commit()
    html = client.get("/sites/?q=青年公").get_data(as_text=True)
    assert "东村青年公寓" in html and "西村青年公寓二期" in html
    assert "河边出租屋" not in html


def _list_statement(session, world, q: str):
    police = make_role_user(session, "police", org=world.police_station)
    session.commit()
    return SiteFilters(q=q).apply(visible_sites(police)).order_by(Site.name, Site.id).limit(25)


def _literal_sql(session, stmt) -> str:
    return str(
        stmt.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    )


def test_search_of_three_characters_does_not_scan_sites(session, sites, world):
    stmt = _list_statement(session, world, "青年公寓")
    sql = _literal_sql(session, stmt)
    if _dialect(session) == "sqlite":
        plan = "\n".join(
            row[-1] for row in session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql)
        )
        assert "site_fts VIRTUAL TABLE" in plan, plan
        assert "SEARCH site USING INTEGER PRIMARY KEY" in plan, plan
        assert not re.search(r"SCAN site\b", plan), plan
    else:
        # PostgreSQL costs plans from statistics: on a handful of test rows the
        # scoped list rightly walks ix_site_area_name. What must hold is that the
        # search itself can use the trigram indexes instead of reading the table.
        sql = _literal_sql(
            session, select(Site.id).where(site_text_match("青年公寓", "postgresql"))
        )
        session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            row[0]
            for row in session.connection().exec_driver_sql("EXPLAIN " + sql.replace("%", "%%"))
        )
        assert "Bitmap Index Scan on ix_site_name_trgm" in plan, plan
        assert "Bitmap Index Scan on ix_site_address_trgm" in plan, plan
        assert not re.search(r"Seq Scan on site\b", plan), plan


def test_short_search_uses_like(session, world):
    stmt = SiteFilters(q="公寓").apply(select(Site))
    sql = _literal_sql(session, stmt).lower()
    assert "site_fts" not in sql
    assert "like '%" in sql
