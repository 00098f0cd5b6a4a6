"""The worker's periodic jobs (core.jobs) on committed data, in a database of its own:
a job runs once per period however many workers race for it, never overlaps itself,
and keeps how its runs went (tests/residents/test_import_worker.py: the import's
queue). The suite's rolled-back transaction is switched off here."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import flask_migrate
import pytest
from sqlalchemy import func, select

from community import create_app
from community.config import TestConfig
from community.core import jobs
from community.core.jobs import Periodic, PeriodicJob, ensure_rows, run_due, run_periodic
from community.extensions import db
from tests import dbutil

T0 = datetime(2026, 12, 7, 8, 0)
EVERY = timedelta(minutes=5)


@pytest.fixture(autouse=True)
def _transaction() -> None:
    """Overrides the suite's rolled-back transaction: these tests commit for real."""


@pytest.fixture(scope="module")
def scratch_app():
    url = dbutil.scratch_url("jobs")
    app = create_app(type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    with app.app_context():
        flask_migrate.upgrade()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    dbutil.drop_scratch(url)


class Counter:
    """A periodic job's function that counts its runs (and may take its time)."""

    def __init__(self, seconds: float = 0.0, fail: bool = False):
        self.runs: list[datetime] = []
        self.running = 0
        self.most_at_once = 0
        self.seconds = seconds
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self, session, now):
        with self.lock:
            self.runs.append(now)
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            time.sleep(self.seconds)
            if self.fail:
                raise RuntimeError("the sender is down\nsecond line never shown")
            return "counted"
        finally:
            with self.lock:
                self.running -= 1


@pytest.fixture
def periodic(scratch_app, monkeypatch):
    """periodic(fn) registers a job of a kind of its own (only for this test) and
    gives it its row, due at T0."""
    kinds = iter(f"test-job-{n}" for n in range(1000))

    def make(fn, every=EVERY, lease=timedelta(minutes=10)) -> Periodic:
        kind = next(kinds)
        job = Periodic(kind, fn, every, lease, kind)
        monkeypatch.setitem(jobs._PERIODIC, kind, job)
        with scratch_app.app_context():
            db.session.execute(db.delete(PeriodicJob).where(PeriodicJob.kind == kind))
            db.session.commit()
            ensure_rows(db.session, T0)
            db.session.remove()
        return job

    yield make
    with scratch_app.app_context():
        db.session.execute(db.delete(PeriodicJob).where(PeriodicJob.kind.like("test-job-%")))
        db.session.commit()
        db.session.remove()


def _row(app, kind: str) -> PeriodicJob:
    with app.app_context():
        row = db.session.get(PeriodicJob, kind)
        db.session.expunge(row)
        db.session.remove()
    return row


def _race(app, job: Periodic, now: datetime, workers: int = 6) -> list:
    """`workers` threads (each its own session and connection) run the job at `now` at
    the same moment: what each got (True ran, None not theirs)."""
    barrier = threading.Barrier(workers)

    def one(_n):
        with app.app_context():
            barrier.wait()
            try:
                return run_periodic(db.session, job, now)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, range(workers)))


def test_six_workers_at_once_run_a_due_job_once(scratch_app, periodic):
    counter = Counter(seconds=0.3)
    job = periodic(counter)
    results = _race(scratch_app, job, T0)
    assert sorted(results, key=str) == [None] * 5 + [True], results
    assert counter.runs == [T0] and counter.most_at_once == 1
    row = _row(scratch_app, job.kind)
    assert (row.runs, row.last_run_at, row.last_success_at) == (1, T0, T0)
    assert (row.next_run_at, row.runner, row.lease_until, row.failures) == (
        T0 + EVERY,
        None,
        None,
        0,
    )


def test_the_job_runs_again_after_its_period_not_before(scratch_app, periodic):
    counter = Counter()
    job = periodic(counter)
    moments = [T0, T0 + timedelta(minutes=1), T0 + EVERY - timedelta(seconds=1), T0 + EVERY]
    got = []
    for now in moments:
        with scratch_app.app_context():
            got.append(run_periodic(db.session, job, now))
            db.session.remove()
    assert got == [True, None, None, True]
    assert counter.runs == [T0, T0 + EVERY]
    # Two periods later, six racing workers still run it once.
    assert _race(scratch_app, job, T0 + 2 * EVERY).count(True) == 1
    assert len(counter.runs) == 3


def test_a_run_longer_than_its_period_is_never_overlapped(scratch_app, periodic):
    """Due again while its first run still holds the lease: no second run starts, on any
    worker; once the first ends, the next period's run goes ahead."""
    job = periodic(Counter(), lease=timedelta(minutes=30))
    with scratch_app.app_context():
        token = jobs.claim(db.session, job, T0)  # a run under way (its worker is busy)
        db.session.remove()
    assert token
    later = T0 + 3 * EVERY  # past next_run_at, within the lease
    assert _race(scratch_app, job, later) == [None] * 6
    with scratch_app.app_context():
        jobs._finish(db.session, job.kind, token, later, None)
        assert run_periodic(db.session, job, later) is True
        db.session.remove()


def test_a_dead_worker_s_lease_ends_and_the_job_runs_again(scratch_app, periodic):
    job = periodic(Counter(), lease=timedelta(minutes=2))
    with scratch_app.app_context():
        assert jobs.claim(db.session, job, T0)  # the worker then dies: no _finish
        assert run_periodic(db.session, job, T0 + EVERY) is True  # lease (2 min) is over
        db.session.remove()


def test_a_failure_is_recorded_with_its_error_and_cleared_by_a_success(
    scratch_app, periodic, caplog
):
    counter = Counter(fail=True)
    job = periodic(counter)
    with scratch_app.app_context():
        assert run_periodic(db.session, job, T0) is False
        assert run_periodic(db.session, job, T0 + EVERY) is False
        db.session.remove()
    row = _row(scratch_app, job.kind)
    assert (row.failures, row.last_failure_at, row.last_success_at) == (2, T0 + EVERY, None)
    assert row.last_error == "RuntimeError: the sender is down"
    assert (row.runner, row.next_run_at) == (None, T0 + 2 * EVERY)  # tried again next period
    assert "failed: RuntimeError: the sender is down" in caplog.text
    counter.fail = False
    with scratch_app.app_context():
        assert run_periodic(db.session, job, T0 + 2 * EVERY) is True
        db.session.remove()
    row = _row(scratch_app, job.kind)
    assert (row.failures, row.last_error, row.last_success_at) == (0, None, T0 + 2 * EVERY)


def test_starting_workers_add_each_kind_once_and_an_idle_worker_writes_nothing(
    scratch_app, periodic
):
    job = periodic(Counter())
    with scratch_app.app_context():
        for _ in range(3):
            ensure_rows(db.session, T0 + EVERY)
        count = db.session.scalar(
            select(func.count()).select_from(PeriodicJob).where(PeriodicJob.kind == job.kind)
        )
        assert count == 1 and db.session.get(PeriodicJob, job.kind).next_run_at == T0
        assert run_due(db.session, T0) >= 1
        db.session.remove()
    # Nothing due: run_due only reads (no UPDATE statement reaches the database).
    statements = []
    with scratch_app.app_context():
        engine = db.engine

        def _seen(conn, cursor, statement, *args):
            statements.append(statement.split()[0].upper())

        db.event.listen(engine, "before_cursor_execute", _seen)
        try:
            assert run_due(db.session, T0 + timedelta(seconds=1)) == 0
        finally:
            db.event.remove(engine, "before_cursor_execute", _seen)
            db.session.remove()
    assert statements and set(statements) == {"SELECT"}, statements


def test_a_failed_daily_job_is_tried_again_within_minutes(scratch_app, periodic):
    job = periodic(Counter(fail=True), every=timedelta(days=1))
    with scratch_app.app_context():
        assert run_periodic(db.session, job, T0) is False
        assert run_periodic(db.session, job, T0 + jobs.RETRY_AFTER) is False
        db.session.remove()
    row = _row(scratch_app, job.kind)
    assert (row.failures, row.next_run_at) == (2, T0 + 2 * jobs.RETRY_AFTER)
