"""`make run`'s launcher (scripts/run_dev.py): one command starts the web server and
the worker, and stopping it stops both."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import flask_migrate
import pytest
from sqlalchemy import create_engine, text

from community import create_app
from community.config import TestConfig
from community.extensions import db
from tests import dbutil

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _transaction() -> None:
    """Overrides the suite's rolled-back transaction: the launched processes commit."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _until(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what} within {seconds} s")


def test_one_command_serves_and_runs_the_worker_and_stopping_it_stops_both(tmp_path):
    url = dbutil.scratch_url("run_dev")
    app = create_app(type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    with app.app_context():
        flask_migrate.upgrade()
        db.session.remove()
        db.engine.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "run-dev-test",
        "COMMUNITY_DATA_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "IMPORT_DIR": str(tmp_path / "imports"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
    }
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
    try:

        def healthy():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False

        _until(healthy, 60, "the web server did not answer /healthz")

        def worked():
            with engine.connect() as conn:
                return 5 == conn.scalar(
                    text("SELECT count(*) FROM periodic_job WHERE last_success_at IS NOT NULL")
                )

        _until(worked, 60, "the worker did not run the five periodic jobs")
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
        dbutil.drop_scratch(url)
    output = (tmp_path / "run.log").read_text(errors="replace")
    assert "worker: stopped" in output, output[-2000:]


def _state(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return "Z"
