"""The import's reader (files.py) at its bounds: an xlsx is read by python-calamine
only when its cells provably lie within the rows and columns it may hold (a cell
far out would make calamine ask for gigabytes and abort the worker), else by
openpyxl a row at a time, both giving the same rows; a zip that unpacks past the
limit is refused from its directory before any reader opens it; a job's steps read
their chunk from the rows file's index, not by reading every row before it."""

from __future__ import annotations

import io
import subprocess
import sys
import time
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import python_calamine
from flask_babel import force_locale

from community.core import storage
from community.residents.imports import files, services
from community.residents.imports.files import ImportRefused, read_rows
from tests.residents.test_import_bomb import SHEET, _lie_about_the_sheet, xlsx_with_sheet
from tests.residents.test_imports import row

CHINESE_HEADER = ["场所编号", "楼栋", "房号", "姓名", "身份证号码", "手机号码", "入住日期"]


@pytest.fixture(autouse=True)
def _setup(app, app_ctx, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_DIR", str(tmp_path / "imports"))
    with force_locale("en"):
        yield


def _no_reader(monkeypatch) -> None:
    """Fail the test if either xlsx reader opens the file."""
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: pytest.fail("openpyxl read"))
    for name in ("from_path", "from_filelike"):
        monkeypatch.setattr(
            python_calamine.CalamineWorkbook, name, lambda *a, **k: pytest.fail("calamine read")
        )


def _far_cell_xlsx(path: Path, world, far: str, rows: int = 3) -> Path:
    """A template-like sheet (a title row, the Chinese header from column B, date
    cells) with one more cell at `far`."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "住户登记"
    sheet["B1"] = "2026年12月住户登记表"
    sheet.append([None, *CHINESE_HEADER])
    for i in range(rows):
        cells = row(world, room=str(101 + i))[:7]
        cells[6] = date.fromisoformat(cells[6])  # a date cell
        sheet.append([None, *cells])
    sheet[far] = "x"
    book.save(path)
    return path


def _read(path: Path) -> tuple[tuple[str, ...], list[tuple[int, list[str]]]]:
    layout, rows = files.open_rows(path)
    return layout.ignored, list(rows)


def test_calamine_and_openpyxl_read_a_sheet_alike(world, tmp_path, monkeypatch):
    """Title row, a header from column B, an extra column, date cells: the same rows,
    line numbers and ignored columns from either reader."""
    path = tmp_path / "in-bounds.xlsx"
    _far_cell_xlsx(path, world, "J9")  # column J: in bounds, an unnamed extra column
    with path.open("rb") as f:
        assert files._calamine_fits(f)
    by_calamine = _read(path)
    monkeypatch.setattr(files, "_calamine_fits", lambda opened: False)
    by_openpyxl = _read(path)
    assert by_calamine == by_openpyxl
    ignored, rows = by_calamine
    # Row 9 holds a cell under no header only: an empty row, skipped.
    assert [line for line, _cells in rows] == [3, 4, 5]
    first = rows[0][1]
    assert first[:4] == [str(world.site.id), "A座", "101", "张三"]
    assert first[6] == row(world)[6]  # the date cell read as the day (YYYY-MM-DD)
    assert ignored == ()  # the title is no column; J's header cell is empty


@pytest.mark.parametrize("far", ["XFD5", "A1048576", "AG3"])
def test_a_cell_far_out_is_read_by_openpyxl_not_calamine(world, tmp_path, monkeypatch, far):
    """A 5 KB file with a cell at XFD1048576 would make calamine allocate 550 GB and
    abort the process: it is read by openpyxl (the first row past the limit refuses
    the file; a far column is not read)."""
    path = _far_cell_xlsx(tmp_path / "far.xlsx", world, far)
    assert path.stat().st_size < 10_000
    with path.open("rb") as f:
        assert not files._calamine_fits(f)
    monkeypatch.setattr(
        python_calamine.CalamineWorkbook, "from_path", lambda *a: pytest.fail("calamine")
    )
    if far == "A1048576":
        monkeypatch.setitem(files.current_app.config, "IMPORT_MAX_ROWS", 50)
        with pytest.raises(ImportRefused, match="more than 50 lines"):
            _read(path)
        return
    ignored, rows = _read(path)
    assert [line for line, _cells in rows] == [3, 4, 5]
    assert ignored == ()


def test_a_sheet_calamine_would_misplace_goes_to_openpyxl(tmp_path):
    """Cells without their reference, or in a prefixed namespace, are placed by
    counting (a row r="1048576" puts them there): such a sheet is not calamine's."""
    for cell in ('<c t="inlineStr"><is><t>x</t></is></c>', '<x:c r="A1"><x:v>1</x:v></x:c>'):
        text = f'<worksheet><sheetData><row r="1048576">{cell}</row></sheetData></worksheet>'
        assert not files._calamine_fits(io.BytesIO(xlsx_with_sheet(text)))


def test_the_bounds_check_runs_in_a_worker_that_survives(world, tmp_path):
    """The far-out file read in a separate interpreter (as a worker would): it ends
    normally, never killed by an allocation failure."""
    path = _far_cell_xlsx(tmp_path / "far.xlsx", world, "XFD1048576")
    code = (
        "import sys, zipfile; sys.path.insert(0, '.');"
        "from community.residents.imports import files;"
        "files.max_rows = lambda: 100000;"
        f"print(files._calamine_fits(open({str(path)!r}, 'rb')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"


def test_an_xlsx_unpacking_past_the_default_limit_is_refused_unread(
    app, world, tmp_path, monkeypatch
):
    """By default an xlsx may unpack to INFLATED_TIMES the largest upload: here 8 MB
    for 1 MB; 10 MB of sheet XML packed 13 times (under 1 MB) is refused from its
    directory, before either reader opens it."""
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 1024 * 1024)
    monkeypatch.setitem(app.config, "IMPORT_MAX_INFLATED_BYTES", 0)
    rows = "".join(
        f'<row><c t="inlineStr"><is><t>{i % 1000 * 7919 % 99991:05d}</t></is></c></row>'
        for i in range(200_000)
    )
    data = xlsx_with_sheet(f"<worksheet><sheetData>{rows}</sheetData></worksheet>")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(SHEET)
    assert len(data) < 1024 * 1024 and info.file_size > 8 * 1024 * 1024
    assert info.file_size < files.MAX_RATIO * info.compress_size  # no bomb by its ratio
    _no_reader(monkeypatch)
    with pytest.raises(ImportRefused, match="unpacks to more than 8 MB"):
        list(read_rows(data))


def test_a_tiny_xlsx_declaring_gigabytes_is_refused_at_once(world, tmp_path, monkeypatch):
    """A few hundred bytes whose directory says the sheet unpacks to 4 GB: refused by
    that size alone (no reader opened, nothing unpacked), in well under a second."""
    path = tmp_path / "declares.xlsx"
    path.write_bytes(xlsx_with_sheet("<worksheet><sheetData></sheetData></worksheet>"))
    _lie_about_the_sheet(path, 4_000_000_000)
    assert path.stat().st_size < 2000
    _no_reader(monkeypatch)
    monkeypatch.setattr(files, "_calamine_fits", lambda opened: pytest.fail("unpacked"))
    started = time.monotonic()
    with pytest.raises(ImportRefused) as refused:
        list(read_rows(path.read_bytes()))
    assert time.monotonic() - started < 1
    assert "compressed more than 100 times over" in refused.value.message


def _prepared(session, world, data: bytes):
    job = services.start_import(session, world.landlord, "rows.csv", data)
    services.run_step(session, world.landlord, job)
    assert job.status == "running" and job.rows_path, job.message
    return job


def _csv(rows) -> bytes:
    from tests.residents.test_imports import csv_bytes

    return csv_bytes(rows)


def test_each_step_reads_its_chunk_from_the_index(session, world, monkeypatch):
    people = [row(world, name=f"住户{i}", room=("101", "102")[i % 2]) for i in range(25)]
    job = _prepared(session, world, _csv(people))
    assert files.exists(files._index_key(job.rows_path))
    expected = [(i + 2, people[i]) for i in range(25)]

    def shown(chunk):
        return [(line, cells[:9]) for line, cells in chunk]

    def compare(start, size):
        found = shown(files.read_chunk(job.rows_path, start, size))
        want = [(line, [str(c) for c in cells]) for line, cells in expected[start : start + size]]
        assert found == want

    for start in (0, 7, 24):
        compare(start, 7)
    assert files.read_chunk(job.rows_path, 25, 7) == []
    # Read from the indexed place: the rows before it are never parsed.
    parsed = []
    real_reader = files.csv.reader
    monkeypatch.setattr(files.csv, "reader", lambda f: parsed.append(1) or real_reader(f))
    files.read_chunk(job.rows_path, 20, 5)
    assert len(parsed) == 1


def test_a_rows_file_without_an_index_is_read_from_its_start(session, world):
    """A job whose rows file was written before the index (still within retention)."""
    people = [row(world, name=f"住户{i}") for i in range(5)]
    job = _prepared(session, world, _csv(people))
    storage.delete_file(files.IMPORTS, files._index_key(job.rows_path))
    assert [line for line, _c in files.read_chunk(job.rows_path, 3, 10)] == [5, 6]


def test_the_index_goes_with_its_rows_file(session, world):
    job = _prepared(session, world, _csv([row(world)]))
    index = files._index_key(job.rows_path)
    files.unlink(job.rows_path)
    assert not files.exists(job.rows_path) and not storage.exists(files.IMPORTS, index)
    assert files._JOB_FILE.match(index)  # purge-expired deletes an abandoned one too
