"""The residence rules: report (every channel), verify, reject, resubmit, move out,
reveal. Plain functions taking a session; they flush, never commit.

Workflow (each step writes an audit event carrying ids only, never a name,
number or phone):

    report --> pending --verify--> verified --move_out--> (ended)
                  |  ^
           reject |  | resubmit (by the reporter, corrected)
                  v  |
                rejected

A police report is verified at once. Each report keeps its own facts (name,
phone, hometown): a report never changes what another report says. Verifying a
new residence ends the person's previous active ones that the same officer
polices, on the new move-in day (or on the old move-in day when the new one
claims an earlier date, so the dates stay ordered); one in another officer's area
stays active, and its police get a notice to record the move-out — a report in
one area never ends another area's register. Two verifications of one person
take turns on the person row (SELECT ... FOR UPDATE; SQLite's writers take turns
anyway), so the second sees the first.

Who may take a step is decided in residents/permissions.py; these functions
enforce the input and state rules and raise RuleViolation (422, per field),
Conflict (409) or NotPermitted (403).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, case, cast, literal, select, update
from sqlalchemy.orm import Session

from community.accounts.services import area_user_ids
from community.core import audit
from community.core.errors import Conflict, RuleViolation
from community.core.notify import notify, path_for, register_message
from community.core.reviews import require_reason
from community.core.timeutil import local_date, utcnow
from community.core.timeutil import today as local_today
from community.places.models import Building, Room, Site
from community.residents import rollups
from community.residents.compliance.services import LedgerReport, record_reports
from community.residents.models import CHANNELS, Person, Residence
from community.residents.permissions import earning_channel, polices_in
from community.residents.rules import (
    clean_report,
    is_late,
    person_for,
    refuse_live_duplicate,
    report_facts,
    reported_detail,
    residence_values,
)

# Audit actions (object type "residence").
REPORTED, VERIFIED, REJECTED, RESUBMITTED, MOVED_OUT, REVEALED, REGISTERED_ELSEWHERE = (
    "residence.reported",
    "residence.verified",
    "residence.rejected",
    "residence.resubmitted",
    "residence.moved_out",
    "residence.revealed",
    "residence.registered_elsewhere",
)
audit.register_actions(
    {
        REPORTED: _l("Residence reported"),
        VERIFIED: _l("Registration approved"),
        REJECTED: _l("Registration sent back"),
        RESUBMITTED: _l("Registration resubmitted"),
        MOVED_OUT: _l("Move-out recorded"),
        REVEALED: _l("Full ID number revealed"),
        REGISTERED_ELSEWHERE: _l("Registered as living in another area"),
        "person.purged": _l("Expired personal data purged"),
    }
)


# Notices (core.notify): params are names of places and months, never a resident's data.
RESIDENCE_REJECTED_NOTICE = "residence-rejected"
REGISTERED_ELSEWHERE_NOTICE = "residence-registered-elsewhere"
register_message(
    REGISTERED_ELSEWHERE_NOTICE,
    _l(
        "The resident of room %(room)s at %(site)s was registered by the police of "
        "another area as living there since %(date)s. If they have left, record "
        "the move-out."
    ),
)
register_message(
    RESIDENCE_REJECTED_NOTICE,
    _l(
        "Your registration for room %(room)s at %(site)s was sent back; "
        "correct it and submit it again."
    ),
)


def report_residence(
    session: Session,
    reporter: Any,
    room: Room,
    *,
    name: str,
    id_number: str,
    phone: str | None,
    move_in: date | None,
    hometown: str | None = None,
    employer: str | None = None,
    channel: str,
    today: date | None = None,
    **document: Any,
) -> Residence:
    """Record that a person lives in `room` since `move_in`, reported through
    `channel` by `reporter` (None for a self-declaration). Pending, except a police
    report, which is verified at once (and ends the person's previous residence).
    `late` is set when the report comes after move-in + REPORT_DEADLINE_DAYS.
    `room` must have its building and site loaded.

    `document` holds the identity document's fields besides the number
    (document_type, nationality, latin_name, gender, birth_date: rules.clean_report;
    none for a resident ID card).

    Raises RuleViolation on the bad fields (name, id_number, phone, move_in,
    hometown, employer and the document's), Conflict when the same person already waits for
    verification (or lives) in this room."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    now = utcnow()
    reported_on = today or local_date(now)
    data = clean_report(
        name=name,
        id_number=id_number,
        phone=phone,
        move_in=move_in,
        hometown=hometown,
        employer=employer,
        phone_required=channel == "self_declared",
        today=reported_on,
        **document,
    )
    person = person_for(session, data)
    refuse_live_duplicate(session, person, room, data["id_number"])
    values = residence_values(
        data,
        person.id,
        room.id,
        channel=channel,
        reporter_id=reporter.id if reporter is not None else None,
        now=now,
        reported_on=reported_on,
    )
    residence = Residence(**values)
    residence.person, residence.room = person, room
    session.add(residence)
    session.flush()
    audit.record(session, reporter, REPORTED, residence, reported_detail(values))
    record_reports(
        session,
        [LedgerReport(residence.id, room.building.site, channel, residence.late, reported_on)],
    )
    if channel == "police":
        _decide(session, reporter, residence, "verified")
    session.flush()
    return residence


def _end_previous(session: Session, actor: Any, residence: Residence) -> None:
    """End the person's other active residences that `actor` polices on the new
    move-in day (never before their own move-in day), each one an audit event of
    its own. One in an area the actor does not police stays active: its police get
    a notice (and the audit log a line) that the person was registered elsewhere,
    and record the move-out themselves when it is true."""
    previous = session.execute(
        select(
            Residence.id,
            Residence.room_id,
            Residence.move_in,
            Site.area_id,
            case((polices_in(actor, Site.area_id), True), else_=False),
        )
        .join(Room, Room.id == Residence.room_id)
        .join(Building, Building.id == Room.building_id)
        .join(Site, Site.id == Building.site_id)
        .where(
            Residence.person_id == residence.person_id,
            Residence.id != residence.id,
            Residence.status == "verified",
            Residence.move_out.is_(None),
        )
    ).all()
    ended = [row for row in previous if row[4]]
    for rid, room_id, _moved_in, area_id, mine in previous:
        if not mine:
            _tell_other_police(session, actor, rid, room_id, area_id, residence)
    if not ended:
        return
    for _rid, room_id, moved_in, _area, _mine in ended:
        rollups.resident_left(session, room_id, max(moved_in, residence.move_in))
    session.execute(
        update(Residence)
        .where(
            Residence.id.in_([r[0] for r in ended]),
            Residence.status == "verified",
            Residence.move_out.is_(None),
        )
        .values(
            move_out=case(
                (Residence.move_in > residence.move_in, Residence.move_in),
                else_=residence.move_in,
            )
        )
        .execution_options(synchronize_session=False)
    )
    for rid, *_rest in ended:
        audit.record(
            session,
            actor,
            MOVED_OUT,
            None,
            {"ended_by": residence.id, "move_in_of_new": residence.move_in.isoformat()},
            object_type="residence",
            object_id=rid,
        )


def _tell_other_police(
    session: Session, actor: Any, residence_id: int, room_id: int, area_id: int, new: Residence
) -> None:
    """The police of `area_id` learn that the person of their active residence
    `residence_id` was registered (verified) elsewhere since `new.move_in`; the
    notice names their own room, never the other area's address or the person."""
    room, site = _room_and_site(session, room_id)
    notify(
        session,
        area_user_ids(session, area_id, "police"),
        REGISTERED_ELSEWHERE_NOTICE,
        link=path_for("residents.show", residence_id=residence_id),
        key=f"registered-elsewhere:{residence_id}:{new.id}",
        room=room,
        site=site,
        date=new.move_in.isoformat(),
    )
    audit.record(
        session,
        actor,
        REGISTERED_ELSEWHERE,
        None,
        {"registered_as": new.id, "move_in_of_new": new.move_in.isoformat()},
        object_type="residence",
        object_id=residence_id,
    )


def _decide(
    session: Session, actor: Any, residence: Residence, status: str, reason: str | None = None
) -> None:
    """pending -> verified|rejected with one conditional UPDATE (a second decision,
    even a concurrent one, gets Conflict), inside a savepoint so a refused decision
    leaves nothing behind (bulk verification goes on with the next)."""
    already = _("This registration was already decided.")
    if residence.status != "pending":
        raise Conflict(already)
    try:
        with session.begin_nested():
            if status == "verified":
                # Verifications of one person take turns here: the second one sees
                # the first (and ends it, when the same officer polices both).
                session.execute(
                    select(Person.id).where(Person.id == residence.person_id).with_for_update()
                )
                _end_previous(session, actor, residence)
            result = session.execute(
                update(Residence)
                .where(Residence.id == residence.id, Residence.status == "pending")
                .values(
                    status=status,
                    reason=reason,
                    verified_by_id=actor.id,
                    verified_at=utcnow(),
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                raise Conflict(already)
            if status == "verified":
                rollups.resident_arrived(session, residence.room_id, residence.move_in)
    finally:
        session.expire(residence, ["status", "reason", "verified_by_id", "verified_at"])
    audit.record(
        session,
        actor,
        VERIFIED if status == "verified" else REJECTED,
        residence,
        {"from": "pending", "to": status},
    )


def verify_residence(session: Session, police: Any, residence: Residence) -> Residence:
    """pending -> verified; ends the person's previous active residence in the same
    transaction. Conflict when it was already decided (or the person was verified
    elsewhere at the same moment)."""
    _decide(session, police, residence, "verified")
    session.flush()
    return residence


def verify_many(session: Session, police: Any, residences: list[Residence]) -> tuple[int, int]:
    """Verify each pending residence (one transaction, each in its own savepoint);
    returns (verified, skipped because already decided or in conflict)."""
    done = skipped = 0
    for residence in residences:
        try:
            _decide(session, police, residence, "verified")
            done += 1
        except Conflict:
            skipped += 1
    session.flush()
    return done, skipped


def reject_residence(session: Session, police: Any, residence: Residence, reason: str) -> Residence:
    """pending -> rejected with a reason the reporter (and a self-declaring tenant,
    on the status page) reads. The reason is free text written by the police: it
    must say what to correct, never repeat personal data. RuleViolation("reason")
    when empty or too long; Conflict when already decided."""
    reason = require_reason(reason, _("Say why the registration is sent back."))
    _decide(session, police, residence, "rejected", reason)
    _notify_rejected(session, residence)
    session.flush()
    return residence


def _room_and_site(session: Session, room_id: int) -> tuple[str, str]:
    row = session.execute(
        select(Building.name, Room.number, Site.name)
        .join(Building, Building.id == Room.building_id)
        .join(Site, Site.id == Building.site_id)
        .where(Room.id == room_id)
    ).one()
    return f"{row[0]} {row[1]}", row[2]


def _notify_rejected(session: Session, residence: Residence) -> None:
    """The reporter (an account; a self-declaring tenant reads the status page)."""
    if residence.reporter_id is None:
        return
    room, site = _room_and_site(session, residence.room_id)
    notify(
        session,
        [residence.reporter_id],
        RESIDENCE_REJECTED_NOTICE,
        link=path_for("residents.show", residence_id=residence.id),
        room=room,
        site=site,
    )


def resubmit_residence(
    session: Session,
    reporter: Any,
    residence: Residence,
    *,
    name: str,
    id_number: str | None,
    phone: str | None,
    move_in: date | None,
    hometown: str | None = None,
    employer: str | None = None,
    today: date | None = None,
    **document: Any,
) -> Residence:
    """rejected -> pending again with corrected fields (by its reporter). An empty
    `id_number` or `phone` keeps the stored (encrypted) value: the form shows them
    masked, so only what the police asked to correct is typed again; what is kept
    passes the same checks as what is typed. A kept number keeps its document
    (type, country, the holder's facts); a typed one comes with `document`'s
    fields as report_residence takes them. The report keeps its first time and
    its `late` mark: correcting it is not a new report. RuleViolation per field as
    report_residence; Conflict when it is not rejected (any more) or duplicates
    another report of the room."""
    if residence.status != "rejected":
        raise Conflict(_("Only a registration that was sent back can be corrected."))
    stored = session.get(Person, residence.person_id)
    if not (id_number or "").strip():
        id_number = stored.id_number
        document = {
            "document_type": stored.document_type,
            "nationality": stored.nationality,
            "gender": stored.gender,
            "birth_date": stored.birth_date,
            "latin_name": document.get("latin_name") or residence.latin_name,
        }
    phone = (phone or "").strip() or residence.phone
    data = clean_report(
        name=name,
        id_number=id_number,
        phone=phone,
        move_in=move_in,
        hometown=hometown,
        employer=employer,
        phone_required=residence.channel == "self_declared",
        today=today or local_today(),
        **document,
    )
    person = person_for(session, data)
    refuse_live_duplicate(session, person, residence.room, data["id_number"], exclude=residence.id)
    result = session.execute(
        update(Residence)
        .where(Residence.id == residence.id, Residence.status == "rejected")
        .values(
            person_id=person.id,
            **report_facts(data),
            move_in=data["move_in"],
            employer=data["employer"],
            status="pending",
            reason=None,
            verified_by_id=None,
            verified_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    session.expire(residence)
    if result.rowcount != 1:
        raise Conflict(_("Only a registration that was sent back can be corrected."))
    audit.record(session, reporter, RESUBMITTED, residence, {"person_id": person.id})
    session.flush()
    return residence


def move_out(
    session: Session, actor: Any, residence: Residence, on: date | None, today: date | None = None
) -> Residence:
    """End a verified residence on `on` (not before move-in, not in the future).
    RuleViolation("move_out") for a bad date; Conflict when it is not active.

    A move-out is a report too: recorded by the site's landlord or a manager of its
    property company, it writes a points line (event "move_out") to them, with the
    report's rule: late (POINTS_LATE, reason "late") when recorded after
    move-out + REPORT_DEADLINE_DAYS, else timely (POINTS_TIMELY) — keeping the
    register current earns what reporting a move-in earns. Recorded by the police
    it earns nothing, as a police report does. `residence` must have its room,
    building and site loaded."""
    reported_on = today or local_today()
    if on is None:
        raise RuleViolation("move_out", _("Enter the move-out date (YYYY-MM-DD)."))
    if residence.status != "verified" or residence.move_out is not None:
        raise Conflict(_("Only a current, verified resident can move out."))
    if on < residence.move_in:
        raise RuleViolation(
            "move_out",
            _(
                "The move-out date cannot be before the move-in date (%(date)s).",
                date=residence.move_in.isoformat(),
            ),
        )
    if on > reported_on:
        raise RuleViolation("move_out", _("The move-out date cannot be in the future."))
    result = session.execute(
        update(Residence)
        .where(
            Residence.id == residence.id,
            Residence.status == "verified",
            Residence.move_out.is_(None),
        )
        .values(move_out=on)
        .execution_options(synchronize_session=False)
    )
    session.expire(residence, ["move_out", "status"])
    if result.rowcount != 1:
        raise Conflict(_("Only a current, verified resident can move out."))
    late = is_late(on, reported_on)
    room = residence.room
    site = room.building.site
    record_reports(
        session,
        [
            LedgerReport(
                residence.id, site, earning_channel(actor, site), late, reported_on, "move_out"
            )
        ],
    )
    rollups.resident_left(session, residence.room_id, on)
    audit.record(session, actor, MOVED_OUT, residence, {"move_out": on.isoformat(), "late": late})
    session.flush()
    return residence


def reveal(session: Session, police: Any, residence: Residence) -> tuple[str, str | None]:
    """The full ID number and phone of the residence's person, for the police; the
    audit event says who saw which residence's data, never the values."""
    person = residence.person
    audit.record(session, police, REVEALED, residence, {"person_id": person.id})
    session.flush()
    return person.id_number, residence.phone


PURGED_ID = "-"


def purge_expired_residents(session: Session, today: date | None = None) -> int:
    """Erase the personal data (ID number; the name, phone and hometown of each of
    their reports) of the people whose every residence ended more than
    RESIDENT_RETENTION_DAYS ago; their residence rows keep room, dates, channel,
    status and late, so counts and rates stay as they were. A person still living
    somewhere (or waiting for verification) keeps their data. The keyed hash
    becomes "purged:<id>", so the same ID number reported again is a new person.
    Returns how many people were erased."""
    days = int(current_app.config.get("RESIDENT_RETENTION_DAYS", 365))
    cutoff = (today or local_today()) - timedelta(days=days)
    ended = select(Residence.person_id).where(Residence.move_out < cutoff)
    kept = select(Residence.person_id).where(
        (Residence.move_out.is_(None)) | (Residence.move_out >= cutoff)
    )
    ids = session.scalars(
        select(Person.id).where(
            Person.id.in_(ended), Person.id.not_in(kept), Person.id_hash.not_like("purged:%")
        )
    ).all()
    for start in range(0, len(ids), 1000):
        batch = ids[start : start + 1000]
        session.execute(
            update(Person)
            .where(Person.id.in_(batch))
            .values(
                id_number=PURGED_ID,
                id_hash=literal("purged:") + cast(Person.id, String),
            )
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Residence)
            .where(Residence.person_id.in_(batch))
            .values(name="", phone=None, hometown=None)
            .execution_options(synchronize_session=False)
        )
    if ids:
        audit.record(session, None, "person.purged", Person(), {"count": len(ids)})
    session.flush()
    return len(ids)
