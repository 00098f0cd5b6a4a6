"""Several hosts for real (issue 18, "Done when"): one deployment of two gunicorn app
servers (the units' command, two workers each, on ports of their own) and two
`flask worker` processes, sharing nothing but one PostgreSQL database (files in it:
STORAGE_BACKEND=database; each process has directories of its own, which stay empty)
and one Redis (REDIS_URL: the login throttle and Flask-Limiter's counters), driven
over HTTP as users drive it:

- failed logins made on either server count as one (in Redis), and so do the rate
  limits of Flask-Limiter;
- volunteers claiming the last places of one duty at once, through both servers,
  never overbook it;
- a hazard photo reported through one server is served by the other;
- an import uploaded on one server is completed by the workers while no browser
  polls its page, and the other server shows it done;
- each periodic job runs at most once in its period with the two workers running;
- both workers killed with kill -9 in the middle of an import leave no half batch,
  and workers started again finish it: every row once.

On the embedded default (SQLite, one machine), `make run` starts the server and the
worker together: tests/test_run_dev.py."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text

from community.core.jobs import period_of, periodic_jobs
from community.extensions import db
from community.places.models import Site
from tests import dbutil
from tests.conftest import PASSWORD
from tests.factories.accounts import make_role_user
from tests.factories.duty import make_coordinator, make_duty, make_volunteer
from tests.factories.hazards import image_bytes
from tests.multihost import (
    WEB,
    WORKER,
    Browser,
    Processes,
    check_import_shown,
    ended_job,
    folders,
    free_port,
    free_redis_db,
    import_job,
    program,
    report_hazard,
    residences,
    residences_twice,
    rows_with_a_refused_one,
    shared_env,
    until,
    upload_import,
    wait_up,
)
from tests.residents.scratch import import_rows, scratch_world
from tests.residents.test_imports import csv_bytes

pytestmark = pytest.mark.skipif(
    not dbutil.is_postgres(),
    reason="several app servers share a PostgreSQL database: set TEST_DATABASE_URL to one "
    "(the SQLite default serves from one machine: tests/test_run_dev.py)",
)

SERVERS = ("server1", "server2")
WORKERS = ("worker1", "worker2")
CHUNK = 20  # rows per import step: a file of a thousand rows takes some seconds
SHORT_JOB, SHORT_PERIOD = "send-outbox", 3  # seconds
VOLUNTEERS, PLACES = 12, 3
LOGIN_LIMIT = 4
PREFIX = "community:login-failures:"


@pytest.fixture(autouse=True)
def _transaction() -> None:
    """Overrides the suite's rolled-back transaction: the processes commit for real."""


@dataclass
class Deployment:
    engine: object
    processes: Processes
    bases: list[str]
    world: SimpleNamespace
    redis: object
    folder: Path
    workers_started: float  # time.monotonic() when the first workers started

    def browser(self, n: int) -> Browser:
        return Browser(self.bases[n])

    def one(self, sql: str, **params):
        """The query's one row."""
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).one()

    def scalar(self, sql: str, **params):
        return self.one(sql, **params)[0]

    def start_workers(self) -> None:
        for name in WORKERS:
            self.processes.start(name, program(WORKER), **folders(self.folder / name))

    def workers_alive(self) -> None:
        for name in WORKERS:
            self.processes.alive(name)

    def local_files(self) -> list[Path]:
        """Files any process wrote in its own directories (none: all is in the database)."""
        return [
            f for name in SERVERS + WORKERS for f in (self.folder / name).rglob("*") if f.is_file()
        ]


def _people(app, world) -> None:
    """A police officer (the throttle's target), a coordinator and volunteers of the
    site's community, with a duty of few places; committed."""
    with app.app_context():
        s = db.session
        community = s.get(Site, world.site_id).area
        make_role_user(s, "police", username="officer", password=PASSWORD, area=community)
        coordinator = make_coordinator(s, area=community)
        world.volunteers = [
            make_volunteer(s, area=community, username=f"vol{n}", password=PASSWORD).username
            for n in range(VOLUNTEERS)
        ]
        world.duty_id = make_duty(s, area=community, publisher=coordinator, capacity=PLACES).id
        s.commit()
        s.remove()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    redis, redis_db = free_redis_db()
    folder = tmp_path_factory.mktemp("multihost")
    with ExitStack() as stack:
        app, world = stack.enter_context(scratch_world("multihost", str(folder / "setup")))
        stack.callback(redis.flushdb)
        _people(app, world)
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        env = shared_env(
            url,
            folder / "base",  # each process is given folders of its own
            REDIS_URL=f"redis://127.0.0.1:6379/{redis_db}",
            COMMUNITY_INSTANCE_DIR=str(folder / "instance"),
            WEB_CONCURRENCY="2",
            LOGIN_FAILURES_PER_MINUTE=str(LOGIN_LIMIT),
            DECLARE_STATUS_RATE_LIMIT="3/minute",
            IMPORT_CHUNK_ROWS=str(CHUNK),
            WORKER_POLL_SECONDS="1",
            JOB_PERIODS=f"{SHORT_JOB}={SHORT_PERIOD}",
            # gunicorn's control socket here, not in ~/.gunicorn where other tests' go.
            XDG_RUNTIME_DIR=str(folder),
        )
        processes = Processes(folder, env)
        stack.callback(processes.stop)
        ports = [free_port(), free_port()]
        for name, port in zip(SERVERS, ports, strict=True):
            bind = {"GUNICORN_BIND": f"127.0.0.1:{port}"}
            processes.start(name, program(WEB), **bind, **folders(folder / name))
        engine = create_engine(url)
        stack.callback(engine.dispose)
        found = Deployment(
            engine=engine,
            processes=processes,
            bases=[f"http://127.0.0.1:{port}" for port in ports],
            world=world,
            redis=redis,
            folder=folder,
            workers_started=time.monotonic(),
        )
        found.start_workers()
        for name, base in zip(SERVERS, found.bases, strict=True):
            wait_up(base, processes.running[name], processes.log(name))
        yield found


@pytest.fixture(autouse=True)
def _logs_on_failure(deployment):
    """What each process logged during the test, printed after it: pytest shows it
    with a failure (and keeps it quiet otherwise)."""
    logs = [deployment.processes.log(name) for name in SERVERS + WORKERS]
    sizes = {log: log.stat().st_size if log.exists() else 0 for log in logs}
    yield
    for log in logs:
        if log.exists():
            with log.open("rb") as f:
                f.seek(sizes[log])
                written = f.read().decode(errors="replace")
            print(f"--- {log.name} ---\n{written[-4000:]}")


def test_failed_logins_on_either_server_count_as_one(deployment):
    one, two = deployment.browser(0), deployment.browser(1)
    # The limit's worth of failures for one account, alternating servers ...
    for n in range(LOGIN_LIMIT):
        assert (one, two)[n % 2].try_login("officer", "wrong-password!") == 401
    # ... and both servers refuse the next attempt, even with the right password.
    assert [b.try_login("officer") for b in (one, two)] == [429, 429]
    # Counted in Redis, the same counters for both (the database's table stays empty).
    assert deployment.redis.keys(f"{PREFIX}pair:*")
    assert deployment.scalar("SELECT count(*) FROM login_failure") == 0
    # Flask-Limiter counts there too: status look-ups are limited to 3 a minute here.
    statuses = [(one, two)[n % 2].request("/declare/status?ref=X")[0] for n in range(4)]
    assert statuses == [404, 404, 404, 429]
    assert one.request("/declare/status?ref=X")[0] == 429


def test_claims_racing_on_both_servers_never_overbook_a_duty(deployment):
    duty = deployment.world.duty_id
    browsers = []
    for n, username in enumerate(deployment.world.volunteers):
        browser = deployment.browser(n % 2)
        browser.login(username)
        browsers.append((browser, browser.token(f"/duties/{duty}")))
    barrier = threading.Barrier(len(browsers))

    def claim(n: int) -> int:
        browser, token = browsers[n]
        # The same cookies, through the other server (a proxy chooses either).
        browser.base = deployment.bases[(n + 1) % 2]
        barrier.wait()
        return browser.post(f"/duties/{duty}/claim", {"csrf_token": token})[0]

    with ThreadPoolExecutor(len(browsers)) as pool:
        statuses = Counter(pool.map(claim, range(len(browsers))))
    assert statuses == {303: PLACES, 409: VOLUNTEERS - PLACES}, statuses
    with deployment.engine.connect() as conn:
        claims = dict(
            conn.execute(
                text("SELECT status, count(*) FROM duty_claim WHERE task_id = :t GROUP BY status"),
                {"t": duty},
            ).all()
        )
        taken = conn.execute(text("SELECT taken FROM duty_task WHERE id = :t"), {"t": duty})
        assert (claims, taken.scalar()) == ({"claimed": PLACES}, PLACES)


def test_a_photo_reported_on_one_server_is_served_by_the_other(deployment):
    landlord = deployment.world.landlord
    one, two = deployment.browser(0), deployment.browser(1)
    one.login(landlord)
    two.login(landlord)
    hazard = report_hazard(one, deployment.world.site_id, image_bytes("JPEG"))
    status, headers, body = two.request(hazard + "/photo")
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    assert body[:2] == b"\xff\xd8" and int(headers["Content-Length"]) == len(body)
    assert one.request(hazard + "/photo")[2] == body
    assert deployment.local_files() == []


def _import_page_reads(deployment) -> int:
    """Requests for an import's progress page the servers logged (their route rule)."""
    return sum(
        deployment.processes.log(name).read_text().count(" /residents/import/<int:job_id> ")
        for name in SERVERS
    )


# Periodic runs holding their lease, and whether another connection's transaction
# holds uncommitted writes (it has a transaction id).
UNDER_WAY = """
SELECT (SELECT count(*) FROM periodic_job WHERE runner IS NOT NULL),
       EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
               AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL)
"""


def _finished(deployment, job_id: int, what: str):
    """The job once it has ended (read from the database, as no browser polls it)."""

    def ended():
        deployment.workers_alive()
        return ended_job(deployment.engine, job_id)

    return until(ended, 120, what)


def test_an_import_uploaded_on_one_server_is_finished_by_the_workers_unwatched(deployment):
    world = deployment.world
    one, two = deployment.browser(0), deployment.browser(1)
    one.login(world.landlord)
    two.login(world.landlord)
    reads = _import_page_reads(deployment)
    job_id = upload_import(one, rows_with_a_refused_one(world.site_id, 25, first=500))
    job = _finished(deployment, job_id, "the workers finish the import")
    assert (job.status, job.done, job.imported, job.refused) == ("done", 26, 25, 1)
    # Nobody opened the job's page while it ran: the servers logged no request for it.
    assert _import_page_reads(deployment) == reads
    # The other server shows it done, with the refused row's report.
    check_import_shown(two, job_id, 25)
    assert deployment.local_files() == []


def test_each_periodic_job_runs_at_most_once_in_its_period_with_two_workers(deployment):
    periods = {
        job.kind: period_of(job, {"JOB_PERIODS": {SHORT_JOB: SHORT_PERIOD}})
        for job in periodic_jobs()
    }
    assert periods[SHORT_JOB] == timedelta(seconds=SHORT_PERIOD)

    def runs() -> dict[str, int]:
        with deployment.engine.connect() as conn:
            found = dict(conn.execute(text("SELECT kind, runs FROM periodic_job")).all())
        return {kind: found.get(kind, 0) for kind in periods}

    # The short job comes round a few times (both workers look every second) ...
    until(lambda: runs()[SHORT_JOB] >= 4, 8 * SHORT_PERIOD, "the short job ran four times")
    found = runs()
    elapsed = timedelta(seconds=time.monotonic() - deployment.workers_started)
    # ... and every job ran once at the start, then at most once a period since.
    for kind, period in periods.items():
        assert 1 <= found[kind] <= elapsed // period + 1, (kind, found[kind], elapsed)
    deployment.workers_alive()


def test_workers_killed_mid_import_leave_no_half_batch_and_new_ones_finish_it(deployment):
    world = deployment.world
    rows = 1200
    browser = deployment.browser(1)
    browser.login(world.landlord)
    before = residences(deployment.engine)
    job_id = upload_import(browser, csv_bytes(import_rows(world.site_id, rows, first=1000)))

    def under_way():
        """Five steps done, no periodic run under way, and a worker's transaction
        holding writes not yet committed (most likely a step's rows and cursor)."""
        deployment.workers_alive()
        job = import_job(deployment.engine, job_id)
        assert job.status in ("queued", "running"), f"finished before the kill: {job}"
        return job.done >= 5 * CHUNK and tuple(deployment.one(UNDER_WAY)) == (0, True)

    until(under_way, 60, "the workers get five steps into the import", every=0.01)
    for name in WORKERS:
        deployment.processes.kill(name)
    job = import_job(deployment.engine, job_id)
    written = residences(deployment.engine) - before
    deployment.start_workers()
    # What the dead workers left: whole steps with their cursor, nothing of a half one,
    # no claim on the job (the next worker goes on at once).
    assert job.status == "running" and 0 < job.done < rows, job
    assert job.done % CHUNK == 0 and job.imported == job.done == written, (job, written)
    assert job.runner is None, job
    # New workers go on from the cursor: every row once.
    job = _finished(deployment, job_id, "new workers finish the import")
    assert (job.status, job.done, job.imported, job.refused) == ("done", rows, rows, 0), job
    assert residences(deployment.engine) - before == rows
    assert residences_twice(deployment.engine) == []
    assert deployment.local_files() == []
