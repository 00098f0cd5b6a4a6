"""The files of a residents import: a spreadsheet (CSV in UTF-8 or GB18030, or xlsx;
its bytes or a stored upload, streamed) read after checking its size, kind, text
encoding and header row (mapped through columns.py: Chinese or English names, any
order), and the files a web import job keeps in core.storage (kind "imports": under
IMPORT_DIR, or in the database) — the upload, the rows read from it, the refused
rows' problems — with their retention.

A job records its files by their storage keys (`<32 hex>.upload`, `.<runner>.rows.csv`,
`.errors.csv`); jobs stored before that hold full paths under IMPORT_DIR, read as
the key of their last part."""

from __future__ import annotations

import array
import codecs
import csv
import io
import itertools
import os
import re
import secrets
import sys
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app, has_request_context, stream_with_context
from flask_babel import gettext as _

from community.core import storage
from community.core.crypto import mask_id_number, mask_phone
from community.core.timeutil import utcnow
from community.core.validators import normalize_id_number
from community.residents.imports import columns
from community.residents.imports.columns import FIELDS, HeaderProblem, Layout
from community.residents.imports.models import ImportJob

# The contract header (DESIGN.md), from the table of columns.
HEADER = columns.HEADER
CHUNK = 2000
IMPORTS = "imports"
storage.define_kind(IMPORTS, "IMPORT_DIR", "imports")
# The refused rows the job page lists (the rest are in the download).
SHOWN_PROBLEMS = 50
# What the job page calls each field (a problem names its field).
COLUMN_LABELS = columns.LABELS
# The sheet of a workbook read when it has one of these names (else the first).
SHEET_NAMES = ("住户登记", "residents")
# The text encodings of a CSV file, tried in this order, each strictly: GB18030 covers
# GBK and GB2312 (Excel's "CSV" on a Chinese Windows); Chinese text in GB18030 bytes
# is almost never valid UTF-8, so trying UTF-8 first does not misread it.
ENCODINGS = ("utf-8-sig", "gb18030")
# Rows above the header that name no column (a title, a blank line) passed over.
TITLE_ROWS = 3


class ImportRefused(Exception):
    """The whole file is refused (nothing imported): the message says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Problem:
    """One reason a row was refused: its line in the file, the column at fault (a
    field of columns.FIELDS; "" for the whole row), the value written there as it may
    be shown (masked when personal: names, ID number, phone) and why."""

    line: int
    column: str
    value: str
    reason: str


def shown_value(column: str, raw: str) -> str:
    """A cell's value as the refused-rows list may show it: the uploader sees the
    line number, so the masked value is enough to find the cell."""
    raw = " ".join((raw or "").split())
    if column == "id_number":
        return mask_id_number(normalize_id_number(raw))
    if column == "phone":
        return mask_phone(raw)
    if column in ("name", "latin_name"):
        return raw[:1] + "*" * min(len(raw) - 1, 3) if raw else ""
    return raw[:60]


def max_bytes() -> int:
    return int(current_app.config.get("IMPORT_MAX_BYTES", 20 * 1024 * 1024))


def max_rows() -> int:
    """The most rows a file may hold below its header (blank ones included): reading
    stops at the first one past it."""
    return int(current_app.config.get("IMPORT_MAX_ROWS", 100_000))


def max_inflated_bytes() -> int:
    """The most an xlsx may unpack to, all its members together: by default
    INFLATED_TIMES the largest file accepted (IMPORT_MAX_BYTES; 160 MB), room for
    max_rows() rows of every column the template writes (100,000 rows of its nine
    contract columns, filled by openpyxl, unpack to 47 MB). The bound on the time and
    memory of the first step, refused from the zip directory before a byte is
    unpacked (check_zip)."""
    configured = current_app.config.get("IMPORT_MAX_INFLATED_BYTES")
    return int(configured or INFLATED_TIMES * max_bytes())


# An xlsx member compressed more than this many times over is refused unread (a zip
# bomb): real sheets compress 5-20 times; members smaller than RATIO_FROM are not judged.
MAX_RATIO = 100
RATIO_FROM = 1024 * 1024
INFLATED_TIMES = 8


def _not_spreadsheet() -> ImportRefused:
    return ImportRefused(
        _("This file is not a spreadsheet: upload a CSV (UTF-8 or GB18030/GBK) or xlsx file.")
    )


def _not_text() -> ImportRefused:
    return ImportRefused(
        _(
            "This file is not a spreadsheet in a text encoding the import reads: save the "
            "CSV as UTF-8 or GB18030 (GBK), or upload an xlsx file."
        )
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _layout(line: int, first: list[str]) -> Layout:
    try:
        return columns.layout(first, line)
    except HeaderProblem as exc:
        raise ImportRefused(exc.message) from None


def _csv_reader(lines) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(lines)
    try:
        for row in reader:
            if any("\x00" in cell for cell in row):
                raise _not_text()  # UTF-16 (Excel's "Unicode text"), or binary
            yield reader.line_num, row
    except (csv.Error, UnicodeDecodeError) as exc:
        raise _not_spreadsheet() from exc


def _decodes(pieces: Iterable[bytes], encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        for piece in pieces:
            decoder.decode(piece)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _encoding(opener: Opener) -> str:
    """The first of ENCODINGS the whole file decodes in, strictly (read in pieces,
    never whole); _not_text() when none. A file starting with UTF-8's byte order mark
    that is no UTF-8 is refused too (not read as GB18030)."""
    with opener() as f:
        bom = f.read(3) == codecs.BOM_UTF8
    for encoding in ENCODINGS if not bom else ENCODINGS[:1]:
        with opener() as f:
            if _decodes(iter(lambda f=f: f.read(256 * 1024), b""), encoding):
                return encoding
    raise _not_text()


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    encoding = _encoding(lambda: io.BytesIO(data))
    text = data.decode(encoding)
    if "\x00" in text:
        raise _not_text()
    yield from _csv_reader(io.StringIO(text, newline=""))


Opener = Callable[[], Any]  # opens a binary, seekable stream of the file


def _csv_file_rows(opener: Opener) -> Iterator[tuple[int, list[str]]]:
    """A CSV file read a line at a time, in the encoding it decodes in (_encoding)."""
    encoding = _encoding(opener)
    with io.TextIOWrapper(opener(), encoding=encoding, newline="") as f:
        yield from _csv_reader(f)


def check_zip(opened: Any) -> None:
    """Refuse an xlsx by its zip directory alone, before anything is unpacked: more
    than max_inflated_bytes() unpacked (members together, as the directory declares
    them: zipfile never unpacks a member past its declared size, and a member whose
    data says otherwise fails its CRC check), or a large member compressed more than
    MAX_RATIO times over. ImportRefused with the limit; _not_spreadsheet() for a file
    that is no zip."""
    try:
        with zipfile.ZipFile(opened) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _not_spreadsheet() from exc
    for member in members:
        if member.file_size > RATIO_FROM and member.file_size > MAX_RATIO * max(
            member.compress_size, 1
        ):
            raise ImportRefused(
                _(
                    "This spreadsheet is compressed more than %(ratio)d times over, which "
                    "no real sheet is; save it again from your spreadsheet program or as CSV.",
                    ratio=MAX_RATIO,
                )
            )
    limit = max_inflated_bytes()
    if sum(m.file_size for m in members) > limit:
        raise ImportRefused(
            _(
                "This spreadsheet unpacks to more than %(mb)d MB; split it into smaller "
                "files or save it as CSV.",
                mb=max(1, limit // (1024 * 1024)),
            )
        )


def check_upload(data: bytes) -> None:
    """An uploaded xlsx refused at once when its zip directory says it unpacks too far
    (check_zip); any other file is judged by the job's first step."""
    if data[:4] == b"PK\x03\x04" and zipfile.is_zipfile(io.BytesIO(data)):
        check_zip(io.BytesIO(data))


# An xlsx sheet is read by python-calamine (Rust: a 100,000-row sheet in about a second,
# where openpyxl's read_only mode takes fifteen) when its cells provably lie within
# rows 1..max_rows() + LEAD_ROWS and columns A..AF: calamine holds the sheet's cells
# as one grid as large as the rectangle they span, so a cell at XFD1048576 would ask
# for 550 GB and abort the process. Every other sheet (a cell further out, a cell
# without its reference, a prefixed namespace) is read by openpyxl, a row at a time.
MAX_COLUMNS = 32  # A..AF
# openpyxl reads no column past BL (its rows are padded to the sheet's widest).
READ_COLUMNS = 64
_COLUMN_IN_BOUNDS = rb"(?:[A-Z]|A[A-F])"
# The header and the title rows above it, and one row past the limit (read_rows then
# sees the file is too long).
LEAD_ROWS = TITLE_ROWS + 2
_CELL_TAG = re.compile(rb"<c[\s/>]")
_PREFIXED_CELL_TAG = re.compile(rb":c[\s/>]")
_CELL_IN_BOUNDS = re.compile(rb'<c r="' + _COLUMN_IN_BOUNDS + rb'[1-9][0-9]{0,6}"')
_LONG_ROW = re.compile(rb'<c r="' + _COLUMN_IN_BOUNDS + rb'([1-9][0-9]{5,6})"')
SCAN_PIECE = 1024 * 1024


def _sheet_in_bounds(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    """True when every cell of a worksheet names its place (r="B12", first) within
    MAX_COLUMNS columns and max_rows() + LEAD_ROWS rows: a scan of its XML, unpacked a
    piece at a time (never held whole), counting cell tags and the in-bounds
    references. A '<' never appears in XML text, so a piece cut before its last '<'
    holds whole tags; a prefixed cell tag (":c ") or any other odd form counts as a
    cell without an in-bounds reference (the openpyxl path: slower, never unsafe)."""
    limit = max_rows() + LEAD_ROWS

    def fits(data: bytes) -> bool:
        cells = len(_CELL_TAG.findall(data)) + len(_PREFIXED_CELL_TAG.findall(data))
        return cells == len(_CELL_IN_BOUNDS.findall(data)) and all(
            int(row) <= limit for row in _LONG_ROW.findall(data)
        )

    tail = b""
    with archive.open(member) as sheet:
        while piece := sheet.read(SCAN_PIECE):
            data = tail + piece
            cut = data.rfind(b"<")
            if cut == -1:
                cut = len(data)
            data, tail = data[:cut], data[cut:]
            if not fits(data):
                return False
    return fits(tail)


def _calamine_fits(opened: Any) -> bool:
    """python-calamine is installed and every worksheet of the workbook is in bounds
    (_sheet_in_bounds; all of them: which one is read is decided by its name)."""
    try:
        import python_calamine  # noqa: F401
    except ImportError:  # pragma: no cover - a dependency (pyproject.toml)
        return False
    with zipfile.ZipFile(opened) as archive:
        sheets = [
            m
            for m in archive.infolist()
            if m.filename.startswith("xl/worksheets/") and m.filename.endswith(".xml")
        ]
        return bool(sheets) and all(_sheet_in_bounds(archive, m) for m in sheets)


def _xlsx_rows(source: bytes | Opener) -> Iterator[tuple[int, list[str]]]:
    """The rows of the sheet named one of SHEET_NAMES (else the first sheet), the
    first max_rows() + LEAD_ROWS at most. The zip directory is checked first
    (check_zip: nothing unpacked), then the sheets' cell references
    (_calamine_fits: unpacked a piece at a time); then python-calamine reads the
    sheet, or openpyxl's read_only mode streams it. A stored file is opened, never
    read whole: calamine reads a file on disk by its path (the zip's members unpacked
    as they are read), openpyxl a file object."""
    opened: Any = io.BytesIO(source) if isinstance(source, bytes) else source()
    try:
        if not zipfile.is_zipfile(opened):
            raise _not_spreadsheet()
        opened.seek(0)
        check_zip(opened)
        opened.seek(0)
        try:
            fits = _calamine_fits(opened)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise _not_spreadsheet() from exc
        opened.seek(0)
        yield from (_calamine_rows if fits else _openpyxl_rows)(opened)
    finally:
        opened.close()


def _calamine_rows(opened: Any) -> Iterator[tuple[int, list[str]]]:
    import python_calamine

    path = getattr(opened, "name", None)
    try:
        if isinstance(path, str) and os.path.isfile(path):
            book = python_calamine.CalamineWorkbook.from_path(path)
        else:  # in memory already (bytes), or a stored file of the database backend
            book = python_calamine.CalamineWorkbook.from_filelike(opened)
        with book:
            names = [
                m.name
                for m in book.sheets_metadata
                if m.typ == python_calamine.SheetTypeEnum.WorkSheet
            ]
            if not names:
                raise _not_spreadsheet()
            wanted = {name.casefold() for name in SHEET_NAMES}
            chosen = next((n for n in names if n.strip().casefold() in wanted), names[0])
            sheet = book.get_sheet_by_name(chosen)
    except ImportRefused:
        raise
    except Exception as exc:  # calamine's errors, and OSError or ValueError of the file
        raise _not_spreadsheet() from exc
    # Rows come from the sheet's first row on (the empty ones above its cells too);
    # columns from the first column holding a cell: padded back to column A.
    pad = [""] * (sheet.start[1] if sheet.start else 0)
    limit = max_rows() + LEAD_ROWS
    for number, row in enumerate(sheet.iter_rows(), start=1):
        if number > limit:
            break
        yield number, pad + [_cell(v) for v in row]


def _openpyxl_rows(opened: Any) -> Iterator[tuple[int, list[str]]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(opened, read_only=True, data_only=True)
        sheet = _sheet(book)
        rows = sheet.iter_rows(
            max_row=max_rows() + LEAD_ROWS, max_col=READ_COLUMNS, values_only=True
        )
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise _not_spreadsheet() from exc
    try:
        for number, row in enumerate(rows, start=1):
            yield number, [_cell(v) for v in row]
    except Exception as exc:
        raise _not_spreadsheet() from exc
    finally:
        book.close()


def _sheet(book: Any) -> Any:
    wanted = {name.casefold() for name in SHEET_NAMES}
    for name in book.sheetnames:
        if name.strip().casefold() in wanted:
            return book[name]
    return book.worksheets[0]


def _too_big() -> ImportRefused:
    return ImportRefused(
        _("The file is larger than %(mb)d MB.", mb=max(1, max_bytes() // (1024 * 1024)))
    )


def _opened_rows(size: int, opener: Opener) -> Iterator[tuple[int, list[str]]]:
    if size > max_bytes():
        raise _too_big()
    if size == 0:
        raise ImportRefused(_("The file is empty."))
    with opener() as f:
        head = f.read(4)
    return _xlsx_rows(opener) if head == b"PK\x03\x04" else _csv_file_rows(opener)


def _source_rows(source: bytes | Path) -> Iterator[tuple[int, list[str]]]:
    if isinstance(source, bytes):
        if len(source) > max_bytes():
            raise _too_big()
        if not source.strip():
            raise ImportRefused(_("The file is empty."))
        head = source[:4]
        return _xlsx_rows(source) if head == b"PK\x03\x04" else _csv_rows(source)
    path = Path(source)
    return _opened_rows(path.stat().st_size, lambda: path.open("rb"))


def open_rows(source: bytes | Path) -> tuple[Layout, Iterator[tuple[int, list[str]]]]:
    """The layout of a CSV or xlsx file's header row (its bytes, or its path: then
    streamed, neither kind read whole into memory) and its data rows (line number,
    cells in columns.FIELDS order), after checking its size, kind and encoding.
    ImportRefused at once for a file that is too big, empty, not a spreadsheet, in
    another encoding or whose header names two columns alike or misses a required
    one; an xlsx that unpacks too far (check_zip); at the first line past max_rows()
    while the rows are read."""
    return _checked(_source_rows(source))


def read_rows(source: bytes | Path) -> Iterator[tuple[int, list[str]]]:
    """open_rows's data rows (refusing the file at the first row read)."""
    _layout_found, rows = open_rows(source)
    yield from rows


def open_stored_rows(key: str) -> tuple[Layout, Iterator[tuple[int, list[str]]]]:
    """open_rows of a stored upload (its key, or its old full path), streamed from the
    storage backend; FileNotFoundError when it is no longer kept."""
    key = _key(key)
    info = storage.stat(IMPORTS, key)
    if info is None:
        raise FileNotFoundError(key)
    return _checked(_opened_rows(info.size, lambda: storage.open_file(IMPORTS, key)))


def read_stored_rows(key: str) -> Iterator[tuple[int, list[str]]]:
    _layout_found, rows = open_stored_rows(key)
    yield from rows


def _checked(
    rows: Iterator[tuple[int, list[str]]],
) -> tuple[Layout, Iterator[tuple[int, list[str]]]]:
    first = next(rows, None)
    if first is None:
        raise ImportRefused(_("The file is empty."))
    # A title row ("2026年12月住户登记表") or a blank line above the header is passed
    # over: the header is the first of the first TITLE_ROWS + 1 rows naming a field.
    found = first
    for _skipped in range(TITLE_ROWS):
        if columns.names_a_field(found[1]):
            break
        found = next(rows, None)
        if found is None:
            break
    if found is None or not columns.names_a_field(found[1]):
        found = first  # no header anywhere: the first row is named as missing them
    layout = _layout(*found)
    return layout, _data_rows(rows, layout)


def _clean(field: str, cell: str) -> str:
    """columns.clean_cell, at once for a cell of printable ASCII without a space (most
    cells: numbers, codes, dates), which it leaves as it is."""
    if cell.isascii() and cell.isprintable() and " " not in cell:
        return cell
    return columns.clean_cell(field, cell)


def _data_rows(
    rows: Iterator[tuple[int, list[str]]], layout: Layout
) -> Iterator[tuple[int, list[str]]]:
    """The rows in FIELDS order, each cell cleaned (columns.clean_cell); a row whose
    read cells are all empty is skipped (a numbered but empty line, a blank line).
    ImportRefused at the first row past max_rows() below the header."""
    limit = max_rows()
    read_so_far = 0
    for line, cells in rows:
        read_so_far += 1
        if read_so_far > limit:
            raise ImportRefused(
                _("The file has more than %(rows)d lines; split it into smaller files.", rows=limit)
            )
        # _clean inlined: 16 cells a row, 100,000 rows.
        read = [
            c if c.isascii() and c.isprintable() and " " not in c else columns.clean_cell(f, c)
            for f, c in zip(FIELDS, layout.cells(cells), strict=True)
        ]
        if any(read):
            yield line, read


def chunks(
    rows: Iterable[tuple[int, list[str]]], size: int = CHUNK
) -> Iterator[list[tuple[int, list[str]]]]:
    batch: list[tuple[int, list[str]]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _key(stored: str) -> str:
    """The storage key of a job's file: the key itself, or the last part of the full
    path an older job recorded (its file is still in IMPORT_DIR under that name)."""
    return os.path.basename(stored)


def _stem(stored: str) -> str:
    return _key(stored).split(".", 1)[0]


def store_upload(data: bytes) -> str:
    """Keep the uploaded bytes under a random key (_JOB_FILE); returns the key."""
    key = f"{secrets.token_hex(16)}.upload"
    storage.save(IMPORTS, key, data)
    return key


def unlink(stored: str | None) -> None:
    """Delete a job's file (its key or old path), a rows file with its index;
    nothing when there is none."""
    if stored and storage.is_key(_key(stored)):
        storage.delete_file(IMPORTS, _key(stored))
        if _key(stored).endswith(ROWS_SUFFIX):
            storage.delete_file(IMPORTS, _index_key(stored))


def exists(stored: str | None) -> bool:
    return bool(stored) and storage.is_key(_key(stored)) and storage.exists(IMPORTS, _key(stored))


# A rows file (prepare) is one line per row: every cell is cleaned (_clean: no line
# breaks) and the line number first. Its index holds where each row starts (8 bytes
# each, little-endian), so that a step reads its chunk from there instead of reading
# every row before it.
ROWS_SUFFIX = ".rows.csv"
INDEX_SUFFIX = ".rows.idx"


def _index_key(rows_key: str) -> str:
    return _key(rows_key)[: -len(ROWS_SUFFIX)] + INDEX_SUFFIX


def prepare(upload: str, runner: str) -> tuple[str, int, tuple[str, ...]]:
    """A job's first step: read its upload once (checking size, kind and header)
    into a plain rows file (line number first) and its index, so later steps start
    reading at their chunk's row. The rows file is this runner's own (its claim's
    token in the name): a runner whose claim was taken over leaves the winner's file
    alone. Returns its key and the number of rows; touches neither the job nor the
    upload. Neither file exists when this raises (FileNotFoundError: the upload is
    gone). Also returns the columns the file has and the import does not read
    ("C 备注")."""
    rows_key = f"{_stem(upload)}.{runner}{ROWS_SUFFIX}"
    starts = array.array("Q")
    line_text = io.StringIO(newline="")
    writer = csv.writer(line_text)
    written = 0
    with (
        storage.create(IMPORTS, rows_key) as out,
        storage.create(IMPORTS, _index_key(rows_key)) as index,
    ):
        layout, rows = open_stored_rows(upload)
        for line, cells in rows:
            writer.writerow([line, *cells])
            encoded = line_text.getvalue().encode("utf-8")
            line_text.seek(0)
            line_text.truncate()
            starts.append(written)
            out.write(encoded)
            written += len(encoded)
        if sys.byteorder != "little":  # pragma: no cover - the index is little-endian
            starts.byteswap()
        index.write(starts.tobytes())
    return rows_key, len(starts), layout.ignored


def ignored_message(ignored: Iterable[str]) -> str | None:
    """What the job page and the command say of the columns not read (None: none)."""
    ignored = list(ignored)
    if not ignored:
        return None
    shown = "; ".join(ignored)
    if len(shown) > 300:
        shown = shown[:300] + "…"
    return _(
        "These columns are not imported (their headers name no field): %(columns)s.", columns=shown
    )


def errors_path(upload: str) -> str:
    """The key of the refused rows of the job of this upload."""
    return f"{_stem(upload)}.errors.csv"


def _read_text(stored: str):
    return io.TextIOWrapper(storage.open_file(IMPORTS, _key(stored)), encoding="utf-8", newline="")


def _start_of(rows_path: str, row: int) -> int | None:
    """Where row `row` (from 0) of a rows file starts, from its index; the file's size
    past its last row; None for a rows file written without an index."""
    index = _index_key(rows_path)
    if not storage.exists(IMPORTS, index):
        return None
    with storage.open_file(IMPORTS, index) as f:
        f.seek(8 * row)
        found = f.read(8)
    if len(found) < 8:
        info = storage.stat(IMPORTS, _key(rows_path))
        return info.size if info is not None else 0
    return int.from_bytes(found, "little")


def read_chunk(rows_path: str, start: int, size: int) -> list[tuple[int, list[str]]]:
    """Rows start..start+size of a job's rows file (FileNotFoundError once purged),
    read from the row's place in the file (its index)."""
    offset = _start_of(rows_path, start)
    with storage.open_file(IMPORTS, _key(rows_path)) as raw:
        if offset is not None:
            raw.seek(offset)
        with io.TextIOWrapper(raw, encoding="utf-8", newline="") as f:
            rows = csv.reader(f)
            if offset is None:  # a job's file written before the index was kept
                rows = itertools.islice(rows, start, None)
            return [(int(r[0]), r[1:]) for r in itertools.islice(rows, size)]


def add_problems(job: ImportJob, found: Iterable[Problem]) -> None:
    """Append refused rows' problems to the job's report (one chunk's worth: written
    at once)."""
    text = io.StringIO(newline="")
    csv.writer(text).writerows((p.line, p.column, p.value, p.reason) for p in found)
    if text.tell():
        storage.append(IMPORTS, _key(job.errors_path), text.getvalue().encode("utf-8"))


def retention_hours() -> int:
    return int(current_app.config.get("IMPORT_RETENTION_HOURS", 24))


# What store_upload and prepare name the files of a job; nothing else in the folder
# is ever deleted.
_JOB_FILE = re.compile(
    r"^[0-9a-f]{32}\.(upload|([0-9a-f]{32}\.)?rows\.csv|[0-9a-f]{32}\.rows\.idx|errors\.csv)$"
)


def purge_import_files(now: datetime | None = None) -> int:
    """Delete the import files (uploads, rows and refused-rows reports) last written
    more than IMPORT_RETENTION_HOURS before `now` (naive UTC; the present by default):
    a job abandoned half way, or the refused rows of a finished one (its page then no
    longer offers them). Returns how many files were deleted. With the database
    backend the deletes are in the session, for the caller to commit."""
    cutoff = (now or utcnow()) - timedelta(hours=retention_hours())
    deleted = 0
    for key in storage.older_than(IMPORTS, cutoff):
        if _JOB_FILE.match(key) and storage.delete_file(IMPORTS, key):
            deleted += 1
    return deleted


def has_error_report(job: ImportJob) -> bool:
    return exists(job.errors_path)


def problems(job: ImportJob, limit: int | None = None) -> Iterator[Problem]:
    """The refused rows' problems of a job (line, column, masked value, reason), in
    the order of the file; the first `limit` only when given. A report written
    before columns were kept (line, reason) reads with an empty column and value."""
    if not exists(job.errors_path):
        return
    with _read_text(job.errors_path) as f:
        for row in itertools.islice(csv.reader(f), limit):
            if len(row) == 2:
                row = [row[0], "", "", row[1]]
            if len(row) == 4 and row[0].isdigit():
                yield Problem(int(row[0]), row[1], row[2], row[3])


def error_rows(job: ImportJob) -> Iterator[list[str]]:
    """The refused rows of a job (line, column, value masked, reason) for the
    errors download. Read as the response is sent: within a request, the request's
    context is kept for it (the storage backend reads through the app)."""

    def rows() -> Iterator[list[str]]:
        for p in problems(job):
            yield [str(p.line), p.column, p.value, p.reason]

    return stream_with_context(rows()) if has_request_context() else rows()
