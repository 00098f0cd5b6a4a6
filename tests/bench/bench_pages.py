"""Page benchmark: requests per second, latency and SQL statements per page.

Runs the app in-process (Flask test client, no network) on a scratch database
filled with the demo data plus N generated sites, each with a building and
rooms, then requests each page repeatedly as the demo police liaison.

    .venv/bin/python tests/bench/bench_pages.py [--sites 5000] [--requests 200]
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/community_bench ... (optional)

Prints one line per page. Figures, not assertions: compare runs on one machine.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import flask_migrate  # noqa: E402
from sqlalchemy import event, insert, select, text  # noqa: E402

from community import create_app  # noqa: E402
from community.config import TestConfig  # noqa: E402
from community.extensions import db  # noqa: E402


def build_app(url: str):
    cfg = type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    return create_app(cfg)


def fill(app, sites: int) -> dict:
    from community.places.models import Building, Room, Site
    from community.seed import seed

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        flask_migrate.upgrade()
        result = seed(db.session)
        db.session.commit()
        community_ids = list(
            db.session.scalars(text("SELECT id FROM area WHERE level = 'community'"))
        )
        landlord_id = db.session.scalar(text("SELECT id FROM \"user\" WHERE username='landlord'"))
        kinds = ["rental_apartment", "rental_house", "compound", "dormitory"]
        start = time.perf_counter()
        rows = [
            {
                "name": f"测试出租屋{i:06d}",
                "kind": kinds[i % 4],
                "area_id": community_ids[i % len(community_ids)],
                "address": f"示范路{i}号",
                "landlord_id": landlord_id if i % 10 == 0 else None,
                "qr_token": f"bench-{i:08d}",
                "stars": (i % 5) + 1 if i % 3 else None,
            }
            for i in range(sites)
        ]
        for chunk in range(0, len(rows), 5000):
            db.session.execute(insert(Site), rows[chunk : chunk + 5000])
        site_ids = list(db.session.scalars(select(Site.id).where(Site.qr_token.like("bench-%"))))
        db.session.execute(insert(Building), [{"site_id": s, "name": "1幢"} for s in site_ids])
        building_ids = list(
            db.session.scalars(select(Building.id).where(Building.site_id.in_(site_ids)))
        )
        db.session.execute(
            insert(Room),
            [
                {"building_id": b, "number": f"{r:03d}", "beds": 2, "occupants": 1}
                for b in building_ids
                for r in (101, 102, 201)
            ],
        )
        db.session.commit()
        print(
            f"filled {sites} sites, {len(building_ids)} buildings in "
            f"{time.perf_counter() - start:.1f} s"
        )
        police = next(a for a in result["accounts"] if a["role"] == "police")
        return {
            "police": police,
            "site_id": site_ids[len(site_ids) // 2],
            "token": f"bench-{len(site_ids) // 2:08d}",
            "building_id": building_ids[0],
        }


def login(client, account) -> None:
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    resp = client.post(
        "/login",
        data={
            "username": account["username"],
            "password": account["password"],
            "csrf_token": token,
        },
    )
    assert resp.status_code == 303, resp.status_code


def measure(app, client, url: str, n: int, headers=None) -> tuple[float, float, float, int, int]:
    with app.app_context():
        engine = db.engine
    counter = {"n": 0}

    def count(*args, **kwargs):
        counter["n"] += 1

    resp = client.get(url, headers=headers)  # warm up
    status = resp.status_code
    event.listen(engine, "before_cursor_execute", count)
    times = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            client.get(url, headers=headers).close()
            times.append(time.perf_counter() - t0)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    total = sum(times)
    p95 = sorted(times)[int(len(times) * 0.95) - 1]
    return n / total, statistics.mean(times) * 1000, p95 * 1000, counter["n"] // n, status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL") or (
        f"sqlite:///{tempfile.mkdtemp(prefix='community-bench-')}/bench.db"
    )
    app = build_app(url)
    ids = fill(app, args.sites)
    client = app.test_client()
    login(client, ids["police"])
    pages = [
        ("healthz", "/healthz", None),
        ("home", "/", None),
        ("site list", "/sites/", None),
        ("site list, search", "/sites/?q=00012", None),
        ("site list, filters (htmx)", "/sites/?stars=4&admitted=no", {"HX-Request": "true"}),
        ("site page", f"/sites/{ids['site_id']}", None),
        ("building page", f"/buildings/{ids['building_id']}", None),
        ("inspections due", "/inspections/due", None),
        ("hazards", "/hazards/", None),
        ("assessments", "/assessments/", None),
        ("public plaque", f"/plaque/{ids['token']}", None),
    ]
    print(
        f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split('://')[0]}, "
        f"{args.sites} generated sites, {args.requests} requests per page"
    )
    print(f"{'page':<28} {'status':>6} {'req/s':>8} {'mean ms':>8} {'p95 ms':>8} {'queries':>8}")
    for label, path, headers in pages:
        rps, mean, p95, queries, status = measure(app, client, path, args.requests, headers)
        print(f"{label:<28} {status:>6} {rps:>8.0f} {mean:>8.1f} {p95:>8.1f} {queries:>8}")


if __name__ == "__main__":
    main()
