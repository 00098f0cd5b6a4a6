"""The rows of a residents spreadsheet (CSV or xlsx) validated and written, for the
command line (import_file) and the web import's worker steps (services) alike.

The file's first row names its columns (columns.py: the contract header
files.HEADER, or Chinese names, in any order; the identity document's columns are
optional). Every row is validated in Python with the report rules of
residents.rules (clean_reports, a chunk at a time: clean_report's checks and
messages, the report form's; dates read
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

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from community.accounts.permissions import can
from community.core.audit import client_address
from community.core.errors import Conflict, RuleViolation
from community.core.models import AuditEvent
from community.core.timeutil import today as local_today
from community.core.timeutil import utcnow
from community.places.models import Building, Room, Site
from community.residents import rules, services
from community.residents.compliance.services import LedgerReport, record_reports
from community.residents.imports import columns, files, queries
from community.residents.imports.columns import FIELDS
from community.residents.imports.files import CHUNK, Problem
from community.residents.imports.permissions import import_channel
from community.residents.models import Person, Residence, new_references
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
    # (building, room) as the file's cells read them -> the room's id.
    rooms: dict[tuple[str, str], int] = field(default_factory=dict)
    error: str | None = None


def room_of(rooms: dict[tuple[str, str], int], building: str, room: str) -> int | None:
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
    """Imports rows for `user`; keeps the sites (with their rooms' ids) it looked up,
    so a chunk costs a handful of queries whatever its size."""

    def __init__(self, session: Session, user: Any, today: date | None = None):
        self.session = session
        self.user = user
        self.today = today or local_today()
        self.places: dict[str, _Place] = {}
        self.rooms: dict[int, Room] = {}

    def _room(self, room_id: int) -> Room:
        """The room with its building (a refused duplicate's message, a police report):
        loaded only for those rows, never for the chunk."""
        room = self.rooms.get(room_id)
        if room is None:
            room = self.session.scalars(
                select(Room)
                .where(Room.id == room_id)
                .options(joinedload(Room.building).joinedload(Building.site))
            ).one()
            self.rooms[room_id] = room
        return room

    def _place(self, raw: str) -> _Place:
        place = self.places.get(raw)
        if place is not None:
            return place
        site = None
        if raw.isdigit() and len(raw) < 10:
            site = self.session.get(Site, int(raw))
        if site is None or not can(self.user, "residence.view_site", site):
            place = _Place(None, error=_("No site with this number (%(id)s).", id=raw[:20]))
        elif not can(self.user, "residence.import", site):
            place = _Place(None, error=_("You may not report residents at this site."))
        else:
            place = _Place(site, import_channel(self.user, site), earning_channel(self.user, site))
            # Compared as the file's cells are read (full-width letters as ASCII).
            for room_id, building, number in queries.site_rooms(self.session, site.id):
                place.rooms[(_cleaned("building", building), _cleaned("room", number))] = room_id
        self.places[raw] = place
        return place

    def _validate(
        self, rows: list[tuple[int, list[str]]], result: ImportResult
    ) -> list[tuple[int, dict]]:
        """The chunk's valid rows with their reports (line, report); each invalid
        row's problems added to `result`. The rows' cells are cleaned already, as files
        reads them (files._data_rows, the rows file written from them). The report
        rules run on the whole chunk at once (rules.clean_reports: the form's rule
        and words, row by row)."""
        rows_read: list[tuple[int, dict[str, str], _Place, int, dict[str, Any], list]] = []
        reports: list[dict[str, Any]] = []
        width = len(FIELDS)
        for line, cells in rows:
            # Rows files written before the document's columns hold the contract's only.
            if len(cells) < width:
                cells = list(cells) + [""] * (width - len(cells))
            values = dict(zip(FIELDS, cells, strict=False))
            place = self._place(values["site_id"])
            if place.site is None:
                result.refuse(line, place.error or "", "site_id", values["site_id"])
                continue
            room_id = room_of(place.rooms, values["building"], values["room"])
            if room_id is None:
                message = _(
                    "No room %(room)s in building %(building)s at this site.",
                    room=values["room"][:30],
                    building=values["building"][:60],
                )
                result.refuse(line, message, "room", values["room"])
                continue
            # The form's date reader: an unreadable date says which forms are read
            # (the report rules would only ask for a date).
            moved_in, date_problem = columns.read_day(values["move_in"])
            born, birth_problem = (
                columns.read_day(values["birth_date"]) if values["birth_date"] else (None, None)
            )
            document = {
                "document_type": columns.document_type_of(values["document_type"]),
                "nationality": columns.country_of(values["nationality"]),
                "latin_name": values["latin_name"] or None,
                "gender": columns.gender_of(values["gender"]),
                "birth_date": born,
            }
            dates = [("move_in", date_problem), ("birth_date", birth_problem)]
            rows_read.append((line, values, place, room_id, document, dates))
            reports.append(
                {
                    "name": values["name"],
                    "id_number": values["id_number"],
                    "phone": values["phone"],
                    "move_in": moved_in,
                    "hometown": values["hometown"],
                    "employer": values["employer"],
                    **document,
                }
            )
        checked = rules.clean_reports(
            reports, phone_required=False, today=self.today, spreadsheet=True
        )
        good: list[tuple[int, dict]] = []
        for (line, values, place, room_id, document, dates), (data, errors) in zip(
            rows_read, checked, strict=True
        ):
            for column, problem in dates:
                if problem:
                    errors = [(f, m) for f, m in errors if f != column] + [(column, problem)]
            if errors:
                for column, message in errors:
                    result.refuse(line, message, column or "", values.get(column or "", ""))
                continue
            data.update(
                room_id=room_id,
                site=place.site,
                channel=place.channel,
                earns=place.earns,
                document_fields=document,
            )
            good.append((line, data))
        return good

    def run(self, rows: list[tuple[int, list[str]]]) -> ImportResult:
        """Validate and write one chunk of rows (line, cells in FIELDS order as files
        reads them: cleaned); flushes, never commits."""
        result = ImportResult(total=len(rows))
        good = self._validate(rows, result)
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
                    self._room(data["room_id"]),
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
                    Residence.room_id == data["room_id"],
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
                select(Person.id_hash, Person.id).where(
                    rules.among(session, Person.id_hash, hashes)
                )
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
                    rules.among(session, Residence.person_id, known.values()),
                    Residence.status.in_(rules.LIVE_STATES),
                )
            ):
                stays.setdefault((person_id, room_id), []).append((moved_in, moved_out, status))
        seen: dict[tuple[str, int], date] = {}
        keep: list[tuple[int, dict]] = []
        for line, data in good:
            key = (data["hash"], data["room_id"])
            if key in seen:
                if seen[key] == data["move_in"]:
                    result.already += 1
                else:
                    self._refuse_duplicate(result, line, data, "pending")
                continue
            earlier = stays.get((known.get(data["hash"]), data["room_id"]))
            if earlier:
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
        references = new_references(len(keep))
        rows = [
            {
                **rules.residence_values(
                    d,
                    known[d["hash"]],
                    d["room_id"],
                    channel=d["channel"],
                    reporter_id=self.user.id,
                    now=now,
                    reported_on=self.today,
                ),
                # move_out, reason, verified_by_id and verified_at are left out
                # (NULL): fewer parameters per row in the executemany.
                "reference": reference,
            }
            for (_n, d), reference in zip(keep, references, strict=True)
        ]
        # One executemany, no RETURNING: SQLite has no sentinel for a RETURNING in the
        # rows' order (SQLAlchemy then sends one INSERT per row) and psycopg parses
        # each page of thousands of placeholders in Python. The ids come back by the
        # rows' unique references.
        session.execute(table.insert(), rows)
        by_reference = dict(
            session.execute(
                select(table.c.reference, table.c.id).where(
                    rules.among(session, table.c.reference, references)
                )
            ).all()
        )
        ids = [by_reference[r] for r in references]
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
            rules.refuse_duplicate(self._room(data["room_id"]), data["id_number"], status)
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
    """Import every row (line, cells in FIELDS order, cleaned as files reads them:
    files.read_rows) validated and written in chunks; flushes, never commits."""
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
