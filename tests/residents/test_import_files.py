"""The import's files: the web import's first step streams the stored upload (an
xlsx by calamine from its path, or through openpyxl's read_only mode when its cells
reach past calamine's bounds; a CSV a line at a time) instead of reading it whole,
and `flask purge-expired` deletes import files older than
IMPORT_RETENTION_HOURS (a job whose file is gone fails with a clear message)."""

from __future__ import annotations

import io
import tracemalloc
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
import python_calamine
from flask_babel import force_locale

from community.core import storage
from community.core.timeutil import utcnow
from community.residents.imports import files, services
from community.residents.imports.files import HEADER, ImportRefused, read_rows
from community.residents.imports.models import ImportJob
from tests.residents.test_imports import csv_bytes, row

ROWS = 1200


@pytest.fixture(autouse=True)
def _setup(app, app_ctx, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_DIR", str(tmp_path / "imports"))
    with force_locale("en"):
        yield


def _write_xlsx(path: Path, world, n: int) -> None:
    """A generated workbook written by openpyxl's write_only mode (no rows held)."""
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(list(HEADER))
    for i in range(n):
        sheet.append(row(world, number=f"bad{i}", room="101"))
    book.save(path)
    book.close()


def _job(session, world, data_path: Path) -> ImportJob:
    job = services.start_import(session, world.landlord, data_path.name, data_path.read_bytes())
    return job


def _refuse_whole_reads(monkeypatch, job: ImportJob) -> None:
    real_read_bytes = Path.read_bytes

    def refuse_whole_read(self):
        if self.name == job.path:
            raise AssertionError("the stored upload was read whole")
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", refuse_whole_read)


def test_first_step_reads_a_stored_xlsx_by_its_path_with_calamine(
    session, world, tmp_path, monkeypatch
):
    source = tmp_path / "big.xlsx"
    _write_xlsx(source, world, ROWS)
    job = _job(session, world, source)
    calls = []
    real_from_path = python_calamine.CalamineWorkbook.from_path

    def spy(path, *args, **kwargs):
        calls.append(path)
        return real_from_path(path, *args, **kwargs)

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", spy)
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: pytest.fail("openpyxl used"))
    _refuse_whole_reads(monkeypatch, job)
    services.run_step(session, world.landlord, job)
    assert job.status == "running" and job.total == ROWS, job.message
    # The stored file itself (its members unpacked as calamine reads them).
    assert len(calls) == 1 and Path(calls[0]).name == job.path
    assert not files.exists(job.path) and files.exists(job.rows_path)


def test_a_sheet_reaching_past_the_bounds_is_streamed_by_openpyxl(
    session, world, tmp_path, monkeypatch
):
    """A cell beyond column AF (or past the row limit) would make calamine hold the
    whole rectangle up to it: such a sheet is read by openpyxl's read_only mode, a row
    at a time, from the stored file (not its bytes copied into memory)."""
    source = tmp_path / "wide.xlsx"
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append([*HEADER, *[None] * 30, "far"])  # a header cell in column AN
    for i in range(ROWS):
        sheet.append(row(world, number=f"bad{i}", room="101"))
    book.save(source)
    job = _job(session, world, source)
    calls = []
    real_load = openpyxl.load_workbook

    def spy(filename, *args, **kwargs):
        calls.append((filename, kwargs))
        return real_load(filename, *args, **kwargs)

    monkeypatch.setattr(openpyxl, "load_workbook", spy)
    monkeypatch.setattr(
        python_calamine.CalamineWorkbook, "from_path", lambda *a: pytest.fail("calamine used")
    )
    _refuse_whole_reads(monkeypatch, job)
    tracemalloc.start()
    try:
        services.run_step(session, world.landlord, job)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert job.status == "running" and job.total == ROWS, job.message
    assert job.message and "AN far" in job.message  # the column not read is named
    assert len(calls) == 1
    opened, kwargs = calls[0]
    assert kwargs["read_only"] is True
    assert hasattr(opened, "seek") and not isinstance(opened, bytes | io.BytesIO)
    # Loading this sheet whole (not read_only) holds every cell (~11,000 objects,
    # about 4.5 MB under tracemalloc); streaming stays near 1 MB whatever the size.
    assert peak < 3 * 1024 * 1024, peak
    assert not files.exists(job.path) and files.exists(job.rows_path)


def test_a_csv_upload_is_read_a_line_at_a_time(session, world, tmp_path, monkeypatch):
    source = tmp_path / "rows.csv"
    source.write_bytes(csv_bytes([row(world) for _ in range(5)], bom=True))
    job = _job(session, world, source)
    monkeypatch.setattr(files, "_csv_rows", lambda data: pytest.fail("read as bytes"))
    services.run_step(session, world.landlord, job)
    assert (job.status, job.total) == ("running", 5)


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "empty"),
        (b"\x00\x01\x02binary\xff\xfe", "not a spreadsheet"),
        (b"PK\x03\x04broken zip", "not a spreadsheet"),
        ("name,phone\n张三,1\n".encode(), "missing: site_id"),
        (",".join(HEADER).encode() + b"\n1,A,101,\x00,x,,,,\n", "not a spreadsheet"),
        (",".join(HEADER).encode() + b"\n1,A,101,\xff\xfe,x,,,,\n", "not a spreadsheet"),
    ],
)
def test_a_stored_file_is_refused_as_the_bytes_are(tmp_path, data, words):
    path = tmp_path / "upload"
    path.write_bytes(data)
    with pytest.raises(ImportRefused) as caught:
        list(read_rows(path))
    assert words in caught.value.message


def test_file_over_the_limit_is_refused_before_reading(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 10)
    path = tmp_path / "upload"
    path.write_bytes(",".join(HEADER).encode())
    with pytest.raises(ImportRefused, match="larger than"):
        list(read_rows(path))


# --- purge-expired -------------------------------------------------------------------------


@pytest.fixture(params=storage.BACKEND_NAMES)
def backend(request, app, monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE_BACKEND", request.param)
    return request.param


def _stored(key: str, hours: float) -> str:
    storage.save(files.IMPORTS, key, b"x")
    storage.set_modified(files.IMPORTS, key, utcnow() - timedelta(hours=hours))
    return key


def test_purge_expired_deletes_old_import_files_only(app, session, world, backend):
    old = [_stored(f"{'a' * 32}.upload", 25), _stored(f"{'b' * 32}.rows.csv", 25)]
    old.append(_stored(f"{'c' * 32}.{'f' * 32}.rows.csv", 25))
    old.append(_stored(f"{'c' * 32}.errors.csv", 25))
    fresh = _stored(f"{'d' * 32}.upload", 23)
    foreign = _stored("notes.txt", 25)
    result = app.test_cli_runner().invoke(args=["purge-expired"])
    assert result.exit_code == 0, result.output
    assert "import files deleted (after 24 hours): 4" in result.output
    assert storage.keys(files.IMPORTS) == sorted([fresh, foreign])


def test_retention_follows_the_setting(app, session, world, monkeypatch, backend):
    monkeypatch.setitem(app.config, "IMPORT_RETENTION_HOURS", 48)
    kept = _stored(f"{'e' * 32}.upload", 25)
    assert files.purge_import_files() == 0 and files.exists(kept)
    storage.set_modified(files.IMPORTS, kept, utcnow() - timedelta(hours=49))
    assert files.purge_import_files() == 1 and not files.exists(kept)


def test_a_job_recorded_with_full_paths_still_finds_its_files(session, world, tmp_path, app):
    """Jobs stored before core.storage recorded full paths under IMPORT_DIR."""
    source = tmp_path / "rows.csv"
    source.write_bytes(csv_bytes([row(world) for _ in range(3)]))
    job = _job(session, world, source)
    job.path = str(Path(app.config["IMPORT_DIR"]) / job.path)
    services.run_step(session, world.landlord, job)
    assert (job.status, job.total) == ("running", 3) and not files.exists(job.path)


def test_a_job_whose_files_were_purged_fails_with_a_message(session, world, tmp_path):
    source = tmp_path / "rows.csv"
    source.write_bytes(csv_bytes([row(world) for _ in range(3)]))
    job = _job(session, world, source)
    services.run_step(session, world.landlord, job)
    files.unlink(job.rows_path)
    services.run_step(session, world.landlord, job)
    assert job.status == "failed"
    assert "no longer kept" in job.message and job.imported == 0
