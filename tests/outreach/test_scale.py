"""Coverage at scale (issue 21 item 6): a fixed number of SQL statements whatever
the number of enterprises, sites and events (no query per target), and the
visit lookups use the indexes on (target, kind, start). The timing at 50,000 sites
and 2,000 enterprises is measured by tests/bench/bench_outreach_coverage.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from community.core.timeutil import today
from community.outreach import queries
from tests.factories.accounts import make_area_tree, make_org
from tests.factories.outreach import make_event
from tests.factories.places import make_building, make_room, make_site
from tests.test_query_plans import _captured, _plans


@pytest.fixture
def area(session):
    return make_area_tree(session)[2]


def _grow(session, area, n: int) -> None:
    """n enterprises and n sites with a room each, half of them visited."""
    for i in range(n):
        org = make_org(session, kind="enterprise", area=area)
        site = make_site(session, area=area)
        make_room(session, building=make_building(session, site=site))
        if i % 2:
            make_event(
                session,
                area=area,
                target="enterprise",
                enterprise=org,
                starts_in=-timedelta(days=3),
                status="closed",
                attendance=10,
            )
            make_event(
                session,
                area=area,
                kind="legal",
                target="site",
                site=site,
                starts_in=-timedelta(days=4),
                status="closed",
                attendance=5,
            )


def _statements(session, count_queries, area, kind=None) -> int:
    area_ids = queries.area_ids_for(None, area)
    with count_queries() as q:
        result = queries.coverage(session, area_ids, today(), kind)
    assert result.enterprises_total > 0
    return q.count


def test_coverage_costs_the_same_statements_at_two_sizes(session, area, count_queries):
    _grow(session, area, 3)
    small = _statements(session, count_queries, area)
    _grow(session, area, 30)
    assert _statements(session, count_queries, area) == small == 6
    assert _statements(session, count_queries, area, "legal") == 6


def test_visit_lookups_use_the_target_kind_start_indexes(session, area):
    _grow(session, area, 4)
    site = make_site(session, area=area)
    org = make_org(session, kind="enterprise", area=area)
    plans = _plans(
        session,
        _captured(session, lambda: queries.last_visits(session, site_id=site.id))
        + _captured(session, lambda: queries.last_visits(session, enterprise_id=org.id)),
    )
    assert "ix_outreach_event_site_kind_starts" in plans[0], plans[0]
    assert "ix_outreach_event_enterprise_kind_starts" in plans[1], plans[1]
    area_ids = queries.area_ids_for(None, area)
    since = queries.since_of(today())
    never = _plans(
        session,
        _captured(session, lambda: queries.never_visited_sites(session, area_ids, since, "legal"))
        + _captured(
            session, lambda: queries.never_visited_enterprises(session, area_ids, since, None)
        ),
    )
    assert "ix_outreach_event_site_kind_starts" in never[0], never[0]
    assert "ix_outreach_event_enterprise_kind_starts" in never[1], never[1]
    held = _plans(
        session,
        _captured(session, lambda: queries.coverage_by_kind(session, area_ids, since)),
    )
    # The events held: found through an index (area and start on SQLite; PostgreSQL
    # may prefer another index at this size), never by reading the whole table.
    for plan in held:
        lines = [line.strip() for line in plan.splitlines()]
        assert not any(
            line.startswith("Seq Scan on outreach_event") or line == "SCAN outreach_event"
            for line in lines
        ), plan
