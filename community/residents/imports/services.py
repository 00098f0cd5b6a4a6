"""Bulk import of residences from a spreadsheet (CSV or xlsx), for the command line
and the web import page alike.

The file's first row names its columns (columns.py: the contract header
files.HEADER, or Chinese names, in any order; the identity document's columns are
optional). Every row is validated in Python with the report rules of
residents.rules (clean_report: the same messages as the report form; dates read
by core.validators.read_date, as the forms' date fields read them, or as Excel
serial numbers: columns.read_day; blocking_status: the same duplicate rule);
valid rows are written with bulk Core inserts in chunks (the column types still
encrypt ID numbers and phones) from the report form's own column builders
(person_values, residence_values) and counted in the compliance ledger by the
report form's own rule (record_reports: points, rollups, yellow-card proposal);
each problem of an invalid row is reported with its line, column, value (masked
where personal) and reason. Importing the same file twice adds nothing: a row
whose person already has a pending or verified residence in that room with the
same move-in day counts as "already reported". A police import goes row by row
through services.report_residence (it verifies at once and ends earlier
residences).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from community.accounts.permissions import can
from community.core.audit import client_address
from community.core.errors import Conflict, RuleViolation
from community.core.models import AuditEvent
from community.core.timeutil import today as local_today
from community.core.timeutil import utcnow
from community.places.models import Room, Site
from community.residents import rules, services
from community.residents.compliance.services import LedgerReport, record_reports
from community.residents.imports import columns, files, queries
from community.residents.imports.columns import FIELDS
from community.residents.imports.files import CHUNK, ImportRefused, Problem
from community.residents.imports.models import ImportJob
from community.residents.imports.permissions import import_channel
from community.residents.models import Person, Residence, new_reference
from community.residents.permissions import earning_channel


@dataclass
class ImportResult:
    total: int = 0
    imported: int = 0
    already: int = 0
    problems: list[Problem] = field(default_factory=list)
    # The file's columns the import does not read ("C 备注").
    ignored: tuple[str, ...] = ()

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
        self.problems.append(Problem(line, column, files.shown_value(column, value), reason))

    def add(self, other: ImportResult) -> None:
        self.total += other.total
        self.imported += other.imported
        self.already += other.already
        self.problems.extend(other.problems)


def _cleaned(field_name: str, value: str | None) -> str:
    return columns.clean_cell(field_name, value or "")


def _order(problem: Problem) -> tuple[int, int]:
    column = FIELDS.index(problem.column) if problem.column in FIELDS else -1
    return problem.line, column


# --- validating and writing --------------------------------------------------------------


@dataclass
class _Place:
    site: Site | None
    channel: str = ""
    # The channel the ledger counts (compliance.services.record_reports): the importer's own
    # when they run the site, None for an enterprise or an administrator's load.
    earns: str | None = None
    rooms: dict[tuple[str, str], Room] = field(default_factory=dict)
    error: str | None = None


def room_of(rooms: dict[tuple[str, str], Room], building: str, room: str) -> Room | None:
    """The room a row names: its building and room cells, or the room cell written
    building/room as the template's list writes it (template.room_label), with the
    building cell empty or the same building."""
    found = rooms.get((building, room))
    if found is not None or "/" not in room:
        return found
    for index, char in enumerate(room):
        if char == "/" and building in ("", room[:index]):
            found = rooms.get((room[:index], room[index + 1 :]))
            if found is not None:
                return found
    return None


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
            site = queries.site_with_rooms(self.session, int(raw))
        if site is None or not can(self.user, "residence.view_site", site):
            place = _Place(None, error=_("No site with this number (%(id)s).", id=raw[:20]))
        elif not can(self.user, "residence.import", site):
            place = _Place(None, error=_("You may not report residents at this site."))
        else:
            place = _Place(site, import_channel(self.user, site), earning_channel(self.user, site))
            # Compared as the file's cells are read (full-width letters as ASCII).
            for building in site.buildings:
                for room in building.rooms:
                    key = (_cleaned("building", building.name), _cleaned("room", room.number))
                    place.rooms[key] = room
        self.places[raw] = place
        return place

    def _validate(self, line: int, cells: list[str], result: ImportResult) -> dict | None:
        """The row's report, or None with its problems added to `result`."""
        # Rows files written before the document's columns hold the contract's only.
        cells = list(cells) + [""] * (len(FIELDS) - len(cells))
        values = {f: _cleaned(f, c) for f, c in zip(FIELDS, cells, strict=False)}
        place = self._place(values["site_id"])
        if place.site is None:
            result.refuse(line, place.error or "", "site_id", values["site_id"])
            return None
        room = room_of(place.rooms, values["building"], values["room"])
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
        moved_in, date_problem = columns.read_day(values["move_in"])
        born, birth_problem = columns.read_day(values["birth_date"])
        document = {
            "document_type": columns.document_type_of(values["document_type"]),
            "nationality": columns.country_of(values["nationality"]),
            "latin_name": values["latin_name"] or None,
            "gender": columns.gender_of(values["gender"]),
            "birth_date": born,
        }
        errors: list[tuple[str | None, str]] = []
        try:
            data = rules.clean_report(
                name=values["name"],
                id_number=values["id_number"],
                phone=values["phone"],
                move_in=moved_in,
                hometown=values["hometown"],
                employer=values["employer"],
                phone_required=False,
                today=self.today,
                spreadsheet=True,
                **document,
            )
        except RuleViolation as exc:
            errors = list(exc.errors)
        for column, problem in (("move_in", date_problem), ("birth_date", birth_problem)):
            if problem:
                errors = [(f, m) for f, m in errors if f != column] + [(column, problem)]
        if errors:
            for column, message in errors:
                result.refuse(line, message, column or "", values.get(column or "", ""))
            return None
        data.update(
            room=room,
            site=place.site,
            channel=place.channel,
            earns=place.earns,
            document_fields=document,
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
                    **data["document_fields"],
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
                    Residence.status.in_(rules.LIVE_STATES),
                )
                .limit(1)
            )
            is not None
        )

    def _write(self, good: list[tuple[int, dict]], result: ImportResult) -> None:
        session = self.session
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
                    Residence.status.in_(rules.LIVE_STATES),
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
            blocking = rules.blocking_status((o, s) for _m, o, s in earlier)
            if blocking:
                self._refuse_duplicate(result, line, data, blocking)
                continue
            seen[key] = data["move_in"]
            keep.append((line, data))
        if not keep:
            return
        now = utcnow()
        new: dict[str, dict] = {}
        for _line, data in keep:
            if data["hash"] not in known and data["hash"] not in new:
                new[data["hash"]] = {**rules.person_values(data), "created_at": now}
        if new:
            # A person another import or report created meanwhile is kept (add_people).
            known.update(rules.add_people(session, list(new.values())))
        table = Residence.__table__
        rows = [
            {
                **rules.residence_values(
                    d,
                    known[d["hash"]],
                    d["room"].id,
                    channel=d["channel"],
                    reporter_id=self.user.id,
                    now=now,
                    reported_on=self.today,
                ),
                "move_out": None,
                "reason": None,
                "verified_by_id": None,
                "verified_at": None,
                "reference": new_reference(),
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
                    "detail": {**rules.reported_detail(row), "import": True},
                }
                for rid, row in zip(ids, rows, strict=True)
            ],
        )
        # The report form's ledger rule, for the whole chunk at once.
        record_reports(
            self.session,
            [
                LedgerReport(rid, d["site"], d["earns"], row["late"], self.today)
                for rid, row, (_n, d) in zip(ids, rows, keep, strict=True)
            ],
        )
        result.imported += len(keep)

    def _refuse_duplicate(self, result: ImportResult, line: int, data: dict, status: str) -> None:
        try:
            rules.refuse_duplicate(data["room"], data["id_number"], status)
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
    for batch in files.chunks(rows, chunk):
        result.add(importer.run(batch))
    return result


def import_file(
    session: Session, user: Any, data: bytes | Path, *, today: date | None = None
) -> ImportResult:
    """Import a whole CSV or xlsx file (its bytes or its path) for `user`. ImportRefused (nothing
    imported) for a file too big, empty, not a spreadsheet or with a wrong header;
    each invalid row is in the result's errors (line, reason)."""
    layout, rows = files.open_rows(data)
    first = list(_peek(rows))
    result = import_rows(session, user, _chain(first, rows), today=today)
    result.ignored = layout.ignored
    return result


def _peek(rows: Iterator) -> Iterator:
    # Reading the first row raises ImportRefused before anything is written.
    first = next(rows, None)
    if first is not None:
        yield first


def _chain(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest


def start_import(session: Session, user: Any, filename: str, data: bytes) -> ImportJob:
    """Store an uploaded file under IMPORT_DIR (random name) and queue its job.
    RuleViolation("file") for an empty or too large file, or an xlsx that unpacks
    too far (files.check_upload; nothing stored)."""
    limit = files.max_bytes()
    if not data:
        raise RuleViolation("file", _("The file is empty."))
    if len(data) > limit:
        raise RuleViolation(
            "file", _("The file is larger than %(mb)d MB.", mb=max(1, limit // (1024 * 1024)))
        )
    try:
        files.check_upload(data)
    except ImportRefused as exc:
        raise RuleViolation("file", exc.message) from None
    path = files.store_upload(data)
    shown = " ".join((Path(filename or "").name or "upload").split())[:255]
    job = ImportJob(user_id=user.id, filename=shown, path=str(path), status="queued")
    session.add(job)
    session.flush()
    return job


def _expired_message() -> str:
    return _(
        "The uploaded file is no longer kept (after %(hours)d hours); upload it again.",
        hours=files.retention_hours(),
    )


def stale_after() -> timedelta:
    """How long a step's claim holds: past it the runner is taken to be gone (killed
    past the server's timeout, crashed before its commit) and another may take over."""
    return timedelta(minutes=int(current_app.config.get("IMPORT_STEP_STALE_MINUTES", 5)))


@dataclass(frozen=True)
class Claim:
    """A runner's claim on a job's next step (claim_step): its token, and the job's
    files and progress as the claim found them."""

    token: str
    path: str
    rows_path: str | None
    done: int
    total: int


def claim_step(session: Session, job: ImportJob) -> Claim | None:
    """Claim the job's next step for one runner (a request, or a worker): one
    conditional UPDATE gives the job a fresh runner token when it still runs and no
    other runner holds it (or that runner's claim is older than stale_after()), and
    returns the job's state as of the claim. None when the step is not this
    runner's: the job is finished or another runner holds it (a claim seen held
    answers without writing). Flushes nothing else; the caller commits the claim."""
    now = utcnow()
    cutoff = now - stale_after()
    if not job.is_running or (
        job.runner is not None and job.step_started_at and job.step_started_at >= cutoff
    ):
        return None
    token = secrets.token_hex(16)
    row = session.execute(
        update(ImportJob)
        .where(
            ImportJob.id == job.id,
            ImportJob.status.in_(("queued", "running")),
            or_(ImportJob.runner.is_(None), ImportJob.step_started_at < cutoff),
        )
        .values(status="running", runner=token, step_started_at=now)
        .returning(ImportJob.path, ImportJob.rows_path, ImportJob.done, ImportJob.total)
        .execution_options(synchronize_session=False)
    ).first()
    return Claim(token, *row) if row is not None else None


def _release(session: Session, job: ImportJob, token: str, **values: Any) -> bool:
    """End this runner's claim, writing `values`, when the claim is still its own
    (not taken over meanwhile); False, writing nothing, when it is not. The UPDATE
    holds the job's row (PostgreSQL) or the database (SQLite) until the commit, so a
    runner taking over waits for this step's commit and then sees it done."""
    released = session.execute(
        update(ImportJob)
        .where(ImportJob.id == job.id, ImportJob.runner == token)
        .values(runner=None, step_started_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(job)
    return released.rowcount == 1


def _fail(session: Session, job: ImportJob, claim: Claim, message: str) -> None:
    values = {"status": "failed", "message": message, "finished_at": utcnow()}
    if _release(session, job, claim.token, **values):
        files.unlink(job.path)
        files.unlink(job.rows_path)


def _first_step(session: Session, job: ImportJob, claim: Claim) -> None:
    """Read the upload into this runner's rows file, then record it on the job if the
    claim is still this runner's."""
    try:
        rows_path, total, ignored = files.prepare(claim.path, claim.token)
    except ImportRefused as exc:
        _fail(session, job, claim, exc.message)
        return
    except FileNotFoundError:
        _fail(session, job, claim, _expired_message())
        return
    recorded = {
        "rows_path": rows_path,
        "total": total,
        "errors_path": files.errors_path(claim.path),
        "message": files.ignored_message(ignored),
    }
    if _release(session, job, claim.token, **recorded):
        files.unlink(claim.path)
    else:
        files.unlink(rows_path)


def _advance(session: Session, user: Any, job: ImportJob, size: int, today: date | None) -> None:
    """A step after the first (the file is read into job.rows_path): import the next
    `size` rows without a claim committed beforehand. The job's cursor as read here
    decides the chunk; the read ends (commit: nothing is pending), so the step's
    first statement is one conditional UPDATE moving the cursor on — while the job
    runs, its cursor is still there and no live runner holds its claim — and the rows
    are written in the same transaction, for the caller to commit with it. Another
    runner that moved the cursor first leaves this one writing nothing (PostgreSQL
    re-checks the WHERE after waiting for its row; SQLite serialises the writers). A
    runner killed before its commit leaves nothing of its chunk and holds nothing:
    the next runner takes the same chunk at once."""
    start, total, rows_path = job.done, job.total, job.rows_path or ""
    try:
        batch = files.read_chunk(rows_path, start, size)
    except FileNotFoundError:
        batch = None
    session.commit()  # end the read: on SQLite a read turning into a write may fail at once
    cutoff = utcnow() - stale_after()
    done = start + len(batch or [])
    if batch is None:
        values: dict[str, Any] = {"status": "failed", "message": _expired_message()}
        values["finished_at"] = utcnow()
    else:
        values = {"done": done, "status": "running"}
        if done >= total:
            values.update(status="done", finished_at=utcnow())
    moved = session.execute(
        update(ImportJob)
        .where(
            ImportJob.id == job.id,
            ImportJob.status.in_(("queued", "running")),
            ImportJob.done == start,
            or_(ImportJob.runner.is_(None), ImportJob.step_started_at < cutoff),
        )
        .values(runner=None, step_started_at=None, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(job)
    if moved != 1:
        return
    if batch is None:
        files.unlink(job.path)
        files.unlink(job.rows_path)
        return
    result = Importer(session, user, today).run(batch)
    if result.problems:
        files.add_problems(job, result.problems)
    job.imported += result.imported
    job.already += result.already
    job.refused += result.refused
    if job.status == "done":
        files.unlink(job.rows_path)


def run_step(
    session: Session, user: Any, job: ImportJob, size: int | None = None, today: date | None = None
) -> ImportJob:
    """Run the job's next step — the first reads the file, each later one imports the
    next `size` rows (_advance) — when this runner can take it; otherwise return the
    job as it stands. The first step's claim (claim_step) is committed at once (a
    service's commit, like _advance's end of its read), so every other runner sees it
    before the long read of the file, which runs without a statement to the database
    and writes only once it has read it; a runner killed during it holds the claim
    until it is older than IMPORT_STEP_STALE_MINUTES. The step's own writes are
    flushed, for the caller to commit: a later step's rows with the job's cursor, so
    a chunk is all written or not at all. A refused file ends the job as failed with
    the reason; the last chunk ends it as done. Any number of concurrent runners
    leave one correct import, each chunk imported once."""
    if job.is_running and job.rows_path is not None:
        _advance(session, user, job, size or CHUNK, today)
        session.flush()
        return job
    claim = claim_step(session, job)
    if claim is None:
        session.refresh(job)
        return job
    session.commit()
    if claim.rows_path is None:
        _first_step(session, job, claim)
    else:  # another runner read the file meanwhile: the next step is _advance's
        _release(session, job, claim.token)
    session.flush()
    return job
