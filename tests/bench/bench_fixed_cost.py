"""The fixed cost of a logged-in page, in process CPU per request (issue 23 item 1).

A scratch SQLite database is migrated, seeded with the demo and filled with N
generated sites (bench_pages.py's helpers). Logged in with the test client, each
page is requested a few times to warm up, then `--requests` times, and
`time.process_time()` divided by the count gives its CPU per request; this is
repeated `--repeat` times and the lowest figure printed (the machine is shared:
process CPU time and the minimum of repeats are what other load disturbs least).
Beside it, the Python function calls per request (cProfile), which do not drift.

    .venv/bin/python tests/bench/bench_fixed_cost.py [--sites 2000] [--requests 200]
    .venv/bin/python tests/bench/bench_fixed_cost.py --profile notifications [--sort cumulative]

Figures, not assertions.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "bench"))

import bench_pages  # noqa: E402
from bench_pages import (  # noqa: E402
    bench_config,
    fill,
    login_client,
    pick_ids,
    prepare_database,
)

from community import create_app  # noqa: E402

# label, account role, path ({site_id} as bench_pages picks it)
PAGES = [
    ("notifications (police)", "police", "/notifications/"),
    ("start page (volunteer)", "volunteer", "/"),
    ("notifications (volunteer)", "volunteer", "/notifications/"),
    ("start page (police)", "police", "/"),
    ("site list (police)", "police", "/sites/"),
    ("site page (police)", "police", "/sites/{site_id}"),
]


def cpu_per_request(client, path: str, n: int) -> float:
    """ms of this process's CPU per request."""
    start = time.process_time()
    for _ in range(n):
        resp = client.get(path)
        assert resp.status_code == 200, (path, resp.status_code)
        resp.close()
    return (time.process_time() - start) / n * 1000


def python_calls(client, path: str, n: int = 10) -> float:
    """Python function calls per request (cProfile's count): unlike time, the same in
    every run whatever else the machine does."""
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        client.get(path).close()
    prof.disable()
    return pstats.Stats(prof).total_calls / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", default="", help="cProfile the pages whose label has this")
    parser.add_argument("--sort", default="tottime", help="pstats sort key")
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument("--dump", default="", help="write the profile's stats to this file")
    parser.add_argument(
        "--keep", default="", help="keep the database in this folder and reuse it next time"
    )
    args = parser.parse_args()

    tmpdir = args.keep or tempfile.mkdtemp(prefix="community-fixedcost-")
    url = f"sqlite:///{tmpdir}/bench.db"
    seeded_file = Path(tmpdir) / "seeded.json"
    try:
        if seeded_file.exists():
            seeded = json.loads(seeded_file.read_text())
            bench_pages.DATA_KEY = seeded["data_key"]  # the rows were encrypted with it
            app = create_app(bench_config(url))
        else:
            Path(tmpdir).mkdir(parents=True, exist_ok=True)
            seeded = prepare_database(url)
            app = create_app(bench_config(url))
            fill(app, args.sites)
            seeded_file.write_text(json.dumps({**seeded, "data_key": bench_pages.DATA_KEY}))
        accounts = {a["role"]: a for a in seeded["accounts"]}
        clients = {role: login_client(app, accounts[role]) for role in ("police", "volunteer")}
        ids = pick_ids(app, clients["police"])
        print(
            f"{args.sites} generated sites; ms of process CPU per request, "
            f"lowest of {args.repeat} runs of {args.requests}"
        )
        for label, role, path in PAGES:
            client, path = clients[role], path.format(**ids)
            for _ in range(10):
                client.get(path).close()
            if args.profile:
                if args.profile not in label:
                    continue
                prof = cProfile.Profile()
                prof.enable()
                cpu_per_request(client, path, args.requests)
                prof.disable()
                if args.dump:
                    prof.dump_stats(args.dump)
                out = io.StringIO()
                stats = pstats.Stats(prof, stream=out).sort_stats(args.sort)
                stats.print_stats(args.lines)
                print(f"== {label} {path}: {stats.total_calls / args.requests:,.0f} calls/request")
                print(out.getvalue()[out.getvalue().index("ncalls") :])
                continue
            runs = [cpu_per_request(client, path, args.requests) for _ in range(args.repeat)]
            print(
                f"{label:28} {path:22} {min(runs):6.2f} ms  (median {statistics.median(runs):5.2f})"
                f"  {python_calls(client, path):7,.0f} calls"
            )
    finally:
        if not args.keep:
            shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    main()
