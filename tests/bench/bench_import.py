"""Import benchmark: seconds and peak RSS of a worker importing N residence rows from
the files people send, uploaded as the import page does (services.start_import) and
run by the worker's own loop (core.jobs.work, as `flask worker --until-idle`), on a
fresh migrated database (SQLite file, or PostgreSQL with --db).

    .venv/bin/python tests/bench/bench_import.py [--rows 100000] [--only KIND ...]
        [--db postgresql+psycopg://postgres@127.0.0.1:5432/community_bench]
        (or BENCH_DATABASE_URL=postgresql+psycopg://...)
        [--profile out.prof]

The files (built once, kept under the temp folder):
  gb18030  a CSV as Excel saves it on a Chinese Windows: GB18030, Chinese headers
           (姓名, 证件号码, 手机号码, 入住日期, ...), CRLF, dates written 2026/11/27;
  utf8bom  a CSV in UTF-8 with a byte order mark and the English contract header;
  template the site's xlsx template (template.build) filled by openpyxl as a user
           would: Chinese header row, ID and phone as text, move-in days as date cells.
Each kind runs in its own child process on its own database; the peak RSS is the
worker's during the run (VmHWM reset before it: /proc/self/clear_refs). --db names a
PostgreSQL database the bench may wipe (its public schema is dropped). Targets
(issue 19): CSV under 10 s, xlsx under 15 s, under 300 MiB. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

BUILDINGS, ROOMS = 20, 100
KINDS = ("gb18030", "utf8bom", "template")


def _people(n: int):
    """(building, room, name, ID, phone, moved in, hometown, employer) of n residents."""
    from community.residents.demo import demo_id_number

    moved_in = date.today() - timedelta(days=10)
    for i in range(n):
        yield (
            f"B{i % BUILDINGS}",
            str(100 + (i // BUILDINGS) % ROOMS),
            f"居民{i}",
            demo_id_number(i + 1, region="330399"),
            f"138{i % 10**8:08d}",
            moved_in,
            "浙江温州",
            "创客电子" if i % 3 == 0 else "",
        )


def _csv(n: int, path: Path, *, chinese: bool) -> None:
    from community.residents.imports import columns

    fields = columns.HEADER
    header = [columns.BY_FIELD[f].header for f in fields] if chinese else list(fields)
    with path.open("w", encoding="gb18030" if chinese else "utf-8-sig", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n" if chinese else "\n")
        writer.writerow(header)
        for building, room, name, id_number, phone, moved_in, hometown, employer in _people(n):
            day = f"{moved_in.year}/{moved_in.month}/{moved_in.day}" if chinese else moved_in
            writer.writerow(["1", building, room, name, id_number, phone, day, hometown, employer])


def _template(n: int, path: Path) -> None:
    """The template of a site like the bench's (one app, one scratch database), filled
    with openpyxl below its header row."""
    import openpyxl

    from community.residents.imports import columns, template

    app, site_id = _app(f"sqlite:///{tempfile.mkdtemp()}/template.db", seed=True)
    with app.app_context(), app.test_request_context():
        from sqlalchemy import select
        from sqlalchemy.orm import selectinload

        from community.extensions import db
        from community.places.models import Building, Site

        loaded = selectinload(Site.buildings).selectinload(Building.rooms)
        site = db.session.scalar(select(Site).where(Site.id == site_id).options(loaded))
        data = template.build(site)
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book[template.SHEET]
    place = {f: i + 1 for i, f in enumerate(columns.FIELDS)}
    row = sheet.max_row
    while row > 1 and not any(c.value for c in sheet[row]):
        row -= 1
    for building, room, name, id_number, phone, moved_in, hometown, employer in _people(n):
        row += 1
        values = {
            "site_id": site_id,
            "building": building,
            "room": room,
            "name": name,
            "id_number": id_number,
            "phone": phone,
            "move_in": moved_in,
            "hometown": hometown,
            "employer": employer or None,
        }
        for field, value in values.items():
            cell = sheet.cell(row=row, column=place[field], value=value)
            if field in ("id_number", "phone"):
                cell.number_format = "@"
            elif field == "move_in":
                cell.number_format = "yyyy-mm-dd"
    book.save(path)


def build(kind: str, n: int, path: Path) -> None:
    if kind == "template":
        _template(n, path)
    else:
        _csv(n, path, chinese=kind == "gb18030")


def _app(url: str, *, seed: bool):
    """A migrated app on `url` (a PostgreSQL one wiped first) with, when `seed`, one
    site of BUILDINGS x ROOMS rooms run by a landlord. Returns the app and the site's id."""
    import flask_migrate

    from community import create_app
    from community.config import TestConfig
    from community.extensions import db
    from tests import dbutil
    from tests.factories.accounts import make_area_tree, make_role_user
    from tests.factories.places import make_building, make_room, make_site

    if url.startswith("postgresql"):
        dbutil.reset_postgres(url)
    config = {"SQLALCHEMY_DATABASE_URI": url, "IMPORT_DIR": tempfile.mkdtemp()}
    app = create_app(type("Cfg", (TestConfig,), config))
    site_id = None
    with app.app_context():
        flask_migrate.upgrade()
        if seed:
            session = db.session
            _, _, community = make_area_tree(session)
            landlord = make_role_user(session, "landlord", area=community, username="bench")
            site = make_site(session, area=community, landlord=landlord)
            for b in range(BUILDINGS):
                building = make_building(session, site=site, name=f"B{b}")
                for r in range(ROOMS):
                    make_room(session, building=building, number=str(100 + r))
            session.commit()
            site_id = site.id
    return app, site_id


def _status() -> dict[str, float]:
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmHWM:", "VmRSS:")):
            found[line.split(":")[0]] = int(line.split()[1]) / 1024
    return found


def _timed(phases: dict[str, float]) -> None:
    """Add the CPU seconds of the import's phases to `phases`: reading the file
    (files.prepare), validating rows (Importer._validate), writing them
    (Importer._write)."""
    from community.residents.imports import files, services

    def wrap(owner, name: str, phase: str) -> None:
        real = getattr(owner, name)

        def timed(*args, **kwargs):
            started = time.process_time()
            try:
                return real(*args, **kwargs)
            finally:
                phases[phase] = phases.get(phase, 0.0) + time.process_time() - started

        setattr(owner, name, timed)

    wrap(files, "prepare", "read")
    wrap(files, "read_chunk", "read_chunk")
    wrap(services.Importer, "_validate", "validate")
    wrap(services.Importer, "_write", "write")


def child(kind: str, file: Path, url: str, profile: str | None) -> None:
    import logging

    from community.core.jobs import work
    from community.extensions import db
    from community.residents.imports import services
    from community.residents.imports.models import ImportJob
    from tests.factories.accounts import get_user

    logging.disable(logging.INFO)
    phases: dict[str, float] = {}
    _timed(phases)
    app, _site = _app(url, seed=True)
    with app.app_context(), app.test_request_context():
        session = db.session
        landlord = get_user(session, "bench")
        data = file.read_bytes()
        job = services.start_import(session, landlord, file.name, data)
        session.commit()
        job_id = job.id
        del data
        session.expunge_all()
        rss_before = _status()["VmRSS"]
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM from here on
        profiler = None
        if profile:
            import cProfile

            # CPU time, not the wall clock: the machine is shared, the figures comparable.
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
        started = time.perf_counter()
        cpu = time.process_time()
        work(session, app.config, threading.Event(), until_idle=True)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
        peak = _status()["VmHWM"]
        job = session.get(ImportJob, job_id)
    print(
        json.dumps(
            {
                "kind": kind,
                "db": url.split(":", 1)[0].split("+", 1)[0],
                "seconds": round(seconds, 1),
                "cpu_seconds": round(cpu, 1),
                "cpu_phases": {k: round(v, 1) for k, v in phases.items()},
                "peak_rss_mib": round(peak),
                "rss_before_mib": round(rss_before),
                "status": job.status,
                "message": job.message,
                "imported": job.imported,
                "refused": job.refused,
            },
            ensure_ascii=False,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--only", nargs="+", choices=KINDS)
    parser.add_argument(
        "--db",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="a PostgreSQL URL the bench may wipe (default: BENCH_DATABASE_URL, else SQLite)",
    )
    parser.add_argument("--profile", help="write the worker's cProfile stats here")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "FILE", "URL"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.child[2], args.profile)
        return
    cache = Path(tempfile.gettempdir()) / "community-bench-import"
    cache.mkdir(exist_ok=True)
    for kind in args.only or KINDS:
        suffix = "xlsx" if kind == "template" else "csv"
        file = cache / f"{kind}-{args.rows}.{suffix}"
        if not file.exists():
            build(kind, args.rows, file)
        size = file.stat().st_size / 1024 / 1024
        url = args.db or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
        command = [sys.executable, __file__, "--child", kind, str(file), url]
        if args.profile:
            command += ["--profile", f"{args.profile}.{kind}"]
        out = subprocess.run(command, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(out.stderr[-3000:])
            continue
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{kind}: {args.rows} rows, {size:.1f} MiB file -> {json.dumps(figures)}")


if __name__ == "__main__":
    main()
