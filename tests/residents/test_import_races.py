"""An import under real concurrency, on committed data in a database of its own
(scratch.py): several workers stepping the same job at once, and the same file
imported twice at once. The suite's rolled-back transaction is switched off here."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from community.core import storage
from community.core.jobs import run_queues
from community.core.timeutil import utcnow
from community.extensions import db
from community.residents.imports.models import ImportJob
from community.residents.models import Person, Residence
from tests.conftest import csrf_from, logged_in
from tests.residents.scratch import import_rows, scratch_world
from tests.residents.test_imports import csv_bytes
from tests.worker import workers_in_threads


@pytest.fixture(autouse=True)
def _transaction() -> None:
    """Overrides the suite's rolled-back transaction: these tests commit for real."""


def _upload(client, data: bytes) -> int:
    token = csrf_from(client.get("/residents/import").get_data(as_text=True))
    form = {"csrf_token": token, "file": (io.BytesIO(data), "residents.csv")}
    resp = client.post("/residents/import", data=form, content_type="multipart/form-data")
    assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
    return int(re.search(r"/residents/import/(\d+)", resp.headers["Location"]).group(1))


def _job(app, job_id: int) -> ImportJob:
    with app.app_context():
        job = db.session.get(ImportJob, job_id)
        db.session.expunge(job)
        db.session.remove()
    return job


def test_four_workers_on_one_fresh_import_import_every_row_once(tmp_path):
    with scratch_world("imp_pokes", str(tmp_path)) as (app, world):
        first = logged_in(app, world.landlord)
        job_id = _upload(first, csv_bytes(import_rows(world.site_id, 4000)))
        workers_in_threads(app, 4, lambda: not _job(app, job_id).is_running)
        job = _job(app, job_id)
        assert (job.status, job.message) == ("done", None)
        assert (job.total, job.done, job.imported, job.already, job.refused) == (
            4000,
            4000,
            4000,
            0,
            0,
        )
        assert job.runner is None
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Residence)) == 4000
            assert db.session.scalar(select(func.count()).select_from(Person)) == 4000
            assert storage.keys("imports") == []  # the upload and rows files are gone
            db.session.remove()
        assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_stale_claim_is_taken_over(tmp_path):
    """A runner that died holding the claim (its server killed it past the timeout)
    blocks the job only until the claim is stale; a fresh claim is left alone."""
    with scratch_world("imp_stale", str(tmp_path)) as (app, world):
        client = logged_in(app, world.landlord)
        job_id = _upload(client, csv_bytes(import_rows(world.site_id, 10)))

        def held_since(minutes: int) -> None:
            with app.app_context():
                job = db.session.get(ImportJob, job_id)
                job.runner, job.step_started_at = "d" * 32, utcnow() - timedelta(minutes=minutes)
                db.session.commit()
                db.session.remove()

        held_since(1)
        assert _worker_step(app) is False  # the claim is fresh: no job for this worker
        job = _job(app, job_id)
        assert (job.status, job.total, job.runner) == ("queued", 0, "d" * 32)
        held_since(6)
        for _ in range(2):
            assert _worker_step(app) is True
        job = _job(app, job_id)
        assert (job.status, job.imported, job.runner) == ("done", 10, None)


def _worker_step(app) -> bool:
    with app.app_context():
        worked = run_queues(db.session)
        db.session.remove()
    return worked


def test_the_same_file_imported_twice_at_once_creates_each_person_once(tmp_path):
    """Two tabs of the landlord import the same file at the same moment: each ID
    number is one person (no IntegrityError on person.id_hash); every row of each
    job is imported or already reported."""
    with scratch_world("imp_twice", str(tmp_path)) as (app, world):
        data = csv_bytes(import_rows(world.site_id, 600))
        clients = [logged_in(app, world.landlord), logged_in(app, world.landlord)]
        jobs = [_upload(c, data) for c in clients]
        # Two workers: each takes the job the other does not hold, so both files'
        # rows are written at the same moment.
        workers_in_threads(app, 2, lambda: not any(_job(app, j).is_running for j in jobs))
        for job_id in jobs:
            job = _job(app, job_id)
            assert job.status == "done", job.message
            assert job.imported + job.already == 600 and job.refused == 0
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Person)) == 600
            db.session.remove()
