"""Page benchmark: the app under gunicorn (sync workers) driven by wrk, next to a
Flask hello world served the same way in the same run.

A scratch database (SQLite file in a temp dir, or BENCH_DATABASE_URL) is migrated
with `flask db upgrade`, seeded with `flask seed-demo`, and filled with N generated
sites (each with a building and three rooms). Then, logged in as the demo police
liaison (the public pages of ANONYMOUS without a login, as their visitors open
them), every page of PAGES gets: requests/s, p50 and p99 at 16 connections, the
ratio to hello world, response bytes (plain and compressed as a browser would
get them) and SQL statements per request (counted in-process with the test
client). Also: the site search's SQL time (index against LIKE), first-load
static bytes, and each gunicorn worker's resident memory. The results replace
this run's section of BENCHMARKS.md (one section per database and size).

    make bench BENCH_ARGS="--sites 50000 --duration 5"
    .venv/bin/python tests/bench/bench_pages.py [--sites 2000] [--duration 5] [--no-write]
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/community_bench ...
    .venv/bin/python tests/bench/bench_pages.py --profile   # cProfile of two pages, no wrk

Figures, not assertions: absolute numbers drift with the machine's load, so
read the ratio to hello world measured in the same run.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import cProfile
import datetime as dt
import gzip
import http.cookiejar
import io
import json
import os
import pstats
import re
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import brotli  # noqa: E402
from sqlalchemy import event, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from werkzeug.exceptions import MethodNotAllowed, NotFound  # noqa: E402
from werkzeug.routing import RequestRedirect  # noqa: E402

from community import create_app  # noqa: E402
from community.config import Config  # noqa: E402
from community.core import rollups  # noqa: E402
from community.extensions import db  # noqa: E402

# The pages measured. One line per page: label, path and optional request
# headers; the path may use {site_id}, {building_id}, {token} (a site visible to
# the police liaison) and {q} (a 5-character substring of generated site names).
# A path the app has no route for is skipped with a note, so pages of modules
# still to come can be listed already.
PAGES: list[tuple[str, str, dict[str, str]]] = [
    ("healthz", "/healthz", {}),
    ("home", "/", {}),
    ("site list", "/sites/", {}),
    ("site list, search", "/sites/?q={q}", {}),
    ("site page", "/sites/{site_id}", {}),
    ("building page", "/buildings/{building_id}", {}),
    ("inspections due", "/inspections/due", {}),
    ("hazards", "/hazards/", {}),
    ("assessments", "/assessments/", {}),
    ("public plaque", "/plaque/{token}", {}),
    ("residents", "/residents/", {}),
    ("residents, by ID number", "/residents/?q=11010519491231002X", {}),
    ("self-declaration", "/declare/{token}", {}),
    ("resident import form", "/residents/import", {}),
    ("compliance", "/compliance/", {}),
    ("duties", "/duties/", {}),
    ("duty leaderboard", "/duties/leaderboard", {}),
    ("reviews", "/reviews/", {}),
    ("dashboard", "/dashboard/", {}),
    ("notifications", "/notifications/", {}),
    ("audit log", "/audit/", {}),
]

# Pages their real visitors open without logging in (a load balancer, a tenant scanning
# the door QR code): measured without the session cookie.
ANONYMOUS = {"healthz", "public plaque", "self-declaration"}

WRK_TIMEOUT = "30s"

# A page whose SQL takes longer than this (in-process) gets its slowest statement noted.
SLOW_SQL_MS = 20.0

# First-load assets (what base.html links), reported compressed.
ASSETS = ["vendor/pico.min.css", "css/app.css", "vendor/htmx.min.js", "js/app.js"]

BIN = Path(sys.executable).parent
SECRET_KEY = "bench-secret-key-" + os.urandom(8).hex()
DATA_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()


def bench_config(url: str):
    return type(
        "BenchConfig",
        (Config,),
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": SECRET_KEY,
            "COMMUNITY_DATA_KEY": DATA_KEY,
            "DEBUG": False,
        },
    )


def app_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DATABASE_URL=url, SECRET_KEY=SECRET_KEY, COMMUNITY_DATA_KEY=DATA_KEY)
    env.pop("FLASK_DEBUG", None)
    return env


# --- database ------------------------------------------------------------------------


def prepare_database(url: str, residents: int = 0) -> dict:
    """An empty database, migrated and seeded through the real commands (with
    `residents` residence records over the demo rooms)."""
    if make_url(url).get_backend_name() == "postgresql":
        from sqlalchemy import create_engine

        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    flask = [str(BIN / "flask"), "--app", "app"]
    env = app_env(url)
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    out = subprocess.run(
        [*flask, "seed-demo", "--json", "--residents", str(residents)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def fill(app, sites: int) -> float:
    """N generated sites, each with one building and three rooms, by Core executemany
    (50,000 sites: seconds, not the minutes of ORM objects). Returns seconds."""
    from community.places.models import Building, Room, Site

    start = time.perf_counter()
    with app.app_context(), db.engine.begin() as conn:
        community_ids = list(conn.scalars(text("SELECT id FROM area WHERE level = 'community'")))
        landlord_id = conn.scalar(text("SELECT id FROM \"user\" WHERE username = 'landlord'"))
        kinds = ["rental_apartment", "rental_house", "compound", "dormitory"]
        for chunk in range(0, sites, 10_000):
            conn.execute(
                Site.__table__.insert(),
                [
                    {
                        "name": f"测试出租屋{i:06d}",
                        "kind": kinds[i % 4],
                        "area_id": community_ids[i % len(community_ids)],
                        "address": f"示范路{i}号",
                        "landlord_id": landlord_id if i % 10 == 0 else None,
                        "qr_token": f"bench-{i:08d}",
                        "stars": (i % 5) + 1 if i % 3 else None,
                    }
                    for i in range(chunk, min(chunk + 10_000, sites))
                ],
            )
        site_ids = list(
            conn.scalars(select(Site.id).where(Site.qr_token.like("bench-%")).order_by(Site.id))
        )
        for chunk in range(0, len(site_ids), 10_000):
            conn.execute(
                Building.__table__.insert(),
                [{"site_id": s, "name": "1幢"} for s in site_ids[chunk : chunk + 10_000]],
            )
        building_ids = list(
            conn.scalars(
                select(Building.id)
                .join(Site, Site.id == Building.site_id)
                .where(Site.qr_token.like("bench-%"))
            )
        )
        for chunk in range(0, len(building_ids), 10_000):
            conn.execute(
                Room.__table__.insert(),
                [
                    {"building_id": b, "number": f"{r:03d}", "beds": 2, "occupants": 1}
                    for b in building_ids[chunk : chunk + 10_000]
                    for r in (101, 102, 201)
                ],
            )
    with app.app_context():
        # The rows went in without the services: the columns the rules derive
        # (due date, 双无) and the area counters, as after any bulk load.
        from community.places.stored import refresh_stored

        refresh_stored(db.session)
        rollups.rebuild(db.session)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # What autovacuum would do within a minute of such a load.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        db.engine.dispose()
    return time.perf_counter() - start


# --- in-process: login, ids, SQL counts, bytes ------------------------------------------


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def login_client(app, account):
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    resp = client.post(
        "/login",
        data={"username": account["username"], "password": account["password"]},
        headers={"X-CSRFToken": token},
    )
    assert resp.status_code == 303, f"login failed: {resp.status_code}"
    return client


def pick_ids(app, client) -> dict:
    """A generated site the police liaison may see (and its building), its plaque token
    and a 5-character search: the site's name from 屋 on (about 100 names match)."""
    from community.places.models import Building, Site

    with app.app_context():
        rows = db.session.execute(
            select(Site.id, Site.name, Site.qr_token)
            .where(Site.qr_token.like("bench-%"))
            .order_by(Site.id)
        ).all()
        middle = len(rows) // 2
        for site_id, name, token in rows[middle:] + rows[:middle]:
            if client.get(f"/sites/{site_id}").status_code == 200:
                building_id = db.session.scalar(
                    select(Building.id).where(Building.site_id == site_id)
                )
                return {
                    "site_id": site_id,
                    "building_id": building_id,
                    "token": token,
                    "q": name[4:9],
                }
    raise SystemExit("no generated site is visible to the police liaison")


def route_exists(app, path: str) -> bool:
    adapter = app.url_map.bind("localhost")
    try:
        adapter.match(path.split("?")[0], method="GET")
    except (NotFound, MethodNotAllowed):
        return False
    except RequestRedirect:
        return True
    return True


@dataclass
class Page:
    label: str
    path: str
    headers: dict[str, str]
    status: int = 0
    body_bytes: int = 0
    wire_bytes: int = 0  # as sent to a browser that accepts br and gzip
    encoding: str = ""
    queries: int = 0
    sql_ms: float = 0.0
    rps: float = 0.0
    p50: float = 0.0
    p99: float = 0.0
    wrk_notes: list[str] = field(default_factory=list)


def count_in_process(app, client, page: Page) -> None:
    """Status, bytes, SQL statements per request and the time they take (one
    request, in-process, after a warm-up request)."""
    with app.app_context():
        engine = db.engine
    client.get(page.path, headers=page.headers).close()  # warm caches
    timings: list[tuple[float, str]] = []
    started: list[float] = []

    def before(*args, **kwargs):
        started.append(time.perf_counter())

    def after(conn, cursor, statement, *args, **kwargs):
        timings.append(((time.perf_counter() - started.pop()) * 1000, statement))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        resp = client.get(page.path, headers=page.headers)
        page.status = resp.status_code
        page.body_bytes = len(resp.get_data())
        resp.close()
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    page.queries = len(timings)
    page.sql_ms = sum(ms for ms, _ in timings)
    if timings and page.sql_ms > SLOW_SQL_MS:
        ms, statement = max(timings)
        short = " ".join(statement.split())
        page.wrk_notes.append(
            f"SQL {page.sql_ms:.0f} ms in-process; slowest {ms:.0f} ms: `{short[:160]}…`"
        )
    resp = client.get(page.path, headers={**page.headers, "Accept-Encoding": "br, gzip"})
    page.wire_bytes = len(resp.get_data())
    page.encoding = resp.headers.get("Content-Encoding", "")
    resp.close()


def search_timing(app, client, q: str, runs: int = 30) -> dict:
    """The search page's own SQL re-run (median ms), the search condition alone on
    the index path and on LIKE, and whether the page's plan avoids scanning `site`."""
    from community.places.models import Site
    from community.places.queries import site_text_match

    with app.app_context():
        engine = db.engine
        dialect = engine.dialect.name
    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        client.get(f"/sites/?q={q}").close()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    searching = [(s, p) for s, p in captured if "site_fts" in s or "ILIKE" in s.upper()]

    def median_ms(fn) -> float:
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000)
        return statistics.median(times)

    result: dict = {"q": q, "dialect": dialect}
    with engine.connect() as conn:

        def page_sql():
            for statement, parameters in searching:
                conn.exec_driver_sql(statement, parameters).fetchall()

        result["page_sql_ms"] = median_ms(page_sql)
        for label, path in (("index_ms", dialect), ("like_ms", "like")):
            cond = site_text_match(q, path)
            count = select(Site.id).where(cond).subquery()

            def run(cond=cond, count=count):
                conn.execute(select(db.func.count()).select_from(count)).scalar()
                conn.execute(
                    select(Site.id, Site.name).where(cond).order_by(Site.name, Site.id).limit(25)
                ).all()

            if label == "like_ms" and dialect == "postgresql":
                # PostgreSQL serves the LIKE path's ILIKE from the trigram index
                # too: forbid index use to show what a scan would cost.
                conn.rollback()  # end the autobegun transaction; SET LOCAL needs its own
                with conn.begin():
                    conn.execute(text("SET LOCAL enable_bitmapscan = off"))
                    conn.execute(text("SET LOCAL enable_indexscan = off"))
                    result[label] = median_ms(run)
            else:
                result[label] = median_ms(run)
        result["matches"] = conn.execute(
            select(db.func.count()).select_from(
                select(Site.id).where(site_text_match(q, dialect)).subquery()
            )
        ).scalar()
        plan_lines = []
        for statement, parameters in searching:
            prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
            rows = conn.exec_driver_sql(prefix + statement, parameters).all()
            plan_lines += [str(row[-1]) for row in rows]
        plan = "\n".join(plan_lines)
        if dialect == "sqlite":
            result["scans_site"] = bool(re.search(r"SCAN site\b", plan))
            result["uses_index"] = "site_fts VIRTUAL TABLE" in plan
        else:
            result["scans_site"] = bool(re.search(r"Seq Scan on site\b", plan))
            result["uses_index"] = "_trgm" in plan
        result["plan"] = plan
    return result


def asset_sizes(app) -> list[tuple[str, int, int, int]]:
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    rows = []
    for name in ASSETS:
        match = re.search(rf'"(/static/{re.escape(name)}(\?v=[0-9a-f]+)?)"', html)
        url = match.group(1) if match else f"/static/{name}"
        sizes = []
        for enc in ("identity", "gzip", "br"):
            resp = client.get(url, headers={"Accept-Encoding": enc})
            sizes.append(len(resp.get_data()))
            resp.close()
        rows.append((name, *sizes))
    return rows


def pico_variants() -> list[tuple[str, int, int, int]]:
    folder = ROOT / "node_modules/@picocss/pico/css"
    rows = []
    for name in ("pico.min.css", "pico.classless.min.css", "pico.conditional.min.css"):
        path = folder / name
        if path.is_file():
            data = path.read_bytes()
            rows.append(
                (
                    name,
                    len(data),
                    len(gzip.compress(data, 6)),
                    len(brotli.compress(data, quality=6)),
                )
            )
    return rows


# --- gunicorn and wrk ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(target: str, env: dict, workers: int, extra: list[str] = ()):
    port = free_port()
    cmd = [
        str(BIN / "gunicorn"),
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        *extra,
        target,
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn exited: {shlex.join(cmd)}")
            try:
                urllib.request.urlopen(base + "/", timeout=1).close()
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.05)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def worker_rss_mb(master_pid: int) -> list[float]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    pids = children.read_text().split() if children.exists() else []
    result = []
    for pid in pids:
        status = Path(f"/proc/{pid}/status").read_text()
        kb = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))
        result.append(kb / 1024)
    return result


def http_login(base: str, account: dict) -> str:
    """Log in over HTTP (POST /login with the CSRF token); the Cookie header for wrk."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(base + "/login").read().decode()
    data = urllib.parse.urlencode(
        {
            "username": account["username"],
            "password": account["password"],
            "csrf_token": csrf_token(html),
        }
    ).encode()
    opener.open(base + "/login", data=data).read()
    cookies = "; ".join(f"{c.name}={c.value}" for c in jar)
    assert "session=" in cookies, "no session cookie after login"
    return cookies


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def http_status(url: str, headers: dict) -> int:
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=300) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def warm_up(url: str, headers: dict, n: int = 4) -> None:
    """A few requests one after the other (templates compiled, connections open).
    Not a short wrk run: a sync worker still serves the requests wrk abandoned when
    it stopped, and a slow page's backlog would eat into the measurement."""
    for _ in range(n):
        http_status(url, headers)


def drain(base: str) -> None:
    """Wait until the workers have served what wrk left queued (see warm_up)."""
    for _ in range(2):
        http_status(base + "/healthz", {})


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(url: str, headers: dict, duration: int, threads: int, connections: int) -> dict:
    # --timeout: a slow page's latencies are recorded instead of dropped as timeouts.
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    cmd += ["--timeout", WRK_TIMEOUT]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run([*cmd, url], check=True, capture_output=True, text=True).stdout
    result = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
        "p99": _ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
        "notes": [],
    }
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        result["notes"].append(f"{non2xx.group(1)} non-2xx/3xx responses")
    errors = re.search(r"Socket errors: (.*)", out)
    if errors:
        result["notes"].append("socket errors: " + errors.group(1))
    return result


# --- report ---------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        found = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        if found:
            model = found.group(1).strip()
    return f"{os.cpu_count()} cores, {model}"


def database_label(app) -> str:
    with app.app_context():
        with db.engine.connect() as conn:
            if db.engine.dialect.name == "sqlite":
                version = conn.scalar(text("SELECT sqlite_version()"))
                return f"SQLite {version} (file, WAL)"
            version = conn.scalar(text("SHOW server_version"))
            return f"PostgreSQL {version}"


def command_line() -> str:
    parts = []
    if os.environ.get("BENCH_DATABASE_URL"):
        url = make_url(os.environ["BENCH_DATABASE_URL"]).render_as_string(hide_password=True)
        parts.append(f"BENCH_DATABASE_URL={url}")
    script = Path(sys.argv[0]).resolve()
    with contextlib.suppress(ValueError):
        script = script.relative_to(ROOT)
    python = Path(sys.executable)
    with contextlib.suppress(ValueError):
        python = python.relative_to(ROOT)
    parts += [str(python), str(script), *sys.argv[1:]]
    return " ".join(shlex.quote(p) for p in parts)


def render_section(ctx: dict) -> str:
    hello = ctx["hello_rps"]
    lines = [
        f"## {ctx['db_kind']}, {ctx['sites']:,} generated sites",
        "",
        f"- date: {ctx['date']}; machine: {ctx['machine']}",
        f"- database: {ctx['database']}; {ctx['sites']:,} generated sites "
        f"(+ {ctx['sites']:,} buildings, {3 * ctx['sites']:,} rooms) on the demo data; "
        f"filled in {ctx['fill_s']:.1f} s",
        f"- serving: gunicorn {ctx['workers']} sync workers; "
        f"`wrk -t{ctx['threads']} -c{ctx['connections']} -d{ctx['duration']}s --latency "
        f"--timeout {WRK_TIMEOUT}` "
        "per page, logged in as the demo police liaison "
        f"({', '.join(sorted(ANONYMOUS))}: anonymous, as their visitors open them)",
        f"- hello world (Flask, same gunicorn setup): {ctx['hello_runs'][0]:,.0f} req/s before "
        f"the pages, {ctx['hello_runs'][1]:,.0f} after; ratios use the mean, {hello:,.0f}",
        f"- command: `{ctx['command']}`",
        "",
        "| page | path | status | req/s | × hello | p50 ms | p99 ms | bytes | sent (br) "
        "| SQL/req | SQL ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for p in ctx["pages"]:
        sent = f"{p.wire_bytes:,}" if p.encoding else f"{p.wire_bytes:,} (plain)"
        lines.append(
            f"| {p.label} | `{p.path}` | {p.status} | {p.rps:,.0f} | {p.rps / hello:.2f} "
            f"| {p.p50:.1f} | {p.p99:.1f} | {p.body_bytes:,} | {sent} | {p.queries} "
            f"| {p.sql_ms:.1f} |"
        )
    lines.append("")
    s = ctx["search"]
    lines += [
        f"Site search `q={s['q']}` ({s['matches']} sites match, the police liaison sees "
        f"those in their area): the search page's SQL {s['page_sql_ms']:.1f} ms; the "
        f"condition alone (count + first 25 by name) {s['index_ms']:.1f} ms on the index "
        f"against {s['like_ms']:.1f} ms scanning the table (LIKE). The page's plan "
        + ("uses the trigram index" if s["uses_index"] else "does not use the trigram index")
        + (" and scans `site`" if s["scans_site"] else " and does not scan `site`")
        + (
            " (PostgreSQL picks by cost: on a small table a scan is cheaper)."
            if s["dialect"] == "postgresql" and s["scans_site"]
            else "."
        ),
        "",
        "Gunicorn workers' resident memory after the run (VmRSS): "
        + ", ".join(f"{mb:.0f} MB" for mb in ctx["rss"])
        + f" (hello world: {', '.join(f'{mb:.0f} MB' for mb in ctx['hello_rss'])}).",
    ]
    notes = list(ctx["notes"])
    for p in ctx["pages"]:
        notes += [f"{p.label}: {n}" for n in p.wrk_notes]
    if notes:
        lines += ["", "Notes:", *[f"- {n}" for n in notes]]
    return "\n".join(lines)


def render_assets(rows, variants) -> str:
    total = [sum(r[i] for r in rows) for i in (1, 2, 3)]
    lines = [
        "## First load: CSS and JavaScript",
        "",
        "What base.html links, as served (`Accept-Encoding` of a browser). Versioned URLs "
        "(`?v=<content hash>`) are cached for a year (`immutable`), so this is paid once "
        "per deploy. Target: under 60 KB compressed.",
        "",
        "| file | bytes | gzip | br |",
        "| --- | ---: | ---: | ---: |",
        *[f"| {n} | {a:,} | {b:,} | {c:,} |" for n, a, b, c in rows],
        f"| **total** | **{total[0]:,}** | **{total[1]:,}** | **{total[2]:,}** |",
        "",
        "Smaller Pico builds in node_modules (not switched: the pages use Pico's classes, "
        "and the saving is a few KB compressed):",
        "",
        "| Pico variant | bytes | gzip -6 | br -6 |",
        "| --- | ---: | ---: | ---: |",
        *[f"| {n} | {a:,} | {b:,} | {c:,} |" for n, a, b, c in variants],
    ]
    return "\n".join(lines)


HEADER = """# Benchmarks

Written by `make bench` (`tests/bench/bench_pages.py`); each run replaces its own
section (one per database and size) and the first-load section. Absolute figures
drift with whatever else the machine is doing: compare the × hello column, the
ratio to a Flask hello world served the same way in the same run.
"""


def write_benchmarks(path: Path, sections: dict[str, str]) -> None:
    content = path.read_text() if path.exists() else HEADER
    for key, body in sections.items():
        block = f"<!-- bench:{key} -->\n{body}\n<!-- /bench:{key} -->"
        pattern = re.compile(
            rf"<!-- bench:{re.escape(key)} -->.*?<!-- /bench:{re.escape(key)} -->", re.S
        )
        if pattern.search(content):
            content = pattern.sub(lambda _m, block=block: block, content)
        else:
            content = content.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(content)


# --- profile ----------------------------------------------------------------------------


def profile(
    app, client, paths: list[str], n: int = 50, sort: str = "tottime", callers: str = ""
) -> None:
    for path in paths:
        client.get(path).close()
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(n):
            client.get(path).close()
        prof.disable()
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out).sort_stats(sort)
        total_ms = stats.total_tt / n * 1000
        stats.print_stats(30)
        print(
            f"\n== cProfile {path}: {n} requests, {total_ms:.1f} ms each (profiled), "
            f"{stats.total_calls / n:,.0f} function calls each"
        )
        body = out.getvalue()
        print(body[body.index("ncalls") :] if "ncalls" in body else body)
        if callers:
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats(sort).print_callers(callers)
            print(out.getvalue())


# --- main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=2000, help="generated sites (2000)")
    parser.add_argument("--duration", type=int, default=5, help="seconds of wrk per page (5)")
    parser.add_argument(
        "--residents", type=int, default=0, help="residence records over the demo rooms (0)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--keep", action="store_true", help="keep the scratch SQLite file")
    parser.add_argument("--profile", action="store_true", help="cProfile /healthz and /sites/")
    parser.add_argument(
        "--profile-path", action="append", default=[], help="page to profile (repeatable)"
    )
    parser.add_argument("--profile-sort", default="tottime", help="pstats sort key (tottime)")
    parser.add_argument("--profile-callers", default="", help="print callers of these (regex)")
    args = parser.parse_args()
    notes = []
    if not args.profile and not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk (make bench does it as root)")

    tmpdir = None
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        tmpdir = tempfile.mkdtemp(prefix="community-bench-")
        url = f"sqlite:///{tmpdir}/bench.db"
    try:
        started = time.perf_counter()
        seeded = prepare_database(url, args.residents)
        app = create_app(bench_config(url))
        fill_s = fill(app, args.sites)
        print(f"database ready: {args.sites} generated sites, filled in {fill_s:.1f} s")
        police = next(a for a in seeded["accounts"] if a["role"] == "police")
        client = login_client(app, police)
        ids = pick_ids(app, client)
        if args.profile:
            paths = [p.format(**ids) for p in args.profile_path] or ["/healthz", "/sites/"]
            profile(app, client, paths, sort=args.profile_sort, callers=args.profile_callers)
            return

        pages: list[Page] = []
        for label, path, headers in PAGES:
            path = path.format(**{k: urllib.parse.quote(str(v)) for k, v in ids.items()})
            if not route_exists(app, path):
                notes.append(f"{label} (`{path}`): skipped, the app has no such route yet")
                continue
            page = Page(label, path, headers)
            count_in_process(app, app.test_client() if label in ANONYMOUS else client, page)
            pages.append(page)
        search = search_timing(app, client, ids["q"])
        assets = asset_sizes(app)
        database = database_label(app)
        with app.app_context():
            db.engine.dispose()

        env = app_env(url)
        wrk_args = (args.duration, args.threads, args.connections)
        hello_runs, hello_rss = [], []

        def measure_hello():
            with gunicorn(
                "hello_app:app", env, args.workers, ["--pythonpath", str(ROOT / "tests/bench")]
            ) as (base, proc):
                warm_up(base + "/", {})
                hello_runs.append(run_wrk(base + "/", {}, *wrk_args)["rps"])
                hello_rss[:] = worker_rss_mb(proc.pid)

        measure_hello()
        with gunicorn("app:app", env, args.workers) as (base, proc):
            cookie = http_login(base, police)
            for page in pages:
                headers = dict(page.headers)
                if page.label not in ANONYMOUS:
                    headers["Cookie"] = cookie
                status = http_status(base + page.path, headers)
                if status != page.status:
                    page.wrk_notes.append(f"status {status} over HTTP, {page.status} in-process")
                warm_up(base + page.path, headers)
                result = run_wrk(base + page.path, headers, *wrk_args)
                drain(base)
                page.rps, page.p50, page.p99 = result["rps"], result["p50"], result["p99"]
                page.wrk_notes += result["notes"]
                print(f"  {page.label:<22} {page.rps:>8.0f} req/s  p99 {page.p99:.1f} ms")
            rss = worker_rss_mb(proc.pid)
        measure_hello()

        ctx = {
            "db_kind": "PostgreSQL" if database.startswith("PostgreSQL") else "SQLite",
            "sites": args.sites,
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
            "database": database,
            "fill_s": fill_s,
            "workers": args.workers,
            "threads": args.threads,
            "connections": args.connections,
            "duration": args.duration,
            "hello_runs": hello_runs,
            "hello_rps": statistics.mean(hello_runs),
            "hello_rss": hello_rss,
            "command": command_line(),
            "pages": pages,
            "search": search,
            "rss": rss,
            "notes": notes,
        }
        section = render_section(ctx)
        assets_section = render_assets(assets, pico_variants())
        print()
        print(section)
        print()
        print(assets_section)
        print("\nsearch plan:\n" + search["plan"])
        print(f"\nwhole run: {time.perf_counter() - started:.0f} s")
        if not args.no_write:
            key = f"{ctx['db_kind'].lower()}-{args.sites}"
            write_benchmarks(Path(args.output), {"first-load": assets_section, key: section})
            print(f"written to {args.output} (section {key})")
    finally:
        if tmpdir and not args.keep:
            shutil.rmtree(tmpdir, ignore_errors=True)
        elif tmpdir:
            print(f"scratch database kept: {url}")


if __name__ == "__main__":
    main()
