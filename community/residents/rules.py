"""The rules of one report, shared by every channel that reports a residence: the
form and the QR declaration (services.report_residence) and the spreadsheet import
(residents/imports): the input cleaned and checked, lateness, the person found or
made once under the unique id_hash, what blocks a second live report of the same
person in a room, and the values and audit detail a report writes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import any_, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from community.core.crypto import lookup_hash, lookup_hasher, mask_id_number
from community.core.errors import Conflict, RuleViolation
from community.core.validators import normalize_phone, phone_error
from community.places.models import Room
from community.residents import documents
from community.residents.models import Person, Residence


def deadline_days() -> int:
    return int(current_app.config.get("REPORT_DEADLINE_DAYS", 3))


def is_late(move_in: date, reported_on: date, *, foreign: bool = False) -> bool:
    """A report is late when it arrives after move-in + REPORT_DEADLINE_DAYS; a
    foreigner's stay (documents.is_foreign) is due within 24 hours of arrival, so
    on the day of arrival or the next (move-in is a day, not an hour)."""
    days = 1 if foreign else deadline_days()
    return reported_on > move_in + timedelta(days=days)


def _room_label(room: Room) -> str:
    return f"{room.building.name} {room.number}"


def clean_report(
    *,
    name: str,
    id_number: str,
    phone: str | None,
    move_in: date | None,
    hometown: str | None,
    employer: str | None,
    phone_required: bool,
    today: date,
    document_type: str | None = None,
    nationality: str | None = None,
    latin_name: str | None = None,
    gender: str | None = None,
    birth_date: date | None = None,
    spreadsheet: bool = False,
) -> dict[str, Any]:
    """The report's fields, normalized; RuleViolation naming every bad field. The
    identity document (documents.check: the resident ID card when no type is
    given) brings the number, the holder's gender and birth date, and the keyed
    hash the person is found by (`hash`). `spreadsheet`: the row comes from an
    imported file (a number Excel mangled is named so)."""
    data, errors = _checked_report(
        lookup_hash,
        name=name,
        id_number=id_number,
        phone=phone,
        move_in=move_in,
        hometown=hometown,
        employer=employer,
        phone_required=phone_required,
        today=today,
        document_type=document_type,
        nationality=nationality,
        latin_name=latin_name,
        gender=gender,
        birth_date=birth_date,
        spreadsheet=spreadsheet,
    )
    if errors:
        raise RuleViolation.several(errors)
    return data


def clean_reports(
    reports: Iterable[dict[str, Any]],
    *,
    phone_required: bool,
    today: date,
    spreadsheet: bool = False,
) -> Iterator[tuple[dict[str, Any], list[tuple[str | None, str]]]]:
    """clean_report of many reports at once (a chunk of an import; each a dict of
    clean_report's fields): per report, in order, its cleaned fields and no errors,
    or the errors per field that clean_report's RuleViolation names — the same
    checks and words, the keyed hash's key looked up once for them all."""
    hash_of = lookup_hasher()
    for report in reports:
        yield _checked_report(
            hash_of,
            phone_required=phone_required,
            today=today,
            spreadsheet=spreadsheet,
            **report,
        )


def _checked_report(
    hash_of: Callable[[str], str],
    *,
    name: str,
    id_number: str,
    phone: str | None,
    move_in: date | None,
    hometown: str | None,
    employer: str | None,
    phone_required: bool,
    today: date,
    document_type: str | None = None,
    nationality: str | None = None,
    latin_name: str | None = None,
    gender: str | None = None,
    birth_date: date | None = None,
    spreadsheet: bool = False,
) -> tuple[dict[str, Any], list[tuple[str | None, str]]]:
    errors: list[tuple[str | None, str]] = []
    document, document_errors = documents.check(
        kind=document_type,
        number=id_number or "",
        nationality=nationality,
        latin_name=latin_name,
        gender=gender,
        birth_date=birth_date,
        today=today,
        spreadsheet=spreadsheet,
    )
    errors.extend(document_errors)
    # A passport's Latin name stands in for a missing name, even while another field
    # of the document is refused (only the fault is named, not a missing name too).
    name = " ".join((name or "").split()) or " ".join((latin_name or "").split())
    if not name:
        errors.append(("name", _("Enter the resident's name.")))
    elif len(name) > 60:
        errors.append(("name", _("At most 60 characters.")))
    phone = normalize_phone(phone or "") or None
    if phone is None and phone_required:
        errors.append(("phone", _("Enter a mobile number.")))
    elif phone is not None:
        message = phone_error(phone)
        if message:
            errors.append(("phone", message))
    if move_in is None:
        errors.append(("move_in", _("Enter the move-in date (YYYY-MM-DD).")))
    elif move_in > today:
        errors.append(("move_in", _("The move-in date cannot be in the future.")))
    elif document is not None and move_in < document.birth_date:
        errors.append(("move_in", _("The move-in date is before the birth date.")))
    hometown = " ".join((hometown or "").split()) or None
    if hometown and len(hometown) > 60:
        errors.append(("hometown", _("At most 60 characters.")))
    employer = " ".join((employer or "").split()) or None
    if employer and len(employer) > 120:
        errors.append(("employer", _("At most 120 characters.")))
    if errors:
        return {}, errors
    return {
        "name": name,
        "id_number": document.number,
        "document": document,
        "hash": hash_of(documents.lookup_key(document)),
        "phone": phone,
        "move_in": move_in,
        "hometown": hometown,
        "employer": employer,
    }, errors


# The report's field rules, for the spreadsheet import too (one place).


def person_values(data: dict[str, Any]) -> dict[str, Any]:
    """A new person's columns from a cleaned report (clean_report): the number (plain:
    EncryptedString encrypts it on the way in), its keyed hash, and the gender and
    birth date read from it — nothing a reporter says, which stays with the report
    (residence_values). The report form and the spreadsheet import create people
    from these."""
    document = data["document"]
    return {
        "id_number": document.number,
        "id_hash": data["hash"],
        "document_type": document.type,
        "nationality": document.nationality,
        "gender": document.gender,
        "birth_date": document.birth_date,
    }


def _insert_new(session: Session):
    """INSERT INTO person ... ON CONFLICT (id_hash) DO NOTHING, in the database's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(Person.__table__).on_conflict_do_nothing(index_elements=["id_hash"])


def among(session: Session, column: Any, values: Iterable[Any]) -> Any:
    """`column IN values` for thousands of values (an import's chunk) as one
    parameter: `= ANY(array)` on PostgreSQL, `IN (SELECT value FROM json_each(...))`
    on SQLite (both seek the column's index per value). An IN list binds each value
    on its own, and rendering and sending 2,000 parameters per query costs more than
    the query."""
    values = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    listed = select(literal_column("value")).select_from(func.json_each(json.dumps(values)))
    return column.in_(listed.scalar_subquery())


def add_people(session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Create the people of `rows` (person_values) that do not exist yet, under the
    unique id_hash: one INSERT ... ON CONFLICT DO NOTHING, so a person created
    meanwhile by a concurrent report or import is kept, never an IntegrityError
    (PostgreSQL waits for that transaction; SQLite's writers take turns). Returns
    the id of every row's person by id_hash."""
    if not rows:
        return {}
    session.execute(_insert_new(session), rows)
    hashes = [r["id_hash"] for r in rows]
    found = select(Person.id_hash, Person.id).where(among(session, Person.id_hash, hashes))
    return dict(session.execute(found).all())


def person_for(session: Session, data: dict[str, Any]) -> Person:
    """The person with this ID number (found by its keyed hash), created when new
    (INSERT ... ON CONFLICT DO NOTHING: of two reports of a new person at once, the
    second finds the first one's record). A report never changes a known person:
    what it says (name, phone, hometown) is kept with the report, so a report in
    one area — a landlord's pending one, a stranger's self-declaration — cannot
    change what another area's police and landlords see."""
    id_hash = data["hash"]
    person = session.scalar(select(Person).where(Person.id_hash == id_hash))
    if person is None:
        session.execute(_insert_new(session), person_values(data))
        person = session.scalars(select(Person).where(Person.id_hash == id_hash)).one()
    return person


# The residences of a person in a room that a new report there may duplicate.
LIVE_STATES = ("pending", "verified")


def blocking_status(stays: Iterable[tuple[date | None, str]]) -> str | None:
    """Of a person's residences in one room in LIVE_STATES (move-out, status), the
    status of one that forbids another report there — waiting for verification,
    or verified and not moved out — else None. The one duplicate rule of the report
    form, the correction and the spreadsheet import."""
    for moved_out, status in stays:
        if status == "pending" or (status == "verified" and moved_out is None):
            return status
    return None


def refuse_live_duplicate(
    session: Session, person: Person, room: Room, number: str, exclude: int | None = None
) -> None:
    """Conflict when the person already waits for verification in this room, or
    already lives there (verified, not moved out)."""
    stmt = select(Residence.move_out, Residence.status).where(
        Residence.person_id == person.id,
        Residence.room_id == room.id,
        Residence.status.in_(LIVE_STATES),
    )
    if exclude is not None:
        stmt = stmt.where(Residence.id != exclude)
    refuse_duplicate(room, number, blocking_status(session.execute(stmt)))


def refuse_duplicate(room: Room, number: str, status: str | None) -> None:
    """The Conflict for a person already waiting (pending) or living (verified) in
    `room` (blocking_status); the import reports it on the row."""
    if status == "pending":
        raise Conflict(
            _(
                "A report of %(id)s for room %(room)s is already waiting for verification.",
                id=mask_id_number(number),
                room=_room_label(room),
            )
        )
    if status == "verified":
        raise Conflict(
            _(
                "%(id)s is already registered as living in room %(room)s.",
                id=mask_id_number(number),
                room=_room_label(room),
            )
        )


def residence_values(
    data: dict[str, Any],
    person_id: int,
    room_id: int,
    *,
    channel: str,
    reporter_id: int | None,
    now: datetime,
    reported_on: date,
) -> dict[str, Any]:
    """A new report's residence columns from a cleaned report: the facts it gives of
    the person, pending, and late when it comes after move-in +
    REPORT_DEADLINE_DAYS (is_late). The report form and the spreadsheet import
    write reports from these."""
    return {
        "person_id": person_id,
        "room_id": room_id,
        **report_facts(data),
        "move_in": data["move_in"],
        "channel": channel,
        "reported_at": now,
        "reporter_id": reporter_id,
        "employer": data["employer"],
        "status": "pending",
        "late": is_late(
            data["move_in"], reported_on, foreign=documents.is_foreign(data["document"].type)
        ),
    }


def report_facts(data: dict[str, Any]) -> dict[str, Any]:
    """What a cleaned report says of the person, kept on its residence (the phone
    plain: EncryptedString encrypts it on the way in)."""
    return {
        "name": data["name"],
        "latin_name": data["document"].latin_name,
        "phone": data["phone"],
        "hometown": data["hometown"],
    }


def reported_detail(residence: dict[str, Any]) -> dict[str, Any]:
    """The audit detail of a report (ids and flags, no personal data)."""
    return {key: residence[key] for key in ("person_id", "room_id", "channel", "late")}
