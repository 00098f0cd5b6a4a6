"""Does a page's cost grow with rows it does not show? Each page's time at two data
sizes (2,000 and 50,000 generated sites by default) and their ratio.

In-process (the Flask test client, no server, no network), so the figures measure
the app alone: the median of N requests per page, logged in as the demo police
liaison, whose area holds half the generated sites (or as the demo account
bench_pages.PAGE_ACCOUNTS names for the page). Pages showing the same rows
at both sizes should stay under a ratio of 1.3; the site search is the expected
exception (its matches grow with the data). Figures, not assertions.

    .venv/bin/python tests/bench/bench_growth.py [--small 2000] [--large 50000] [--requests 60]
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/community_bench ...
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_pages as bench  # noqa: E402

from community import create_app  # noqa: E402
from community.extensions import db  # noqa: E402

LIMIT = 1.3
EXPECTED_TO_GROW = {"site list, search"}


def measure(url: str, sites: int, requests: int) -> dict[str, float]:
    demo = bench.prepare_database(url)
    app = create_app(bench.bench_config(url))
    bench.fill(app, sites, activity=True)
    accounts = {a["username"]: a for a in demo["accounts"]}
    clients = {"police": bench.login_client(app, accounts["police"])}
    ids = bench.pick_ids(app, clients["police"])
    timings: dict[str, float] = {}
    for label, path, headers in bench.PAGES:
        path = path.format(**ids)
        if not bench.route_exists(app, path):
            continue
        username = bench.page_account(label)
        if username not in clients:
            clients[username] = bench.login_client(app, accounts[username])
        client = clients[username]
        for _ in range(5):  # warm caches and compiled statements
            client.get(path, headers=headers)
        samples = []
        for _ in range(requests):
            start = time.perf_counter()
            resp = client.get(path, headers=headers)
            samples.append((time.perf_counter() - start) * 1000)
            assert resp.status_code == 200, (path, resp.status_code)
        timings[label] = statistics.median(samples)
    with app.app_context():
        db.engine.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--large", type=int, default=50000)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for size in (args.small, args.large):
            target = url or f"sqlite:///{tmp}/growth-{size}.db"
            print(f"filling {size} sites ...", file=sys.stderr)
            results[size] = measure(target, size, args.requests)
    small, large = results[args.small], results[args.large]
    print(f"| page | {args.small:,} sites (ms) | {args.large:,} sites (ms) | ratio |")
    print("| --- | ---: | ---: | ---: |")
    over = []
    for label in small:
        ratio = large[label] / small[label]
        mark = ""
        if ratio >= LIMIT and label not in EXPECTED_TO_GROW:
            mark = " ⚠"
            over.append(label)
        print(f"| {label} | {small[label]:.2f} | {large[label]:.2f} | {ratio:.2f}{mark} |")
    if over:
        print(f"\ngrowing with rows not shown (ratio >= {LIMIT}): {', '.join(over)}")


if __name__ == "__main__":
    main()
