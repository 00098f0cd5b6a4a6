"""Two app servers on one database with STORAGE_BACKEND=database: a photo reported
through one is served by the other, an import uploaded through one is run by the
other's worker, and neither writes to its local directories."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from community import create_app
from community.accounts.models import User
from community.config import TestConfig
from community.core import storage
from community.core.timeutil import utcnow
from community.extensions import db
from community.hazards.models import Hazard
from community.residents.imports import services as import_services
from community.residents.imports.models import ImportJob
from community.residents.models import Residence
from tests.conftest import csrf_from, logged_in
from tests.factories.hazards import image_bytes
from tests.residents.scratch import import_rows, scratch_world
from tests.residents.test_imports import csv_bytes


@pytest.fixture(autouse=True)
def _transaction() -> None:
    """Overrides the suite's rolled-back transaction: two apps commit for real in a
    scratch database."""


def _submission_token(html: str) -> str:
    return re.search(r'name="submission_token" type="hidden" value="([^"]+)"', html).group(1)


def _report_hazard(client, site_id: int) -> int:
    html = client.get(f"/sites/{site_id}/hazards/new").get_data(as_text=True)
    form = {
        "description": "Blocked exit",
        "severity": "high",
        "csrf_token": csrf_from(html),
        "submission_token": _submission_token(html),
        "photo": (io.BytesIO(image_bytes("JPEG")), "exit.jpg"),
    }
    resp = client.post(
        f"/sites/{site_id}/hazards/new", data=form, content_type="multipart/form-data"
    )
    assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
    return int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def _upload(client, data: bytes) -> int:
    token = csrf_from(client.get("/residents/import").get_data(as_text=True))
    form = {"csrf_token": token, "file": (io.BytesIO(data), "residents.csv")}
    resp = client.post("/residents/import", data=form, content_type="multipart/form-data")
    assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
    return int(re.search(r"/residents/import/(\d+)", resp.headers["Location"]).group(1))


def test_two_app_servers_on_one_database_share_photos_and_imports(tmp_path):
    dirs = {n: tmp_path / n for n in ("imports1", "uploads1", "imports2", "uploads2")}
    with scratch_world(
        "storage_twins",
        str(dirs["imports1"]),
        STORAGE_BACKEND="database",
        UPLOAD_DIR=str(dirs["uploads1"]),
    ) as (app1, world):
        settings = {
            "SQLALCHEMY_DATABASE_URI": app1.config["SQLALCHEMY_DATABASE_URI"],
            "STORAGE_BACKEND": "database",
            "UPLOAD_DIR": str(dirs["uploads2"]),
            "IMPORT_DIR": str(dirs["imports2"]),
        }
        app2 = create_app(type("Cfg", (TestConfig,), settings))
        one, two = logged_in(app1, world.landlord), logged_in(app2, world.landlord)
        try:
            hazard_id = _report_hazard(one, world.site_id)
            served = two.get(f"/hazards/{hazard_id}/photo")
            assert served.status_code == 200 and served.mimetype == "image/jpeg"
            assert served.get_data() == one.get(f"/hazards/{hazard_id}/photo").get_data()
            assert "no-store" in served.headers["Cache-Control"]
            assert served.headers["X-Content-Type-Options"] == "nosniff"

            job_id = _upload(one, csv_bytes(import_rows(world.site_id, 30)))
            with app2.app_context():  # the worker of another server runs the job
                job = db.session.get(ImportJob, job_id)
                user = db.session.get(User, job.user_id)
                while job.is_running:
                    import_services.run_step(db.session, user, job, size=10)
                    db.session.commit()
                assert (job.status, job.imported) == ("done", 30), job.message
                count = select(func.count()).select_from(Residence)
                assert db.session.scalar(count) == 30
                db.session.remove()
            page = one.get(f"/residents/import/{job_id}").get_data(as_text=True)
            assert "30" in page
            with app1.app_context():
                photo = db.session.get(Hazard, hazard_id).photo
                assert storage.exists("photos", photo)
                assert storage.keys("imports") == []  # the upload and rows are gone
                db.session.remove()
            # Nothing was written to either server's directories.
            assert not any(d.exists() and any(d.iterdir()) for d in dirs.values())
        finally:
            with app2.app_context():
                db.session.remove()
                db.engine.dispose()


def test_flask_purge_expired_deletes_old_import_files_in_the_database(tmp_path):
    """The command in a process of its own: its deletes are committed."""
    with scratch_world("storage_purge", str(tmp_path / "imports"), STORAGE_BACKEND="database") as (
        app,
        _world,
    ):
        old, fresh = f"{'a' * 32}.upload", f"{'b' * 32}.upload"
        with app.app_context():
            for key, hours in ((old, 30), (fresh, 1)):
                storage.save("imports", key, b"x" * 10)
                storage.set_modified("imports", key, utcnow() - timedelta(hours=hours))
            db.session.commit()
            db.session.remove()
        env = {
            **os.environ,
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "STORAGE_BACKEND": "database",
            "SECRET_KEY": "storage-test",
            "COMMUNITY_DATA_KEY": TestConfig.COMMUNITY_DATA_KEY,
            "IMPORT_DIR": str(tmp_path / "elsewhere"),
        }
        env.pop("TEST_DATABASE_URL", None)
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", "purge-expired"],
            cwd=Path(__file__).resolve().parents[2],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert "import files deleted (after 24 hours): 1" in done.stdout
        with app.app_context():
            assert storage.keys("imports") == [fresh]
            db.session.remove()
