"""`make run`'s launcher (scripts/run_dev.py): one command starts the web server and
the worker — the embedded default on one machine: the worker runs the periodic jobs
and an import uploaded through the server — and stopping it stops both (several
hosts: tests/test_multi_host.py)."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.multihost import (
    ROOT,
    Browser,
    check_import_shown,
    free_port,
    rows_with_a_refused_one,
    until,
    upload_import,
)
from tests.residents.scratch import scratch_world


@pytest.fixture(autouse=True)
def _transaction() -> None:
    """Overrides the suite's rolled-back transaction: the launched processes commit."""


def test_one_command_serves_and_runs_the_worker_and_stopping_it_stops_both(tmp_path):
    """The embedded default on one machine: the server takes an import and the worker
    it started runs it (nobody polls its page), besides the periodic jobs."""
    with scratch_world("run_dev", str(tmp_path / "setup")) as (app, world):
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        output = _launch(tmp_path, url, world)
    assert "worker: stopped" in output, output[-2000:]


def _launch(tmp_path: Path, url: str, world) -> str:
    """Runs `make run`'s launcher on the database at `url` and checks it; returns what
    it printed."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "run-dev-test",
        "COMMUNITY_DATA_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "IMPORT_DIR": str(tmp_path / "imports"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
    }
    env.pop("TEST_DATABASE_URL", None)
    log = (tmp_path / "run.log").open("wb")
    launcher = subprocess.Popen(
        [sys.executable, "scripts/run_dev.py", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    engine = create_engine(url)
    base = f"http://127.0.0.1:{port}"
    try:

        def healthy():
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False

        until(healthy, 60, "the web server did not answer /healthz")

        def worked():
            with engine.connect() as conn:
                return 5 == conn.scalar(
                    text("SELECT count(*) FROM periodic_job WHERE last_success_at IS NOT NULL")
                )

        until(worked, 60, "the worker did not run the five periodic jobs")

        # An import uploaded through the server is finished by the worker, unwatched.
        browser = Browser(base)
        browser.login(world.landlord)
        job_id = upload_import(browser, rows_with_a_refused_one(world.site_id, 25))

        def imported():
            with engine.connect() as conn:
                status = conn.scalar(
                    text("SELECT status FROM import_job WHERE id = :j"), {"j": job_id}
                )
            return status if status in ("done", "failed") else None

        assert until(imported, 60, "the worker did not finish the import") == "done"
        check_import_shown(browser, job_id, 25)

        children = subprocess.run(
            ["pgrep", "-P", str(launcher.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        assert len(children) == 2, children
        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(40) == 0
        for pid in children:
            assert not Path(f"/proc/{pid}").exists() or "Z" in _state(pid), pid
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()
        log.close()
        engine.dispose()
    return (tmp_path / "run.log").read_text(errors="replace")


def _state(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return "Z"
