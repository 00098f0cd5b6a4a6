"""Import benchmark: seconds and peak RSS of importing N residence rows (CSV, then
the same rows as xlsx) into a fresh migrated SQLite file, as a landlord.

    .venv/bin/python tests/bench/bench_import.py [--rows 100000] [--only csv|xlsx]

Each format runs in its own child process on its own database, so the peak RSS
(VmHWM) is that import's alone. Targets: 20 s CSV, 45 s xlsx, 500 MiB.
Figures, not assertions.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

BUILDINGS, ROOMS = 20, 100


def _rows(n: int):
    from community.residents.demo import demo_id_number

    move_in = (date.today() - timedelta(days=10)).isoformat()
    for i in range(n):
        yield [
            "1",
            f"B{i % BUILDINGS}",
            str(100 + (i // BUILDINGS) % ROOMS),
            f"居民{i}",
            demo_id_number(i + 1, region="330399"),
            f"138{i % 10**8:08d}",
            move_in,
            "浙江温州",
            "创客电子" if i % 3 == 0 else "",
        ]


def build(kind: str, n: int, path: Path) -> None:
    from community.residents.imports import HEADER

    if kind == "csv":
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(HEADER)
            writer.writerows(_rows(n))
        return
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(list(HEADER))
    for r in _rows(n):
        sheet.append(r)
    book.save(path)


def _peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(kind: str, file: Path) -> None:
    import flask_migrate

    from community import create_app
    from community.config import TestConfig
    from community.extensions import db
    from community.residents.imports import import_file
    from tests.factories.accounts import make_area_tree, make_role_user
    from tests.factories.places import make_building, make_room, make_site

    dbfile = Path(tempfile.mkdtemp()) / "bench.db"
    app = create_app(type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{dbfile}"}))
    with app.app_context():
        flask_migrate.upgrade()
        session = db.session
        _, _, community = make_area_tree(session)
        landlord = make_role_user(session, "landlord", area=community)
        site = make_site(session, area=community, landlord=landlord)
        for b in range(BUILDINGS):
            building = make_building(session, site=site, name=f"B{b}")
            for r in range(ROOMS):
                make_room(session, building=building, number=str(100 + r))
        session.commit()
        assert site.id == 1
        before = _peak_mib()
        started = time.perf_counter()
        result = import_file(session, landlord, file.read_bytes())
        session.commit()
        seconds = time.perf_counter() - started
        again_started = time.perf_counter()
        again = import_file(session, landlord, file.read_bytes())
        session.rollback()
        again_seconds = time.perf_counter() - again_started
    print(
        json.dumps(
            {
                "kind": kind,
                "seconds": round(seconds, 1),
                "again_seconds": round(again_seconds, 1),
                "peak_rss_mib": round(_peak_mib(), 0),
                "rss_before_mib": round(before, 0),
                "imported": result.imported,
                "refused": result.refused,
                "already_on_second_run": again.already,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--only", choices=["csv", "xlsx"])
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FILE"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    cache = Path(tempfile.gettempdir()) / "community-bench-import"
    cache.mkdir(exist_ok=True)
    for kind in [args.only] if args.only else ["csv", "xlsx"]:
        file = cache / f"rows-{args.rows}.{kind}"
        if not file.exists():
            build(kind, args.rows, file)
        size = file.stat().st_size / 1024 / 1024
        out = subprocess.run(
            [sys.executable, __file__, "--child", kind, str(file)],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            print(out.stderr[-3000:])
            continue
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{kind}: {args.rows} rows, {size:.1f} MiB file -> {json.dumps(figures)}")


if __name__ == "__main__":
    main()
