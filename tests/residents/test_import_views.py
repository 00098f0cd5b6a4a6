"""The web import as a user sees it: upload, the progress block (its GET writes
nothing; with htmx it posts each step itself), the no-JS continue button, the
errors download."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from community.residents.imports import services as import_services
from community.residents.imports.files import HEADER
from community.residents.imports.models import ImportJob
from community.residents.models import Residence
from tests.conftest import csrf_from
from tests.residents.test_imports import YESTERDAY, csv_bytes, row, xlsx_bytes


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


def test_the_page_writes_nothing_and_the_block_posts_its_steps(
    client, htmx_client, login, world, monkeypatch, session
):
    monkeypatch.setattr(import_services, "CHUNK", 2)
    login(world.landlord)
    rows = [row(world) for _ in range(3)] + [row(world, room="999")]
    resp = _upload(client, csv_bytes(rows))
    assert resp.status_code == 303
    job_id = _job_id(resp)
    page = client.get(f"/residents/import/{job_id}").get_data(as_text=True)
    assert f'hx-post="/residents/import/{job_id}/continue"' in page
    assert 'hx-trigger="load' in page and "Continue" in page
    # Looking at the job, as a page or as the block, never moves it on.
    for _ in range(3):
        assert htmx_client.get(f"/residents/import/{job_id}").status_code == 200
        client.get(f"/residents/import/{job_id}")
    job = _job(session, job_id)
    assert (job.status, job.done, job.rows_path) == ("queued", 0, None)
    token = csrf_from(page)
    seen = []
    for _ in range(10):
        fragment = htmx_client.post(
            f"/residents/import/{job_id}/continue", headers={"X-CSRFToken": token}
        )
        assert fragment.status_code == 200
        body = fragment.get_data(as_text=True)
        assert "<html" not in body
        seen.append(body)
        if "Import finished." in body:
            break
    assert "hx-post" not in body
    assert len(seen) == 3  # read the file, then two chunks of two rows
    assert "2 of 4 rows processed." in seen[1] and "hx-post" in seen[1]
    job = _job(session, job_id)
    assert (job.status, job.total, job.imported, job.refused) == ("done", 4, 3, 1)
    errors = client.get(f"/residents/import/{job_id}/errors.csv")
    assert errors.status_code == 200 and errors.mimetype == "text/csv"
    text = errors.get_data(as_text=True)
    assert text.splitlines()[1].startswith("5,room,999,") and "No room 999" in text
    assert rows[0][4] not in text


def test_continue_button_works_without_javascript(client, login, world, session):
    login(world.landlord)
    resp = _upload(client, xlsx_bytes([row(world), row(world, room="102")]), name="r.xlsx")
    job_id = _job_id(resp)
    for _ in range(3):
        token = csrf_from(client.get(f"/residents/import/{job_id}").get_data(as_text=True))
        step = client.post(f"/residents/import/{job_id}/continue", data={"csrf_token": token})
        assert step.status_code == 303
    page = client.get(f"/residents/import/{job_id}").get_data(as_text=True)
    assert "Import finished." in page
    assert session.scalar(select(func.count()).select_from(Residence)) == 2


def test_a_wrong_file_fails_the_job_with_the_reason(client, htmx_client, login, world):
    login(world.landlord)
    job_id = _job_id(_upload(client, b"name,phone\nx,1\n"))
    token = csrf_from(client.get(f"/residents/import/{job_id}").get_data(as_text=True))
    body = htmx_client.post(
        f"/residents/import/{job_id}/continue", headers={"X-CSRFToken": token}
    ).get_data(as_text=True)
    assert "The file was not imported" in body and "site_id,building,room" in body


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
