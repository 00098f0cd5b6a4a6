"""Bulk import of residences from a spreadsheet (CSV or xlsx), for the command line
and the web import page alike.

The file's first row is the contract header (HEADER). Every row is validated in
Python with the report rules of services (the same messages as the report form;
dates read by core.validators.read_date, as the forms' date fields read them);
valid rows are written with bulk Core inserts in chunks (the column types still
encrypt ID numbers and phones) and counted in the compliance ledger by the report
form's own rule (services.record_reports: points, rollups, yellow-card proposal);
each problem of an invalid row is reported with its line, column, value (masked
where personal) and reason. Importing the same file twice adds nothing: a row whose person already
has a pending or verified residence in that room with the same move-in day counts
as "already reported". A police import goes row by row through
services.report_residence (it verifies at once and ends earlier residences).
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import secrets
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, selectinload

from community.accounts.permissions import can
from community.core.audit import client_address
from community.core.crypto import lookup_hash, mask_id_number, mask_phone
from community.core.errors import Conflict, RuleViolation
from community.core.models import AuditEvent
from community.core.timeutil import today as local_today
from community.core.timeutil import utcnow
from community.core.validators import id_number_facts, normalize_id_number, read_date
from community.places.models import Building, Room, Site
from community.residents import services
from community.residents.models import ImportJob, Person, Residence, new_reference
from community.residents.permissions import earning_channel, import_channel

HEADER = (
    "site_id",
    "building",
    "room",
    "name",
    "id_number",
    "phone",
    "move_in",
    "hometown",
    "employer",
)
CHUNK = 2000
# The refused rows the job page lists (the rest are in the download).
SHOWN_PROBLEMS = 50
# What the job page calls each column of HEADER (the file keeps the header's names).
COLUMN_LABELS = {
    "site_id": _l("Site number"),
    "building": _l("Building"),
    "room": _l("Room"),
    "name": _l("Full name"),
    "id_number": _l("ID number"),
    "phone": _l("Mobile phone"),
    "move_in": _l("Moved in on"),
    "hometown": _l("Hometown"),
    "employer": _l("Employer"),
}


class ImportRefused(Exception):
    """The whole file is refused (nothing imported): the message says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Problem:
    """One reason a row was refused: its line in the file, the column at fault (a
    HEADER name; "" for the whole row), the value written there as it may be shown
    (masked when personal: name, ID number, phone) and why."""

    line: int
    column: str
    value: str
    reason: str


def _shown(column: str, raw: str) -> str:
    """A cell's value as the refused-rows list may show it: the uploader sees the
    line number, so the masked value is enough to find the cell."""
    raw = " ".join((raw or "").split())
    if column == "id_number":
        return mask_id_number(normalize_id_number(raw))
    if column == "phone":
        return mask_phone(raw)
    if column == "name":
        return raw[:1] + "*" * min(len(raw) - 1, 3) if raw else ""
    return raw[:60]


@dataclass
class ImportResult:
    total: int = 0
    imported: int = 0
    already: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def refused(self) -> int:
        return len({p.line for p in self.problems})

    @property
    def errors(self) -> list[tuple[int, str]]:
        """(line, reasons) per refused row, in line order (the command's output)."""
        lines: dict[int, list[str]] = {}
        for problem in sorted(self.problems, key=_order):
            lines.setdefault(problem.line, []).append(problem.reason)
        return [(line, " ".join(reasons)) for line, reasons in lines.items()]

    def refuse(self, line: int, reason: str, column: str = "", value: str = "") -> None:
        self.problems.append(Problem(line, column, _shown(column, value), reason))

    def add(self, other: ImportResult) -> None:
        self.total += other.total
        self.imported += other.imported
        self.already += other.already
        self.problems.extend(other.problems)


def _order(problem: Problem) -> tuple[int, int]:
    column = HEADER.index(problem.column) if problem.column in HEADER else -1
    return problem.line, column


def max_bytes() -> int:
    return int(current_app.config.get("IMPORT_MAX_BYTES", 20 * 1024 * 1024))


# --- reading -----------------------------------------------------------------------------


def _not_spreadsheet() -> ImportRefused:
    return ImportRefused(_("This file is not a spreadsheet: upload a CSV (UTF-8) or xlsx file."))


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


def _check_header(first: list[str] | None) -> None:
    expected = ",".join(HEADER)
    if first is None:
        raise ImportRefused(_("The file is empty."))
    cells = [c.strip().lstrip("\ufeff").lower() for c in first]
    while cells and not cells[-1]:
        cells.pop()
    if tuple(cells) != HEADER:
        missing = [h for h in HEADER if h not in cells]
        if missing:
            raise ImportRefused(
                _(
                    "The first row must be the header %(header)s; missing: %(missing)s.",
                    header=expected,
                    missing=", ".join(missing),
                )
            )
        raise ImportRefused(
            _("The first row must be the header %(header)s, in this order.", header=expected)
        )


def _csv_reader(lines) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(lines)
    try:
        for row in reader:
            if any("\x00" in cell for cell in row):
                raise _not_spreadsheet()
            yield reader.line_num, row
    except (csv.Error, UnicodeDecodeError) as exc:
        raise _not_spreadsheet() from exc


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_spreadsheet() from exc
    if "\x00" in text:
        raise _not_spreadsheet()
    yield from _csv_reader(io.StringIO(text, newline=""))


def _csv_file_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """A CSV file read a line at a time (a bad byte anywhere refuses the file)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        yield from _csv_reader(f)


def _xlsx_rows(source: bytes | Path) -> Iterator[tuple[int, list[str]]]:
    """The first sheet's rows. openpyxl's read_only mode streams the sheet's XML
    from the zip: a stored file is opened (a file object: openpyxl refuses a file
    name without an xlsx extension) and never read whole."""
    import openpyxl

    opened: Any = io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")
    try:
        if not zipfile.is_zipfile(opened):
            raise _not_spreadsheet()
        opened.seek(0)
        try:
            book = openpyxl.load_workbook(opened, read_only=True, data_only=True)
            sheet = book.worksheets[0]
            rows = sheet.iter_rows(values_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise _not_spreadsheet() from exc
        try:
            for number, row in enumerate(rows, start=1):
                yield number, [_cell(v) for v in row]
        except Exception as exc:
            raise _not_spreadsheet() from exc
        finally:
            book.close()
    finally:
        opened.close()


def _too_big() -> ImportRefused:
    return ImportRefused(
        _("The file is larger than %(mb)d MB.", mb=max(1, max_bytes() // (1024 * 1024)))
    )


def read_rows(source: bytes | Path) -> Iterator[tuple[int, list[str]]]:
    """The data rows (line number, cells) of a CSV or xlsx file — its bytes, or its
    path (then streamed: neither kind is read whole into memory) — after checking
    its size and header. ImportRefused (before any row) for a file that is too
    big, empty, not a spreadsheet or without the contract header."""
    if isinstance(source, bytes):
        if len(source) > max_bytes():
            raise _too_big()
        if not source.strip():
            raise ImportRefused(_("The file is empty."))
        head = source[:4]
        rows = _xlsx_rows(source) if head == b"PK\x03\x04" else _csv_rows(source)
    else:
        path = Path(source)
        size = path.stat().st_size
        if size > max_bytes():
            raise _too_big()
        if size == 0:
            raise ImportRefused(_("The file is empty."))
        with path.open("rb") as f:
            head = f.read(4)
        rows = _xlsx_rows(path) if head == b"PK\x03\x04" else _csv_file_rows(path)
    first = next(rows, None)
    _check_header(first[1] if first else None)
    for line, cells in rows:
        if any(c.strip() for c in cells):
            yield line, cells


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


# --- validating and writing --------------------------------------------------------------


@dataclass
class _Place:
    site: Site | None
    channel: str = ""
    # The channel the ledger counts (services.record_reports): the importer's own
    # when they run the site, None for an enterprise or an administrator's load.
    earns: str | None = None
    rooms: dict[tuple[str, str], Room] = field(default_factory=dict)
    error: str | None = None


class Importer:
    """Imports rows for `user`; keeps the sites (with their rooms) it looked up, so a
    chunk costs a handful of queries whatever its size."""

    def __init__(self, session: Session, user: Any, today: date | None = None):
        self.session = session
        self.user = user
        self.today = today or local_today()
        self.places: dict[str, _Place] = {}

    def _place(self, raw: str) -> _Place:
        place = self.places.get(raw)
        if place is not None:
            return place
        site = None
        if raw.isdigit() and len(raw) < 10:
            site = self.session.scalar(
                select(Site)
                .where(Site.id == int(raw))
                .options(selectinload(Site.buildings).selectinload(Building.rooms))
            )
        if site is None or not can(self.user, "residence.view_site", site):
            place = _Place(None, error=_("No site with this number (%(id)s).", id=raw[:20]))
        elif not can(self.user, "residence.import", site):
            place = _Place(None, error=_("You may not report residents at this site."))
        else:
            place = _Place(site, import_channel(self.user, site), earning_channel(self.user, site))
            for building in site.buildings:
                for room in building.rooms:
                    place.rooms[(building.name.strip(), room.number.strip())] = room
        self.places[raw] = place
        return place

    def _validate(self, line: int, cells: list[str], result: ImportResult) -> dict | None:
        """The row's report, or None with its problems added to `result`."""
        cells = [c.strip() for c in cells] + [""] * (len(HEADER) - len(cells))
        values = dict(zip(HEADER, cells, strict=False))
        place = self._place(values["site_id"])
        if place.site is None:
            result.refuse(line, place.error or "", "site_id", values["site_id"])
            return None
        room = place.rooms.get((values["building"], values["room"]))
        if room is None:
            message = _(
                "No room %(room)s in building %(building)s at this site.",
                room=values["room"][:30],
                building=values["building"][:60],
            )
            result.refuse(line, message, "room", values["room"])
            return None
        # The form's date reader: an unreadable date says which forms are read
        # (the report rules would only ask for a date).
        moved_in, date_problem = read_date(values["move_in"])
        errors: list[tuple[str | None, str]] = []
        try:
            data = services.clean_report(
                name=values["name"],
                id_number=values["id_number"],
                phone=values["phone"],
                move_in=moved_in,
                hometown=values["hometown"],
                employer=values["employer"],
                phone_required=False,
                today=self.today,
            )
        except RuleViolation as exc:
            errors = list(exc.errors)
        if date_problem:
            errors = [(f, m) for f, m in errors if f != "move_in"] + [("move_in", date_problem)]
        if errors:
            for column, message in errors:
                result.refuse(line, message, column or "", values.get(column or "", ""))
            return None
        data.update(
            room=room,
            site=place.site,
            channel=place.channel,
            earns=place.earns,
            hash=lookup_hash(data["id_number"]),
        )
        return data

    def run(self, rows: list[tuple[int, list[str]]]) -> ImportResult:
        """Validate and write one chunk of rows; flushes, never commits."""
        result = ImportResult(total=len(rows))
        good: list[tuple[int, dict]] = []
        for line, cells in rows:
            data = self._validate(line, cells, result)
            if data is not None:
                good.append((line, data))
        police = [(n, d) for n, d in good if d["channel"] == "police"]
        bulk = [(n, d) for n, d in good if d["channel"] != "police"]
        if bulk:
            self._write(bulk, result)
        for line, data in police:
            self._report_one(line, data, result)
        result.problems.sort(key=_order)
        return result

    def _report_one(self, line: int, data: dict, result: ImportResult) -> None:
        """A police row: one report (verified at once) in its own savepoint."""
        if self._already(data):
            result.already += 1
            return
        try:
            with self.session.begin_nested():
                services.report_residence(
                    self.session,
                    self.user,
                    data["room"],
                    name=data["name"],
                    id_number=data["id_number"],
                    phone=data["phone"],
                    move_in=data["move_in"],
                    hometown=data["hometown"],
                    employer=data["employer"],
                    channel="police",
                    today=self.today,
                )
            result.imported += 1
        except RuleViolation as exc:
            for column, message in exc.errors:
                result.refuse(line, message, column or "")
        except Conflict as exc:
            result.refuse(line, exc.message, "id_number", data["id_number"])

    def _already(self, data: dict) -> bool:
        return (
            self.session.scalar(
                select(Residence.id)
                .join(Person)
                .where(
                    Person.id_hash == data["hash"],
                    Residence.room_id == data["room"].id,
                    Residence.move_in == data["move_in"],
                    Residence.status.in_(("pending", "verified")),
                )
                .limit(1)
            )
            is not None
        )

    def _write(self, good: list[tuple[int, dict]], result: ImportResult) -> None:
        session = self.session
        people = Person.__table__
        hashes = {d["hash"] for _n, d in good}
        known = dict(
            session.execute(
                select(Person.id_hash, Person.id).where(Person.id_hash.in_(hashes))
            ).all()
        )
        stays: dict[tuple[int, int], list[tuple[Any, Any, str]]] = {}
        if known:
            for person_id, room_id, moved_in, moved_out, status in session.execute(
                select(
                    Residence.person_id,
                    Residence.room_id,
                    Residence.move_in,
                    Residence.move_out,
                    Residence.status,
                ).where(
                    Residence.person_id.in_(known.values()),
                    Residence.status.in_(("pending", "verified")),
                )
            ):
                stays.setdefault((person_id, room_id), []).append((moved_in, moved_out, status))
        seen: dict[tuple[str, int], date] = {}
        keep: list[tuple[int, dict]] = []
        for line, data in good:
            key = (data["hash"], data["room"].id)
            if key in seen:
                if seen[key] == data["move_in"]:
                    result.already += 1
                else:
                    self._refuse_duplicate(result, line, data, "pending")
                continue
            earlier = stays.get((known.get(data["hash"]), data["room"].id), [])
            if any(m == data["move_in"] for m, _o, _s in earlier):
                result.already += 1
                continue
            blocking = [s for _m, o, s in earlier if s == "pending" or o is None]
            if blocking:
                self._refuse_duplicate(result, line, data, blocking[0])
                continue
            seen[key] = data["move_in"]
            keep.append((line, data))
        if not keep:
            return
        now = utcnow()
        new: dict[str, dict] = {}
        for _line, data in keep:
            if data["hash"] not in known and data["hash"] not in new:
                gender, born = id_number_facts(data["id_number"])
                new[data["hash"]] = {
                    "name": data["name"],
                    # Plain values: EncryptedString encrypts them on the way in.
                    "id_number": data["id_number"],
                    "id_hash": data["hash"],
                    "phone": data["phone"],
                    "hometown": data["hometown"],
                    "gender": gender,
                    "birth_date": born,
                    "created_at": now,
                }
        if new:
            ids = session.execute(
                people.insert().returning(people.c.id, sort_by_parameter_order=True),
                list(new.values()),
            ).scalars()
            known.update(zip(new, ids, strict=True))
        # A report from an account updates what is known of an existing person
        # (as services._person does): the newest report is the best knowledge.
        updates = {
            d["hash"]: {
                "pid": known[d["hash"]],
                "p_name": d["name"],
                "p_phone": d["phone"],
                "p_hometown": d["hometown"],
            }
            for _n, d in keep
            if d["hash"] not in new
        }
        if updates:
            session.execute(
                update(people)
                .where(people.c.id == bindparam("pid"))
                .values(
                    name=bindparam("p_name"),
                    phone=func.coalesce(
                        bindparam("p_phone", type_=people.c.phone.type), people.c.phone
                    ),
                    hometown=func.coalesce(bindparam("p_hometown"), people.c.hometown),
                )
                .execution_options(synchronize_session=False),
                list(updates.values()),
            )
        table = Residence.__table__
        rows = [
            {
                "person_id": known[d["hash"]],
                "room_id": d["room"].id,
                "move_in": d["move_in"],
                "move_out": None,
                "channel": d["channel"],
                "reported_at": now,
                "reporter_id": self.user.id,
                "employer": d["employer"],
                "status": "pending",
                "reason": None,
                "verified_by_id": None,
                "verified_at": None,
                "reference": new_reference(),
                "late": services.is_late(d["move_in"], self.today),
            }
            for _n, d in keep
        ]
        ids = (
            session.execute(
                table.insert().returning(table.c.id, sort_by_parameter_order=True), rows
            )
            .scalars()
            .all()
        )
        address = client_address()
        session.execute(
            AuditEvent.__table__.insert(),
            [
                {
                    "at": now,
                    "actor_id": self.user.id,
                    "address": address,
                    "action": services.REPORTED,
                    "object_type": "residence",
                    "object_id": rid,
                    "detail": {
                        "person_id": row["person_id"],
                        "room_id": row["room_id"],
                        "channel": row["channel"],
                        "late": row["late"],
                        "import": True,
                    },
                }
                for rid, row in zip(ids, rows, strict=True)
            ],
        )
        # The report form's ledger rule, for the whole chunk at once.
        services.record_reports(
            self.session,
            [
                services.LedgerReport(rid, d["site"], d["earns"], row["late"], self.today)
                for rid, row, (_n, d) in zip(ids, rows, keep, strict=True)
            ],
        )
        result.imported += len(keep)

    def _refuse_duplicate(self, result: ImportResult, line: int, data: dict, status: str) -> None:
        try:
            services.refuse_duplicate_message(data["room"], data["id_number"], status)
        except Conflict as exc:
            result.refuse(line, exc.message, "id_number", data["id_number"])


def import_rows(
    session: Session,
    user: Any,
    rows: Iterable[tuple[int, list[str]]],
    *,
    today: date | None = None,
    chunk: int = CHUNK,
) -> ImportResult:
    """Import every row (validated, written in chunks); flushes, never commits."""
    importer = Importer(session, user, today)
    result = ImportResult()
    for batch in chunks(rows, chunk):
        result.add(importer.run(batch))
    return result


def import_file(
    session: Session, user: Any, data: bytes | Path, *, today: date | None = None
) -> ImportResult:
    """Import a whole CSV or xlsx file (its bytes or its path) for `user`. ImportRefused (nothing
    imported) for a file too big, empty, not a spreadsheet or with a wrong header;
    each invalid row is in the result's errors (line, reason)."""
    rows = read_rows(data)
    first = list(_peek(rows))
    return import_rows(session, user, _chain(first, rows), today=today)


def _peek(rows: Iterator) -> Iterator:
    # Reading the first row raises ImportRefused before anything is written.
    first = next(rows, None)
    if first is not None:
        yield first


def _chain(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest


# --- web import jobs: one chunk per request ----------------------------------------------


def _import_dir() -> Path:
    folder = Path(
        current_app.config.get("IMPORT_DIR") or Path(current_app.instance_path) / "imports"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def start_import(session: Session, user: Any, filename: str, data: bytes) -> ImportJob:
    """Store an uploaded file under IMPORT_DIR (random name) and queue its job.
    RuleViolation("file") for an empty or too large file (nothing stored)."""
    if not data:
        raise RuleViolation("file", _("The file is empty."))
    if len(data) > max_bytes():
        raise RuleViolation(
            "file", _("The file is larger than %(mb)d MB.", mb=max(1, max_bytes() // (1024 * 1024)))
        )
    path = _import_dir() / f"{secrets.token_hex(16)}.upload"
    path.write_bytes(data)
    shown = " ".join((Path(filename or "").name or "upload").split())[:255]
    job = ImportJob(user_id=user.id, filename=shown, path=str(path), status="queued")
    session.add(job)
    session.flush()
    return job


def _unlink(path: str | None) -> None:
    if path:
        Path(path).unlink(missing_ok=True)


def _prepare(job: ImportJob) -> None:
    """The job's first step: read the upload once (checking size, kind and header)
    into a plain rows file (line number first), so later steps only skip lines."""
    rows_path = Path(job.path).with_suffix(".rows.csv")
    total = 0
    with rows_path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        for line, cells in read_rows(Path(job.path)):
            writer.writerow([line, *cells[: len(HEADER)]])
            total += 1
    job.rows_path, job.total = str(rows_path), total
    job.errors_path = str(Path(job.path).with_suffix(".errors.csv"))
    _unlink(job.path)


def _fail(job: ImportJob, message: str) -> None:
    job.status, job.message, job.finished_at = "failed", message, utcnow()
    _unlink(job.path)
    _unlink(job.rows_path)


def _expired_message() -> str:
    return _(
        "The uploaded file is no longer kept (after %(hours)d hours); upload it again.",
        hours=retention_hours(),
    )


def run_step(
    session: Session, user: Any, job: ImportJob, size: int | None = None, today: date | None = None
) -> ImportJob:
    """Process the job's next `size` rows (the first step reads the file). The step
    is claimed with one conditional UPDATE first, so two polls of the same job never
    import a chunk twice: the loser returns the job as it is. A refused file ends
    the job as failed with the reason; the last chunk ends it as done."""
    if not job.is_running:
        return job
    size = size or CHUNK
    seen = job.done
    claimed = session.execute(
        update(ImportJob)
        .where(
            ImportJob.id == job.id,
            ImportJob.done == seen,
            ImportJob.status.in_(("queued", "running")),
        )
        .values(status="running")
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        session.refresh(job)
        return job
    job.status = "running"
    if job.rows_path is None:
        try:
            _prepare(job)
        except ImportRefused as exc:
            _fail(job, exc.message)
        except FileNotFoundError:
            _fail(job, _expired_message())
        session.flush()
        return job
    try:
        with open(job.rows_path, encoding="utf-8", newline="") as f:
            batch = [(int(r[0]), r[1:]) for r in itertools.islice(csv.reader(f), seen, seen + size)]
    except FileNotFoundError:
        _fail(job, _expired_message())
        session.flush()
        return job
    result = Importer(session, user, today).run(batch)
    if result.problems:
        with open(job.errors_path, "a", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows((p.line, p.column, p.value, p.reason) for p in result.problems)
    job.done = seen + len(batch)
    job.imported += result.imported
    job.already += result.already
    job.refused += result.refused
    if job.done >= job.total:
        job.status, job.finished_at = "done", utcnow()
        _unlink(job.rows_path)
    session.flush()
    return job


def retention_hours() -> int:
    return int(current_app.config.get("IMPORT_RETENTION_HOURS", 24))


# What start_import and _prepare name the files of a job; nothing else in the folder
# is ever deleted.
_JOB_FILE = re.compile(r"^[0-9a-f]{32}\.(upload|rows\.csv|errors\.csv)$")


def purge_import_files(now: datetime | None = None) -> int:
    """Delete the import files (uploads, rows and refused-rows reports) last written
    more than IMPORT_RETENTION_HOURS ago: a job abandoned half way, or the refused
    rows of a finished one (its page then no longer offers them). Returns how many
    files were deleted."""
    folder = _import_dir()
    cutoff = (now or datetime.now()).timestamp() - retention_hours() * 3600
    deleted = 0
    for entry in folder.iterdir():
        if not _JOB_FILE.match(entry.name) or not entry.is_file():
            continue
        if entry.stat().st_mtime < cutoff:
            entry.unlink(missing_ok=True)
            deleted += 1
    return deleted


def has_error_report(job: ImportJob) -> bool:
    return bool(job.errors_path) and Path(job.errors_path).exists()


def problems(job: ImportJob, limit: int | None = None) -> Iterator[Problem]:
    """The refused rows' problems of a job (line, column, masked value, reason), in
    the order of the file; the first `limit` only when given. A report written
    before columns were kept (line, reason) reads with an empty column and value."""
    if not job.errors_path or not Path(job.errors_path).exists():
        return
    with open(job.errors_path, encoding="utf-8", newline="") as f:
        for row in itertools.islice(csv.reader(f), limit):
            if len(row) == 2:
                row = [row[0], "", "", row[1]]
            if len(row) == 4 and row[0].isdigit():
                yield Problem(int(row[0]), row[1], row[2], row[3])


def error_rows(job: ImportJob) -> Iterator[list[str]]:
    """The refused rows of a job (line, column, value masked, reason) for the
    errors download."""
    for p in problems(job):
        yield [str(p.line), p.column, p.value, p.reason]
