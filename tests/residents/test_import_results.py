"""What an import tells the person on a phone: the refused rows on the page (line,
column, value masked where personal, reason; the first 50, then the download), no
"the import runs now" notice once it is over, and dates read in the forms people
write them — by the import and by the forms' date fields alike."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from community.core.jobs import queues
from community.core.timeutil import today as _today  # per test: a run may cross midnight
from community.residents.imports.files import HEADER
from community.residents.imports.services import import_file
from community.residents.models import Residence
from tests.conftest import csrf_from
from tests.factories.residents import id_number, make_residence
from tests.residents.test_import_views import _job_id, _upload
from tests.residents.test_imports import csv_bytes, row, xlsx_bytes
from tests.worker import run_worker

UNREADABLE = "This date cannot be read. Write it like 2026-12-05, 2026/12/05, 2026.12.05"


@pytest.fixture(autouse=True)
def _import_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_DIR", str(tmp_path))


def _bad_check(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


def _finish_without_js(client, job_id):
    """The browser follows the upload's redirect (the page with its notice), the worker
    imports the file, the refresh link loads the page again with the outcome."""
    assert "Refresh" in client.get(f"/residents/import/{job_id}").get_data(as_text=True)
    run_worker()
    page = client.get(f"/residents/import/{job_id}").get_data(as_text=True)
    assert "Import finished." in page
    return page


def test_refused_rows_are_listed_on_the_page_with_masked_values(client, login, world):
    login(world.landlord)
    wrong = _bad_check(id_number())
    rows = [
        row(world),
        row(world, number=wrong),
        row(world, room="102", move_in="5th of May"),
        row(world, room="102"),
    ]
    job_id = _job_id(_upload(client, csv_bytes(rows)))
    page = _finish_without_js(client, job_id)
    assert "Refused rows" in page and 'data-testid="refused-rows"' in page
    table = page[page.index('data-testid="refused-rows"') :]
    # Line 3: the ID number, masked, with the check message; line 4: the date as written.
    assert "Line 3" in table and wrong not in table and f"{wrong[:6]}********{wrong[-4:]}" in table
    assert "does not pass the check" in table and "<code>id_number</code>" in table
    assert "Line 4" in table and "5th of May" in table and UNREADABLE in table
    assert "Enter the move-in date" not in table
    assert f'href="/residents/import/{job_id}/errors.csv"' in page
    assert "the import runs now" not in page


def test_the_first_50_problems_are_shown_then_the_download(client, login, world):
    login(world.landlord)
    rows = [row(world, room="999") for _ in range(60)]
    job_id = _job_id(_upload(client, csv_bytes(rows)))
    page = _finish_without_js(client, job_id)
    assert page.count("No room 999") == 50
    assert "The first 50 problems are shown; the download holds them all." in page
    download = client.get(f"/residents/import/{job_id}/errors.csv").get_data(as_text=True)
    assert download.count("No room 999") == 60


def test_the_running_notice_goes_when_the_import_is_over(
    client, htmx_client, login, world, session
):
    login(world.landlord)
    resp = _upload(client, csv_bytes([row(world)]))
    job_id = _job_id(resp)
    page = client.get(f"/residents/import/{job_id}").get_data(as_text=True)
    assert "File received; the import runs now." in page  # the upload's flash
    bodies = []
    for q in queues():
        q.step(session)  # the worker reads the file
    bodies.append(htmx_client.get(f"/residents/import/{job_id}").get_data(as_text=True))
    run_worker()
    bodies.append(htmx_client.get(f"/residents/import/{job_id}").get_data(as_text=True))
    assert 'id="flashes"' not in bodies[0]  # still running: the notice is true
    assert "Import finished." in bodies[1]
    assert '<div id="flashes" hx-swap-oob="innerHTML"></div>' in bodies[1]


# --- dates as people write them -----------------------------------------------------------


def test_the_import_reads_the_dates_people_write(session, world, app_ctx):
    day = _today() - timedelta(days=2)
    written = [
        day.isoformat(),
        f"{day:%Y/%m/%d}",
        f"{day:%Y.%m.%d}",
        f"{day.year}年{day.month}月{day.day}日",
        f"{day:%Y%m%d}",
        f"{day.year}/{day.month}/{day.day} 0:00",
    ]
    rows = [row(world, move_in=text) for text in written]
    rows.append(row(world, move_in=datetime(day.year, day.month, day.day)))  # an Excel date cell
    with force_locale("en"):
        result = import_file(session, world.landlord, xlsx_bytes(rows))
    assert (result.imported, result.refused) == (7, 0), result.errors
    assert set(session.scalars(select(Residence.move_in))) == {day}


@pytest.mark.parametrize("written", ["12/05/2026", "2026-13-05", "昨天"])
def test_an_unreadable_import_date_says_which_forms_are_read(session, world, app_ctx, written):
    with force_locale("zh_CN"):
        result = import_file(session, world.landlord, csv_bytes([row(world, move_in=written)]))
    [(line, reason)] = result.errors
    assert line == 2
    if written == "2026-13-05":
        assert reason == "2026-13-05 不是一个真实的日期。"
    else:
        assert "2026/12/05、2026.12.05、2026年12月5日 或 20261205" in reason
    assert "请填写入住日期" not in reason


def _report(client, world, move_in):
    token = csrf_from(client.get("/residents/new").get_data(as_text=True))
    data = {
        "csrf_token": token,
        "room_id": world.room.id,
        "name": "王小明",
        "id_number": id_number(),
        "phone": "13812345678",
        "move_in": move_in,
        "hometown": "",
        "employer": "",
    }
    return client.post("/residents/new", data=data)


def test_the_report_form_reads_the_dates_people_write(client, login, world, session):
    login(world.landlord)
    day = _today() - timedelta(days=1)
    resp = _report(client, world, f"{day.year}年{day.month}月{day.day}日")
    assert resp.status_code == 303
    assert session.scalar(select(Residence.move_in).order_by(Residence.id.desc())) == day
    resp = _report(client, world, "5.12.26")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and UNREADABLE in body


def test_the_move_out_form_reads_the_dates_people_write(client, login, world, session):
    residence = make_residence(
        session,
        room=world.room,
        reporter=world.landlord,
        status="verified",
        decider=world.police,
        move_in=_today() - timedelta(days=5),
    )
    session.commit()
    login(world.landlord)
    token = csrf_from(client.get(f"/residents/{residence.id}").get_data(as_text=True))
    url = f"/residents/{residence.id}/move-out"
    resp = client.post(url, data={"csrf_token": token, "move_out": "yesterday"})
    assert resp.status_code == 422 and UNREADABLE in resp.get_data(as_text=True)
    day = _today() - timedelta(days=1)
    resp = client.post(url, data={"csrf_token": token, "move_out": f"{day:%Y%m%d}"})
    assert resp.status_code == 303
    session.refresh(residence)
    assert residence.move_out == day


def test_the_upload_page_has_no_scrolling_box_and_names_the_date_forms(client, login, world):
    login(world.landlord)
    page = client.get("/residents/import").get_data(as_text=True)
    assert "<pre" not in page and 'class="import-header"' in page
    assert "2026年12月5日" in page and ",".join(HEADER) in page


def test_the_download_has_column_and_masked_value(client, login, world):
    login(world.landlord)
    wrong = _bad_check(id_number())
    job_id = _job_id(_upload(client, csv_bytes([row(world, number=wrong)])))
    _finish_without_js(client, job_id)
    text = client.get(f"/residents/import/{job_id}/errors.csv").get_data(as_text=True)
    header, line = text.splitlines()[:2]
    assert header.lstrip("\ufeff") == "line,column,value,reason"
    assert line.startswith(f"2,id_number,{wrong[:6]}********{wrong[-4:]},") and wrong not in text
