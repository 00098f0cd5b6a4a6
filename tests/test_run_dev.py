"""`make run`'s launcher (scripts/run_dev.py): one command starts the web server and
the worker — the embedded default on one machine: the worker runs the periodic jobs
and an import uploaded through the server — and stopping it stops both (several
hosts: tests/test_multi_host.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from community.config import TestConfig
from community.core.jobs import periodic_jobs
from tests.multihost import (
    ROOT,
    Browser,
    check_import_shown,
    ended_job,
    free_port,
    import_job,
    residences,
    residences_twice,
    rows_with_a_refused_one,
    until,
    upload_import,
)
from tests.residents.scratch import import_rows, scratch_world
from tests.residents.test_imports import csv_bytes


@pytest.fixture(autouse=True)
def _transaction() -> None:
    """Overrides the suite's rolled-back transaction: the launched processes commit."""


@contextmanager
def _make_run(tmp_path: Path, url: str, name: str, **settings: str):
    """`make run`'s launcher on the database at `url`, once its server answers:
    (launcher, base URL); its output goes to `<name>.log`. Killed at the end if it
    still runs."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "run-dev-test",
        "COMMUNITY_DATA_KEY": TestConfig.COMMUNITY_DATA_KEY,
        "IMPORT_DIR": str(tmp_path / "imports"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        **settings,
    }
    env.pop("TEST_DATABASE_URL", None)
    log = tmp_path / f"{name}.log"
    with log.open("wb") as out:
        launcher = subprocess.Popen(
            [sys.executable, "scripts/run_dev.py", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:

        def healthy():
            assert launcher.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False

        until(healthy, 60, "the web server did not answer /healthz")
        yield launcher, base
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()


def _children(launcher: subprocess.Popen) -> list[str]:
    return subprocess.run(
        ["pgrep", "-P", str(launcher.pid)], capture_output=True, text=True, check=False
    ).stdout.split()


def test_one_command_serves_and_runs_the_worker_and_stopping_it_stops_both(tmp_path):
    """The embedded default on one machine: the server takes an import and the worker
    it started runs it (nobody polls its page), besides the periodic jobs."""
    with scratch_world("run_dev", str(tmp_path / "setup")) as (app, world):
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        engine = create_engine(url)
        try:
            with _make_run(tmp_path, url, "run") as (launcher, base):
                kinds = {job.kind for job in periodic_jobs()}

                def worked():
                    with engine.connect() as conn:
                        done = conn.execute(
                            text("SELECT kind FROM periodic_job WHERE last_success_at IS NOT NULL")
                        )
                        return kinds <= set(done.scalars())

                until(worked, 60, f"the worker did not run the periodic jobs {sorted(kinds)}")
                # An import uploaded through the server is finished by the worker, unwatched.
                browser = Browser(base)
                browser.login(world.landlord)
                job_id = upload_import(browser, rows_with_a_refused_one(world.site_id, 25))
                job = until(lambda: ended_job(engine, job_id), 60, "the worker ran the import")
                assert job.status == "done", job
                check_import_shown(browser, job_id, 25)

                children = _children(launcher)
                assert len(children) == 2, children
                launcher.send_signal(signal.SIGTERM)
                assert launcher.wait(40) == 0
                for pid in children:
                    assert not Path(f"/proc/{pid}").exists() or "Z" in _state(pid), pid
        finally:
            engine.dispose()
    output = (tmp_path / "run.log").read_text(errors="replace")
    assert "worker: stopped" in output, output[-2000:]


def test_a_worker_killed_mid_import_resumes_when_make_run_starts_again(tmp_path):
    """kill -9 of the worker `make run` started, in the middle of an import: the
    launcher stops the server too (one command, one life); the database keeps whole
    steps only, and `make run` started again finishes the import, every row once."""
    rows, chunk = 600, 20
    settings = {"IMPORT_CHUNK_ROWS": str(chunk), "WORKER_POLL_SECONDS": "1"}
    with scratch_world("run_dev_kill", str(tmp_path / "setup")) as (app, world):
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        engine = create_engine(url)
        try:
            with _make_run(tmp_path, url, "first", **settings) as (launcher, base):
                browser = Browser(base)
                browser.login(world.landlord)
                job_id = upload_import(browser, csv_bytes(import_rows(world.site_id, rows)))

                def under_way():
                    job = import_job(engine, job_id)
                    assert job.status in ("queued", "running"), f"ended before the kill: {job}"
                    return job.done >= 5 * chunk

                until(under_way, 60, "the worker got five steps into the import", every=0.01)
                worker = next(p for p in _children(launcher) if "worker" in _cmdline(p))
                os.kill(int(worker), signal.SIGKILL)
                assert launcher.wait(40) != 0
            job = import_job(engine, job_id)
            assert job.status == "running" and 0 < job.done < rows, job
            assert job.done % chunk == 0 and job.imported == job.done == residences(engine)
            with _make_run(tmp_path, url, "again", **settings):
                job = until(lambda: ended_job(engine, job_id), 120, "the import resumed")
            assert (job.status, job.done, job.imported) == ("done", rows, rows), job
            assert residences(engine) == rows and residences_twice(engine) == []
        finally:
            engine.dispose()
    output = (tmp_path / "first.log").read_text(errors="replace")
    assert "the worker stopped (status -9)" in output, output[-2000:]


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def _state(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return "Z"
