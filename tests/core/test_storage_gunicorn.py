"""Two real gunicorn servers and a worker process on one database with
STORAGE_BACKEND=database, each with directories of its own: a photo reported through
server 1 is served by server 2, and an import uploaded through server 1 is run by a
worker process that shares nothing with it but the database (PostgreSQL when
TEST_DATABASE_URL is one, else a SQLite file)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.factories.hazards import image_bytes
from tests.multihost import (
    ROOT,
    Browser,
    check_import_shown,
    free_port,
    report_hazard,
    rows_with_a_refused_one,
    shared_env,
    upload_import,
    wait_up,
)
from tests.multihost import serve as _serve
from tests.residents.scratch import scratch_world


@pytest.fixture(autouse=True)
def _transaction() -> None:
    """Overrides the suite's rolled-back transaction: the servers commit for real."""


WORKER = """
import sys
from community import create_app
from community.accounts.models import User
from community.extensions import db
from community.residents.imports import services
from community.residents.imports.models import ImportJob

app = create_app()
with app.app_context():
    job = db.session.get(ImportJob, int(sys.argv[1]))
    user = db.session.get(User, job.user_id)
    while job.is_running:
        services.run_step(db.session, user, job, size=10)
        db.session.commit()
    print(job.status, job.imported)
"""


def test_two_gunicorn_servers_and_a_worker_share_photos_and_imports(tmp_path):
    with scratch_world("storage_gunicorn", str(tmp_path / "imports0")) as (app, world):
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        ports = [free_port(), free_port()]
        folders = [tmp_path / "server1", tmp_path / "server2", tmp_path / "worker"]
        logs = [tmp_path / "server1.log", tmp_path / "server2.log"]
        procs = [_serve(shared_env(url, folders[i]), ports[i], logs[i]) for i in (0, 1)]
        try:
            one, two = (Browser(f"http://127.0.0.1:{p}") for p in ports)
            for browser, proc, log in zip((one, two), procs, logs, strict=True):
                wait_up(browser.base, proc, log)
                browser.login(world.landlord)

            # A photo reported through server 1 ...
            hazard_path = report_hazard(one, world.site_id, image_bytes("JPEG"))
            # ... is served by server 2.
            status, headers, body = two.request(hazard_path + "/photo")
            assert status == 200 and headers["Content-Type"] == "image/jpeg"
            assert body[:2] == b"\xff\xd8" and int(headers["Content-Length"]) == len(body)
            assert headers["X-Content-Type-Options"] == "nosniff"
            assert one.request(hazard_path + "/photo")[2] == body

            # An import uploaded through server 1 ...
            job_id = str(upload_import(one, rows_with_a_refused_one(world.site_id, 25)))
            # ... is run by a worker process with directories of its own.
            done = subprocess.run(
                [sys.executable, "-c", WORKER, job_id],
                cwd=ROOT,
                env=shared_env(url, folders[2]),
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, done.stderr[-2000:]
            assert done.stdout.split() == ["done", "25"], done.stdout
            # Server 2 shows the finished job and streams its refused rows.
            check_import_shown(two, int(job_id), 25)
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=30)
        # Nothing was written to any process's directories.
        assert not any(f.exists() and any(f.rglob("*")) for f in folders)
