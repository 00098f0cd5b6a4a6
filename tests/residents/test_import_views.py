"""The web import as a user sees it: upload, the progress block (its GET writes
nothing; with htmx it polls itself while the worker runs the job), the no-JS
refresh link, the errors download."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from community.core.jobs import queues
from community.residents.imports.files import HEADER
from community.residents.imports.models import ImportJob
from community.residents.models import Residence
from tests.conftest import csrf_from
from tests.residents.test_imports import YESTERDAY, csv_bytes, row, xlsx_bytes
from tests.worker import run_worker


@pytest.fixture(autouse=True)
def _import_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_DIR", str(tmp_path))


def _upload(client, data: bytes, name="residents.csv", **headers):
    token = csrf_from(client.get("/residents/import").get_data(as_text=True))
    import io

    form = {"csrf_token": token, "file": (io.BytesIO(data), name)}
    return client.post(
        "/residents/import", data=form, content_type="multipart/form-data", headers=headers
    )


def _job_id(resp) -> int:
    return int(re.search(r"/residents/import/(\d+)", resp.headers["Location"]).group(1))


def test_upload_page_names_the_header(client, login, world):
    login(world.landlord)
    page = client.get("/residents/import").get_data(as_text=True)
    assert ",".join(HEADER) in page
    assert 'enctype="multipart/form-data"' in page


def test_upload_without_file_is_422(client, login, world):
    login(world.landlord)
    token = csrf_from(client.get("/residents/import").get_data(as_text=True))
    resp = client.post("/residents/import", data={"csrf_token": token})
    assert resp.status_code == 422
    assert "Choose a CSV or xlsx file." in resp.get_data(as_text=True)


def _job(session, job_id):
    job = session.get(ImportJob, job_id)
    session.refresh(job)
    return job


def test_the_page_writes_nothing_and_the_worker_imports(
    app, client, htmx_client, login, world, monkeypatch, session
):
    monkeypatch.setitem(app.config, "IMPORT_CHUNK_ROWS", 2)
    login(world.landlord)
    rows = [row(world) for _ in range(3)] + [row(world, room="999")]
    resp = _upload(client, csv_bytes(rows))
    assert resp.status_code == 303
    job_id = _job_id(resp)
    page = client.get(f"/residents/import/{job_id}").get_data(as_text=True)
    # The block polls itself with a GET while the job runs; nothing on the page posts.
    assert f'hx-get="/residents/import/{job_id}"' in page and 'hx-trigger="every 2s"' in page
    assert "/continue" not in page and "hx-post" not in page.split('id="import-progress"')[1]
    assert "Waiting for the worker" in page and ">Refresh</a>" in page
    # Looking at the job, as a page or as the block, never moves it on.
    for _ in range(3):
        assert htmx_client.get(f"/residents/import/{job_id}").status_code == 200
        client.get(f"/residents/import/{job_id}")
    job = _job(session, job_id)
    assert (job.status, job.done, job.rows_path) == ("queued", 0, None)
    seen = []
    for _ in range(10):
        if not any(q.step(session) for q in queues()):
            break
        fragment = htmx_client.get(f"/residents/import/{job_id}")
        assert fragment.status_code == 200
        body = fragment.get_data(as_text=True)
        assert "<html" not in body and body.lstrip().startswith('<section id="import-progress"')
        seen.append(body)
    assert len(seen) == 3  # read the file, then two chunks of two rows
    assert "Reading the file" not in seen[0] and "0 of 4 rows processed." in seen[0]
    assert "2 of 4 rows processed." in seen[1] and 'hx-trigger="every 2s"' in seen[1]
    body = seen[-1]
    assert "Import finished." in body and "hx-get" not in body.split(">", 1)[0]
    job = _job(session, job_id)
    assert (job.status, job.total, job.imported, job.refused) == ("done", 4, 3, 1)
    errors = client.get(f"/residents/import/{job_id}/errors.csv")
    assert errors.status_code == 200 and errors.mimetype == "text/csv"
    text = errors.get_data(as_text=True)
    assert text.splitlines()[1].startswith("5,room,999,") and "No room 999" in text
    assert rows[0][4] not in text


def test_without_javascript_the_refresh_link_shows_the_worker_s_progress(
    client, login, world, session
):
    login(world.landlord)
    resp = _upload(client, xlsx_bytes([row(world), row(world, room="102")]), name="r.xlsx")
    job_id = _job_id(resp)
    page = client.get(f"/residents/import/{job_id}").get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)">Refresh</a>', page).group(1)
    assert link == f"/residents/import/{job_id}" and "<form" not in page.split("<h1")[1]
    run_worker()
    page = client.get(link).get_data(as_text=True)
    assert "Import finished." in page and "Refresh" not in page
    assert session.scalar(select(func.count()).select_from(Residence)) == 2


def test_the_old_continue_url_is_gone(client, login, world):
    login(world.landlord)
    job_id = _job_id(_upload(client, csv_bytes([row(world)])))
    token = csrf_from(client.get(f"/residents/import/{job_id}").get_data(as_text=True))
    resp = client.post(f"/residents/import/{job_id}/continue", data={"csrf_token": token})
    assert resp.status_code in (404, 405)


def test_a_wrong_file_fails_the_job_with_the_reason(client, htmx_client, login, world):
    login(world.landlord)
    job_id = _job_id(_upload(client, b"name,phone\nx,1\n"))
    run_worker()
    body = htmx_client.get(f"/residents/import/{job_id}").get_data(as_text=True)
    assert "The file was not imported" in body and "site_id,building,room" in body
    assert "hx-get" not in body.split(">", 1)[0]


def test_another_users_job_is_404(app, client, login, world):
    login(world.landlord)
    job_id = _job_id(_upload(client, csv_bytes([row(world, move_in=YESTERDAY)])))
    other = app.test_client()
    token = csrf_from(other.get("/login").get_data(as_text=True))
    other.post(
        "/login",
        data={
            "username": world.manager.username,
            "password": "correct-horse-battery",
            "csrf_token": token,
        },
    )
    assert other.get(f"/residents/import/{job_id}").status_code == 404
    assert other.get(f"/residents/import/{job_id}/errors.csv").status_code == 404
