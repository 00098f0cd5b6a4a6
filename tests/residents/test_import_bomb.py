"""A spreadsheet that unpacks far past its size (a zip bomb) is refused from its zip
directory, in well under the server's timeout, before openpyxl reads a byte of it;
one whose directory lies about a member's size is read no further than declared."""

from __future__ import annotations

import io
import re
import struct
import time
import zipfile
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from community.core import storage
from community.core.jobs import queues
from community.residents.imports import files
from community.residents.imports.models import ImportJob
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import get_user

_MEMBERS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
        '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
        '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.'
        'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" '
        'r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}
SHEET = "xl/worksheets/sheet1.xml"


def xlsx_with_sheet(xml: str) -> bytes:
    """A workbook of one sheet whose XML is `xml`, deflated."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in _MEMBERS.items():
            archive.writestr(name, text)
        archive.writestr(SHEET, xml)
    return out.getvalue()


def _bomb(path: Path, inflated: int) -> Path:
    """An xlsx whose sheet (no <dimension> element) repeats one row until it holds
    `inflated` bytes, written a block at a time: a few hundred KB on disk."""
    head = (
        b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats'
        b'.org/spreadsheetml/2006/main"><sheetData>'
    )
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    block = row * (1024 * 1024 // len(row))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in _MEMBERS.items():
            archive.writestr(name, text)
        with archive.open(SHEET, "w", force_zip64=inflated > 2**31) as sheet:
            sheet.write(head)
            written = len(head)
            while written < inflated:
                sheet.write(block)
                written += len(block)
            sheet.write(b"</sheetData></worksheet>")
    return path


def _lie_about_the_sheet(path: Path, declared: int) -> None:
    """Write `declared` as the sheet's unpacked size in its local header and in the
    central directory (the data still unpacks to what it holds)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        offset = archive.getinfo(SHEET).header_offset
    assert data[offset : offset + 4] == b"PK\x03\x04"
    struct.pack_into("<I", data, offset + 22, declared)
    name = SHEET.encode()
    at = data.find(b"PK\x01\x02")
    while at != -1:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + length] == name:
            struct.pack_into("<I", data, at + 24, declared)
            break
        at = data.find(b"PK\x01\x02", at + 4)
    assert at != -1
    path.write_bytes(bytes(data))


@pytest.fixture(autouse=True)
def _import_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_DIR", str(tmp_path / "imports"))


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> bytes:
    """128 MB of sheet XML in about 400 KB: over 100 times compressed (and under
    the test client's 500 KB spooling threshold)."""
    return _bomb(tmp_path_factory.mktemp("bomb") / "bomb.xlsx", 128 * 1024 * 1024).read_bytes()


@pytest.fixture(scope="module")
def liar(tmp_path_factory) -> bytes:
    """100 MB of sheet XML whose zip directory says twice its packed size."""
    path = _bomb(tmp_path_factory.mktemp("liar") / "liar.xlsx", 100 * 1024 * 1024)
    with zipfile.ZipFile(path) as archive:
        packed = archive.getinfo(SHEET).compress_size
    _lie_about_the_sheet(path, packed * 2)
    return path.read_bytes()


def _upload(client, data: bytes):
    token = csrf_from(client.get("/residents/import").get_data(as_text=True))
    form = {"csrf_token": token, "file": (io.BytesIO(data), "residents.xlsx")}
    return client.post("/residents/import", data=form, content_type="multipart/form-data")


def _login_works_at_once(app, username: str) -> None:
    other = app.test_client()
    with other.session_transaction() as sess:
        sess["locale"] = "en"
    token = csrf_from(other.get("/login").get_data(as_text=True))
    started = time.monotonic()
    resp = other.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert resp.status_code == 303 and time.monotonic() - started < 2


def _step(session):
    """One worker step (the job's first: reading the file); whether it worked, and how
    long it took."""
    started = time.monotonic()
    worked = any(q.step(session) for q in queues())
    return worked, time.monotonic() - started


def test_a_zip_bomb_upload_is_refused_at_once_naming_the_limit(
    app, client, login, world, bomb, session
):
    assert len(bomb) < 500 * 1024
    login(world.landlord)
    started = time.monotonic()
    resp = _upload(client, bomb)
    elapsed = time.monotonic() - started
    assert resp.status_code == 422, resp.status_code
    body = resp.get_data(as_text=True)
    assert "compressed more than 100 times over" in body
    assert elapsed < 2, elapsed
    assert session.scalar(select(ImportJob.id)) is None
    assert not any((Path(app.config["IMPORT_DIR"])).glob("*"))
    assert storage.keys(files.IMPORTS) == []  # nor in the database (STORAGE_BACKEND)
    _login_works_at_once(app, world.police.username)


def test_an_upload_unpacking_past_the_limit_is_refused_naming_it(
    app, client, login, world, monkeypatch
):
    monkeypatch.setitem(app.config, "IMPORT_MAX_INFLATED_BYTES", 2 * 1024 * 1024)
    login(world.landlord)
    # 3 MB of sheet XML, packed about 40 times: only the unpacked size is at fault.
    rows = "".join(
        f'<row><c t="inlineStr"><is><t>{i:08d}{i * 7919 % 99991:05d}</t></is></c></row>'
        for i in range(60000)
    )
    resp = _upload(client, xlsx_with_sheet(f"<worksheet><sheetData>{rows}</sheetData></worksheet>"))
    assert resp.status_code == 422
    assert "This spreadsheet unpacks to more than 2 MB" in resp.get_data(as_text=True)


def test_a_stored_zip_bomb_fails_its_job_at_the_first_step(
    app, client, login, world, bomb, session
):
    """A bomb already stored (uploaded before the check, or put there by a worker) ends
    its job at the first step, at once: refused, not queued for ever."""
    login(world.landlord)
    user = get_user(session, world.landlord.username)
    path = str(files.store_upload(bomb))
    job = ImportJob(user_id=user.id, filename="bomb.xlsx", path=path, locale="en")
    session.add(job)
    session.commit()
    worked, elapsed = _step(session)
    assert worked and elapsed < 2, elapsed
    session.refresh(job)
    assert job.status == "failed" and "compressed more than 100 times over" in job.message
    assert (job.runner, job.rows_path) == (None, None)
    assert not files.exists(job.path)
    _login_works_at_once(app, world.police.username)


def test_a_zip_lying_about_its_sheet_size_is_read_no_further_than_declared(
    app, client, login, world, liar, session
):
    login(world.landlord)
    started = time.monotonic()
    resp = _upload(client, liar)
    assert resp.status_code == 303 and time.monotonic() - started < 2
    job_id = int(re.search(r"/residents/import/(\d+)", resp.headers["Location"]).group(1))
    worked, elapsed = _step(session)
    assert worked and elapsed < 2, elapsed
    job = session.get(ImportJob, job_id)
    session.refresh(job)
    assert job.status == "failed" and "not a spreadsheet" in job.message
    _login_works_at_once(app, world.police.username)


def test_reading_stops_past_the_row_limit(app, world, monkeypatch, tmp_path):
    from tests.residents.test_imports import csv_bytes, row, xlsx_bytes

    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 5)
    for data in (csv_bytes([row(world)] * 6), xlsx_bytes([row(world)] * 6)):
        with force_locale("en"), pytest.raises(files.ImportRefused, match="more than 5 lines"):
            list(files.read_rows(data))
    # The limit counts the rows below the header.
    for data in (csv_bytes([row(world)] * 5), xlsx_bytes([row(world)] * 5)):
        assert len(list(files.read_rows(data))) == 5
