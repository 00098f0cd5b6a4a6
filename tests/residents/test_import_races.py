"""An import under real concurrency, on committed data in a database of its own
(scratch.py): several tabs poking the same job's steps at once, and the same file
imported twice at once. The suite's rolled-back transaction is switched off here."""

from __future__ import annotations

import io
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from community.core.timeutil import utcnow
from community.extensions import db
from community.residents.imports.models import ImportJob
from community.residents.models import Person, Residence
from tests.conftest import csrf_from
from tests.residents.scratch import import_rows, logged_in, scratch_world, twin
from tests.residents.test_imports import csv_bytes


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


def _poke_until_finished(app, clients, job_id: int, limit: float = 120) -> list[int]:
    """Each client posts the job's Continue at once (a barrier), then again until the
    job is over: the statuses of every answer."""
    barrier = threading.Barrier(len(clients))
    deadline = time.monotonic() + limit

    def work(client) -> list[int]:
        page = client.get(f"/residents/import/{job_id}").get_data(as_text=True)
        token = csrf_from(page)
        statuses = []
        barrier.wait()
        while time.monotonic() < deadline:
            resp = client.post(f"/residents/import/{job_id}/continue", data={"csrf_token": token})
            statuses.append(resp.status_code)
            if not _job(app, job_id).is_running:
                break
        return statuses

    with ThreadPoolExecutor(len(clients)) as pool:
        return [s for answers in pool.map(work, clients) for s in answers]


def test_four_tabs_stepping_one_fresh_import_at_once_import_every_row_once(tmp_path):
    with scratch_world("imp_pokes", str(tmp_path)) as (app, world):
        first = logged_in(app, world.landlord)
        job_id = _upload(first, csv_bytes(import_rows(world.site_id, 4000)))
        clients = [first] + [twin(app, first) for _ in range(3)]
        statuses = _poke_until_finished(app, clients, job_id)
        assert set(statuses) == {303}, statuses
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
            db.session.remove()
        assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_stale_claim_is_taken_over(tmp_path):
    """A runner that died holding the claim (its server killed it past the timeout)
    blocks the job only until the claim is stale; a fresh claim is left alone."""
    with scratch_world("imp_stale", str(tmp_path)) as (app, world):
        client = logged_in(app, world.landlord)
        job_id = _upload(client, csv_bytes(import_rows(world.site_id, 10)))
        token = csrf_from(client.get(f"/residents/import/{job_id}").get_data(as_text=True))

        def held_since(minutes: int) -> None:
            with app.app_context():
                job = db.session.get(ImportJob, job_id)
                job.runner, job.step_started_at = "d" * 32, utcnow() - timedelta(minutes=minutes)
                db.session.commit()
                db.session.remove()

        held_since(1)
        resp = client.post(f"/residents/import/{job_id}/continue", data={"csrf_token": token})
        assert resp.status_code == 303
        job = _job(app, job_id)
        assert (job.status, job.total, job.runner) == ("queued", 0, "d" * 32)
        held_since(6)
        for _ in range(2):
            resp = client.post(f"/residents/import/{job_id}/continue", data={"csrf_token": token})
            assert resp.status_code == 303
        job = _job(app, job_id)
        assert (job.status, job.imported, job.runner) == ("done", 10, None)


def test_the_same_file_imported_twice_at_once_creates_each_person_once(tmp_path):
    """Two tabs of the landlord import the same file at the same moment: each ID
    number is one person (no IntegrityError on person.id_hash); every row of each
    job is imported or already reported."""
    with scratch_world("imp_twice", str(tmp_path)) as (app, world):
        data = csv_bytes(import_rows(world.site_id, 600))
        clients = [logged_in(app, world.landlord), logged_in(app, world.landlord)]
        jobs = [_upload(c, data) for c in clients]
        for client, job_id in zip(clients, jobs, strict=True):
            token = csrf_from(client.get(f"/residents/import/{job_id}").get_data(as_text=True))
            resp = client.post(f"/residents/import/{job_id}/continue", data={"csrf_token": token})
            assert resp.status_code == 303
        barrier = threading.Barrier(2)

        def run(pair) -> int:
            client, job_id = pair
            token = csrf_from(client.get(f"/residents/import/{job_id}").get_data(as_text=True))
            barrier.wait()
            return client.post(
                f"/residents/import/{job_id}/continue", data={"csrf_token": token}
            ).status_code

        with ThreadPoolExecutor(2) as pool:
            statuses = list(pool.map(run, zip(clients, jobs, strict=True)))
        assert statuses == [303, 303]
        for job_id in jobs:
            job = _job(app, job_id)
            assert job.status == "done", job.message
            assert job.imported + job.already == 600 and job.refused == 0
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Person)) == 600
            db.session.remove()
