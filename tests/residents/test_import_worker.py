"""The import's queue in real worker processes, on committed data in a database of
its own (tests/residents/scratch.py): a worker killed with kill -9 in the middle of
a batch leaves nothing of that batch, and the next worker goes on from the job's
cursor — no row twice, none lost. The suite's rolled-back transaction is switched
off here."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from community.extensions import db
from community.residents.imports.models import ImportJob
from community.residents.models import Person, Residence
from tests.conftest import logged_in
from tests.residents.scratch import import_rows, scratch_world
from tests.residents.test_imports import csv_bytes

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _transaction() -> None:
    """Overrides the suite's rolled-back transaction: these tests commit for real."""


# A worker in a process of its own. "killable": the third batch's rows are written
# (flushed, not committed) and then the process waits to be killed; "finish": runs the
# queues until idle (`core.jobs.work`): the dead worker held no claim, nothing waits.
WORKER = r"""
import sys, time
from pathlib import Path
from community import create_app
from community.config import TestConfig
from community.core.jobs import work
from community.extensions import db
from community.residents.imports import services

url, import_dir, mode, flag = sys.argv[1:5]
settings = {"SQLALCHEMY_DATABASE_URI": url, "IMPORT_DIR": import_dir, "IMPORT_CHUNK_ROWS": 100}
app = create_app(type("Cfg", (TestConfig,), settings))
if mode == "killable":
    original = services.Importer.run
    batches = []

    def run(self, rows):
        result = original(self, rows)
        self.session.flush()
        batches.append(len(rows))
        if len(batches) == 3:
            Path(flag).write_text("mid-batch")
            time.sleep(120)
        return result

    services.Importer.run = run
import threading
with app.app_context():
    work(db.session, app.config, threading.Event(), poll=0.1, until_idle=True)
"""


def _worker(url: str, import_dir: str, mode: str, flag: Path) -> subprocess.Popen:
    """The worker process; its output goes to `<flag>.<mode>.log`."""
    with open(f"{flag}.{mode}.log", "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", WORKER, url, import_dir, mode, str(flag)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _output(flag: Path, mode: str) -> str:
    return Path(f"{flag}.{mode}.log").read_text(errors="replace")[-3000:]


def _counts(app, job_id: int):
    with app.app_context():
        s = db.session
        job = s.get(ImportJob, job_id)
        found = (
            job.status,
            job.done,
            job.imported,
            s.scalar(select(func.count()).select_from(Residence)),
            s.scalar(select(func.count(func.distinct(Residence.person_id)))),
            s.scalar(select(func.count()).select_from(Person)),
        )
        s.remove()
    return found


def test_a_worker_killed_mid_batch_leaves_no_half_batch_and_the_next_one_finishes(tmp_path):
    rows = 3000
    with scratch_world("jobs_kill", str(tmp_path / "files")) as (app, world):
        client = logged_in(app, world.landlord)
        token = client.get("/residents/import").get_data(as_text=True)
        import io

        from tests.conftest import csrf_from

        resp = client.post(
            "/residents/import",
            data={
                "csrf_token": csrf_from(token),
                "file": (io.BytesIO(csv_bytes(import_rows(world.site_id, rows))), "r.csv"),
            },
            content_type="multipart/form-data",
        )
        assert resp.status_code == 303
        job_id = int(resp.headers["Location"].rsplit("/", 1)[1])
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        flag = tmp_path / "mid-batch"
        started = time.monotonic()
        killable = _worker(url, str(tmp_path / "files"), "killable", flag)
        while not flag.exists():
            assert killable.poll() is None, _output(flag, "killable")
            assert time.monotonic() - started < 60, "the worker never reached its third batch"
            time.sleep(0.05)
        os.kill(killable.pid, signal.SIGKILL)
        killable.wait(10)
        # Two batches committed with their cursor; nothing of the third.
        deadline = time.monotonic() + 30
        while True:  # PostgreSQL rolls the dead connection's transaction back shortly
            try:
                counts = _counts(app, job_id)
                break
            except Exception:  # noqa: BLE001 - SQLite may still see the dead lock briefly
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert counts == ("running", 200, 200, 200, 200, 200), counts
        started = time.monotonic()
        finished = _worker(url, str(tmp_path / "files"), "finish", flag)
        assert finished.wait(280) == 0, _output(flag, "finish")
        # No wait for a stale claim (IMPORT_STEP_STALE_MINUTES is 5): a process start
        # and 28 batches, well under those 5 minutes even on a loaded machine.
        assert time.monotonic() - started < 240
        assert _counts(app, job_id) == ("done", rows, rows, rows, rows, rows)
        with app.app_context():
            twice = db.session.execute(
                select(Residence.person_id, Residence.room_id, Residence.move_in)
                .group_by(Residence.person_id, Residence.room_id, Residence.move_in)
                .having(func.count() > 1)
            ).all()
            db.session.remove()
        assert twice == []
