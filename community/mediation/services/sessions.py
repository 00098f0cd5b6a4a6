"""Sessions booked in mediation rooms. A room and a mediator are never
double-booked: the database refuses an overlap (models' docstring: exclusion
constraints on PostgreSQL, triggers on SQLite); book_session turns the refusal
into a Conflict naming the booking in the way. A session lies within its room's
opening hours, on one local day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from community.core import audit
from community.core.errors import Conflict, RuleViolation
from community.core.timeutil import now_local, to_local, to_utc, utcnow
from community.mediation.models import (
    CaseMediator,
    MediationCase,
    MediationRoom,
    MediationSession,
)
from community.mediation.services.common import (
    BOOKED,
    BOOKED_NOTICE,
    HELD,
    SESSION_CANCELLED,
    add_event,
    case_people,
    tell,
)


@dataclass(frozen=True)
class Booking:
    room: MediationRoom
    mediator_id: int
    starts_at: datetime  # local wall-clock time, as the form gives it
    ends_at: datetime


def _when(s: MediationSession) -> str:
    start, end = to_local(s.starts_at), to_local(s.ends_at)
    return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"


def overlapping(
    session: Session, column, value: int, starts: datetime, ends: datetime, *, skip=None
):
    """The first live session on `column` = `value` overlapping [starts, ends) (UTC)."""
    stmt = select(MediationSession).where(
        column == value,
        MediationSession.status != "cancelled",
        MediationSession.starts_at < ends,
        starts < MediationSession.ends_at,
    )
    if skip is not None:
        stmt = stmt.where(MediationSession.id != skip)
    return session.scalars(stmt.order_by(MediationSession.starts_at).limit(1)).first()


def _conflict_message(session: Session, booking: Booking, starts: datetime, ends: datetime) -> str:
    room = overlapping(session, MediationSession.room_id, booking.room.id, starts, ends)
    if room is not None:
        number = session.scalar(
            select(MediationCase.number).where(MediationCase.id == room.case_id)
        )
        return _(
            "%(room)s is already booked %(when)s (case %(number)s).",
            room=booking.room.name,
            when=_when(room),
            number=number,
        )
    busy = overlapping(session, MediationSession.mediator_id, booking.mediator_id, starts, ends)
    if busy is not None:
        number = session.scalar(
            select(MediationCase.number).where(MediationCase.id == busy.case_id)
        )
        return _(
            "%(name)s already has a session %(when)s in %(room)s (case %(number)s).",
            name=busy.mediator.display_name,
            when=_when(busy),
            room=busy.room.name,
            number=number,
        )
    return _("This time was taken meanwhile: choose another.")


def check_booking(
    session: Session, case: MediationCase, booking: Booking
) -> tuple[datetime, datetime]:
    """The booking's UTC interval, or RuleViolation per field (mediator_id, room_id,
    starts_at, ends_at)."""
    errors: list[tuple[str | None, str]] = []
    assigned = session.scalar(
        select(CaseMediator.id).where(
            CaseMediator.case_id == case.id, CaseMediator.user_id == booking.mediator_id
        )
    )
    if assigned is None:
        errors.append(("mediator_id", _("Choose a mediator of this case.")))
    if not booking.room.active:
        errors.append(("room_id", _("This room is closed.")))
    start, end = booking.starts_at, booking.ends_at
    if end <= start:
        errors.append(("ends_at", _("A session ends after it starts.")))
    elif start.date() != end.date():
        errors.append(("ends_at", _("A session starts and ends on the same day.")))
    elif start.time() < booking.room.opens or end.time() > booking.room.closes:
        errors.append(
            (
                "starts_at" if start.time() < booking.room.opens else "ends_at",
                _(
                    "%(room)s is open from %(opens)s to %(closes)s.",
                    room=booking.room.name,
                    opens=booking.room.opens.strftime("%H:%M"),
                    closes=booking.room.closes.strftime("%H:%M"),
                ),
            )
        )
    if start < now_local():
        errors.append(("starts_at", _("A session cannot start in the past.")))
    if errors:
        raise RuleViolation.several(errors)
    return to_utc(start), to_utc(end)


def book_session(
    session: Session, actor: Any, case: MediationCase, booking: Booking
) -> MediationSession:
    """Book a session of an accepted case: RuleViolation per field (check_booking);
    Conflict naming the booking when the room or the mediator is taken then (the
    database's refusal, whatever the concurrency), or when the case is not accepted."""
    if case.status != "accepted":
        raise Conflict(_("Sessions are booked for an accepted case only."))
    starts, ends = check_booking(session, case, booking)
    row = MediationSession(
        case_id=case.id,
        room_id=booking.room.id,
        mediator_id=booking.mediator_id,
        starts_at=starts,
        ends_at=ends,
        status="booked",
        booked_by_id=actor.id,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise Conflict(_conflict_message(session, booking, starts, ends)) from exc
    add_event(session, case, actor, "booked", f"{booking.room.name} {_when(row)}")
    audit.record(session, actor, BOOKED, case, {"session": row.id, "room": booking.room.id})
    tell(
        session,
        case_people(session, case),
        BOOKED_NOTICE,
        case,
        room=booking.room.name,
        when=format_datetime(to_local(starts), "yyyy-MM-dd HH:mm"),
    )
    session.flush()
    return row


def _step(session: Session, row: MediationSession, actor: Any, **values: Any) -> None:
    result = session.execute(
        update(MediationSession)
        .where(MediationSession.id == row.id, MediationSession.status == "booked")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(_("This session was already recorded or cancelled."))
    session.refresh(row)


def record_session(
    session: Session, actor: Any, row: MediationSession, notes: str
) -> MediationSession:
    """booked -> held with the notes (RuleViolation("notes") when empty); a session
    is recorded once it started. Conflict when recorded or cancelled already."""
    notes = (notes or "").strip()
    if not notes:
        raise RuleViolation("notes", _("Write what happened in the session."))
    if row.starts_at > utcnow():
        raise RuleViolation(None, _("A session is recorded once it has started."))
    _step(session, row, actor, status="held", notes=notes)
    case = session.get(MediationCase, row.case_id)
    add_event(session, case, actor, "held", notes)
    audit.record(session, actor, HELD, case, {"session": row.id})
    session.flush()
    return row


def cancel_session(session: Session, actor: Any, row: MediationSession) -> MediationSession:
    """booked -> cancelled (the room and the mediator are free again)."""
    _step(session, row, actor, status="cancelled")
    case = session.get(MediationCase, row.case_id)
    add_event(session, case, actor, "session_cancelled", f"{row.room.name} {_when(row)}")
    audit.record(session, actor, SESSION_CANCELLED, case, {"session": row.id})
    session.flush()
    return row
