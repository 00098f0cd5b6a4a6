"""Outreach coverage benchmark (issue 21 item 6): the coverage of a district with
50,000 sites (250,000 rooms), 2,000 enterprises, a million residences (an employer
named on a tenth of them) and 20,000 events held, on PostgreSQL
(BENCH_DATABASE_URL, whose schema is emptied first). Prints the time of the SQL of
the coverage page (every statement; the median of several runs) for the district,
one street and one kind, and each statement's share. Rows are loaded with SQL,
then the stored room counts and the area counters are recomputed as after any
bulk load (refresh_room_counts, rebuild-rollups).

    .venv/bin/python tests/bench/bench_outreach_coverage.py [--residences 1000000]
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/community_bench_outreach ...

Figures, not assertions; not part of the suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402
from sqlalchemy import event, select, text  # noqa: E402

from community.accounts.models import Area  # noqa: E402
from community.core.timeutil import today  # noqa: E402
from community.extensions import db  # noqa: E402
from community.outreach import queries  # noqa: E402
from tests.bench.bench_dashboard import bench_app, prepare_database  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/community_bench_outreach"
KINDS = "ARRAY['anti_fraud','legal','anti_drug','anti_gang','fire_safety','safety_education']"


def seed(app, residences: int) -> int:
    """The district (10 streets of 10 communities), its sites (one per 20 residences),
    a building each, five rooms each, and the residences (verified, living there);
    returns the district's id."""
    from community.accounts import services as accounts

    with app.app_context():
        session = db.session
        district = accounts.create_area(session, "基准区", "district", None)
        communities = []
        for s in range(10):
            street = accounts.create_area(session, f"街道{s}", "street", district)
            for c in range(10):
                communities.append(
                    accounts.create_area(session, f"社区{s}-{c}", "community", street).id
                )
        accounts.create_organization(session, "基准派出所", "police_station", district)
        session.commit()
        district_id = district.id
    sites = max(residences // 20, 10)
    rooms = sites * 5
    areas = "ARRAY[" + ",".join(str(i) for i in communities) + "]"
    steps = [
        (
            "sites",
            f"""INSERT INTO site (id, name, kind, area_id, address, qr_token, created_at)
            SELECT g, '出租屋' || g, 'rental_house', ({areas})[g % 100 + 1], '路 ' || g,
                   'tok' || g, now() FROM generate_series(1, {sites}) g""",
        ),
        (
            "buildings",
            f"""INSERT INTO building (id, site_id, name, created_at)
            SELECT g, g, 'A', now() FROM generate_series(1, {sites}) g""",
        ),
        (
            "rooms",
            f"""INSERT INTO room (id, building_id, number, beds, occupants)
            SELECT g, (g - 1) / 5 + 1, (g % 5 + 101)::text, 6, 3
            FROM generate_series(1, {rooms}) g""",
        ),
        (
            "persons",
            f"""INSERT INTO person (id, id_number, id_hash, gender, birth_date, created_at)
            SELECT g, '-', 'bench:' || g, 'M', date '1990-01-01', now()
            FROM generate_series(1, {residences}) g""",
        ),
        (
            "residences",
            f"""INSERT INTO residence (id, person_id, room_id, move_in, channel, reported_at,
                   status, reference, late)
            SELECT g, g, (g - 1) % {rooms} + 1, current_date - 30, 'landlord', now(),
                   'verified', 'R' || g, false
            FROM generate_series(1, {residences}) g""",
        ),
    ]
    with app.app_context(), db.engine.begin() as conn:
        for label, sql in steps:
            started = time.perf_counter()
            conn.execute(text(sql))
            print(f"  {label:<11} {time.perf_counter() - started:6.1f} s", flush=True)
    return district_id


def add_outreach(app, district_id: int, events: int) -> None:
    steps = [
        (
            "enterprises",
            """INSERT INTO organization (name, kind, area_id, created_at)
            SELECT '企业' || g, 'enterprise', a.id, now()
            FROM generate_series(1, 2000) g
            JOIN LATERAL (SELECT id FROM area WHERE level = 'community'
                          ORDER BY id OFFSET g % 100 LIMIT 1) a ON true""",
        ),
        (
            "employers",
            """UPDATE residence SET employer = '企业' || (id % 2000 + 1) WHERE id % 10 = 0""",
        ),
        (
            "events",
            f"""INSERT INTO outreach_event (kind, title, target, area_id, enterprise_id, site_id,
                   starts_at, ends_at, organiser_id, planned_audience, status, signin_token,
                   created_at, signins_counted, hand_count, attendance, materials)
            SELECT ({KINDS})[g % 6 + 1], '宣传',
                   CASE WHEN g % 2 = 0 THEN 'enterprise' ELSE 'site' END,
                   CASE WHEN g % 2 = 0 THEN o.area_id ELSE s.area_id END,
                   CASE WHEN g % 2 = 0 THEN o.id END, CASE WHEN g % 2 = 1 THEN s.id END,
                   now() - (g % 500) * interval '1 day',
                   now() - (g % 500) * interval '1 day' + interval '1 hour',
                   (SELECT id FROM organization WHERE kind = 'police_station' LIMIT 1),
                   30, 'closed', 'bench' || g, now(), 20, 5, 25, 30
            FROM generate_series(1, {events}) g
            JOIN organization o ON o.name = '企业' || (g * 7 % 2000 + 1)
            JOIN site s ON s.id = g * 13 % (SELECT count(*) FROM site) + 1""",
        ),
    ]
    with app.app_context():
        with db.engine.begin() as conn:
            for label, sql in steps:
                started = time.perf_counter()
                conn.execute(text(sql))
                print(f"  {label:<11} {time.perf_counter() - started:6.1f} s", flush=True)
        # What the services keep in step, recomputed for rows loaded without them:
        # the sites' room counts and the area counters (sites of each area).
        from community.core.rollups import rebuild
        from community.places.stored import refresh_room_counts

        started = time.perf_counter()
        refresh_room_counts(db.session)
        rebuild(db.session)
        db.session.commit()
        print(f"  {'counts':<11} {time.perf_counter() - started:6.1f} s", flush=True)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def timed(app, area_id: int, kind: str | None, runs: int) -> tuple[float, int, list]:
    """Median milliseconds of the coverage page's SQL, its statements, and each
    statement's median (milliseconds, its first words)."""
    with app.app_context():
        session = db.session
        area = session.get(Area, area_id)
        count = [0]
        each: dict[int, list[float]] = {}
        texts: dict[int, str] = {}
        clock = [0.0]

        def before(*_args):
            clock[0] = time.perf_counter()

        def after(_conn, _cursor, statement, *_args):
            n = count[0] % 1000
            each.setdefault(n, []).append((time.perf_counter() - clock[0]) * 1000)
            texts[n] = " ".join(statement.split())[:70]
            count[0] += 1

        event.listen(db.engine, "before_cursor_execute", before)
        event.listen(db.engine, "after_cursor_execute", after)
        times = []
        for _ in range(runs):
            count[0] = 0
            started = time.perf_counter()
            queries.coverage(session, queries.area_ids_for(None, area), today(), kind)
            times.append((time.perf_counter() - started) * 1000)
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(db.engine, "after_cursor_execute", after)
        session.rollback()
        parts = [(statistics.median(each[n]), texts[n]) for n in sorted(each)]
        return statistics.median(times), count[0], parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residences", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    prepare_database(url)
    app = bench_app(url)
    with app.app_context():
        flask_migrate.upgrade()
    print(f"seeding {args.residences} residences ({args.residences // 20} sites) ...")
    district_id = seed(app, args.residences)
    add_outreach(app, district_id, args.events)
    with app.app_context():
        street_id = db.session.scalar(select(Area.id).where(Area.level == "street").limit(1))
        sites = db.session.scalar(text("SELECT count(*) FROM site"))
        orgs = db.session.scalar(text("SELECT count(*) FROM organization WHERE kind='enterprise'"))
    print(f"{sites} sites, {orgs} enterprises, {args.events} events held")
    for label, area_id, kind in (
        ("district, any kind", district_id, None),
        ("district, anti-fraud", district_id, "anti_fraud"),
        ("one street, any kind", street_id, None),
    ):
        ms, statements, parts = timed(app, area_id, kind, args.runs)
        print(f"  {label:<22} {ms:7.1f} ms of SQL ({statements} statements)")
        for part, statement in parts:
            print(f"      {part:6.1f} ms  {statement}")


if __name__ == "__main__":
    main()
