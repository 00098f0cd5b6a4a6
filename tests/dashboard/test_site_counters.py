"""The dashboard's stars, admission and 双无 groups come from the area counters
(places.stored): equal to the rules applied to every site, whatever happened; the
same statements at two sizes, none of them reading the site table; 双无 turns on
the day its stored first day comes, without any write."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from community.core.figures import build_figure
from community.core.rollups import rebuild
from community.core.timeutil import today
from community.dashboard import queries
from community.inspections import services as admission
from community.places.figures import site_counts
from community.places.models import Site
from community.places.queries import is_shuangwu
from community.places.stored import refresh_stored
from tests.dbutil import statements_sent
from tests.factories.places import make_site


def _computed(session, area_ids, day) -> dict[str, int]:
    """The groups by the rules, site by site."""
    counts = Counter()
    for site in session.scalars(select(Site).where(Site.area_id.in_(area_ids))):
        counts["total"] += 1
        counts["admitted"] += site.admitted_on is not None
        counts["shuangwu"] += is_shuangwu(site, day)
        counts[str(site.stars) if site.stars else "unrated"] += 1
    return {k: v for k, v in counts.items() if v}


def _shown(session, user, area, day=None) -> dict[str, int]:
    ctx = queries.context(session, user, area, today=day)
    return {k: v for k, v in site_counts(ctx).items() if v}


def _statements(session, call) -> list[str]:
    sent = statements_sent(session, call, lambda st: st.lstrip().upper().startswith("SELECT"))
    return [statement for statement, _ in sent]


def _bulk(session, world, n):
    session.execute(
        Site.__table__.insert(),
        [
            {
                "name": f"bulk-{i}",
                "kind": "rental_house",
                "area_id": (world.c1 if i % 2 else world.c2).id,
                "address": "x",
                "qr_token": f"bulk-{i}",
                "stars": (i % 5) + 1 if i % 3 else None,
                "admitted_on": today() - timedelta(days=i) if i % 4 else None,
                "last_incident_on": today() - timedelta(days=3 * i) if i % 7 == 0 else None,
            }
            for i in range(n)
        ],
    )
    refresh_stored(session)
    rebuild(session)


def test_site_groups_equal_the_rules_after_changes(session, world):
    area_ids = [world.c1.id, world.c2.id]
    assert _shown(session, world.police, world.d) == _computed(session, area_ids, today())
    site_a = session.get(Site, world.site_a.id)
    admission.record_incident(
        session, world.police, site_a, kind="crime", occurred_on=today(), note="theft"
    )
    admission.start_inspection(session, world.police, world.site_b)
    make_site(session, area=world.c2, stars=2, admitted_on=today())
    _bulk(session, world, 60)
    make_site(session, area=world.c1, stars=4)
    assert _shown(session, world.police, world.d) == _computed(session, area_ids, today())


def test_shuangwu_counts_from_its_first_day_without_a_write(session, world):
    site = make_site(session, area=world.c1)
    first = site.shuangwu_on
    before = _shown(session, world.police, world.d, first - timedelta(days=1))
    on_the_day = _shown(session, world.police, world.d, first)
    assert on_the_day["shuangwu"] > before.get("shuangwu", 0)
    area_ids = [world.c1.id, world.c2.id]
    assert before == _computed(session, area_ids, first - timedelta(days=1))
    assert on_the_day == _computed(session, area_ids, first)


def test_same_statements_at_two_sizes_and_none_reads_sites(session, world):
    def run():
        ctx = queries.context(session, world.police, world.d)
        queries.children(ctx)
        build_figure(ctx, "stars")
        build_figure(ctx, "admission")

    run()  # the area and the user loaded
    small = _statements(session, run)
    _bulk(session, world, 300)
    run()
    large = _statements(session, run)
    assert len(small) == len(large) == 3  # subtree areas, counters by area, site counters
    for statement in large:
        assert "FROM site" not in statement and "JOIN site" not in statement, statement
