"""Publishing events (target, organiser, a duty for the staff, a corner booking
without overlap, a visit request scheduled), cancelling and closing them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from community.accounts.models import Area, Organization
from community.core import audit, uploads
from community.core.errors import Conflict, RuleViolation
from community.core.timeutil import to_local, utcnow
from community.core.validators import is_id
from community.duty import services as duty
from community.duty.models import DutyTask
from community.outreach.models import (
    KINDS,
    MAX_PHOTOS,
    OutreachCorner,
    OutreachEvent,
    OutreachPhoto,
)
from community.outreach.permissions import organiser_scope, publish_areas
from community.outreach.services.common import (
    CANCELLED,
    CHANGED,
    CLOSED,
    MAX_HOURS,
    PUBLISHED,
    span,
    when,
)
from community.outreach.services.requests import _schedule, _waiting_request
from community.outreach.services.signins import count_signins
from community.places.models import Site

DUTY_KIND = {
    "anti_fraud": "anti_fraud",
    "legal": "legal_publicity",
    "anti_gang": "legal_publicity",
    "fire_safety": "fire_check",
    "anti_drug": "publicity",
    "corner_visit": "publicity",
    "safety_education": "publicity",
}
# Attendees sign in from this long before the start until this long after the end.

# --- publishing ----------------------------------------------------------------------


@dataclass
class EventInput:
    kind: str
    title: str
    target: str
    starts_at: datetime | None  # naive UTC
    ends_at: datetime | None
    organiser_id: int | None
    enterprise_id: int | None = None
    site_id: int | None = None
    area_id: int | None = None
    place: str = ""
    corner_id: int | None = None
    speakers: str = ""
    planned_audience: int = 0
    staff: int = 0
    points: int = 10
    request_id: int | None = None


def _in_publish_areas(session: Session, actor: Any, area_id: int | None) -> Area | None:
    if not is_id(area_id):
        return None
    return session.scalar(select(Area).where(Area.id == area_id, publish_areas(actor)))


def _in_areas_of(session: Session, actor: Any, model: Any, row_id: Any, *where: Any):
    """The row of `model` (an organization, site or corner: each has area_id) with
    that id when it lies in the areas the actor publishes in, else None (one
    message for both: nothing told about the rest)."""
    if not is_id(row_id):
        return None
    return session.scalar(
        select(model)
        .join(Area, Area.id == model.area_id)
        .where(model.id == row_id, publish_areas(actor), *where)
    )


def _resolve_target(session: Session, actor: Any, data: EventInput, errors: list) -> dict:
    """The target's columns and the event's area, each checked to lie in the areas
    the actor publishes in (one message, nothing told about the rest)."""
    found: dict[str, Any] = {"enterprise": None, "site": None, "area": None, "place": None}
    if data.target == "enterprise":
        org = _in_areas_of(
            session,
            actor,
            Organization,
            data.enterprise_id,
            Organization.kind == "enterprise",
        )
        if org is None:
            errors.append(("enterprise_id", _("Choose an enterprise of your areas.")))
        else:
            found.update(enterprise=org, area=org.area)
    elif data.target == "site":
        site = _in_areas_of(session, actor, Site, data.site_id)
        if site is None:
            errors.append(("site_id", _("Give the number of a site of your areas.")))
        else:
            found.update(site=site, area=site.area)
    elif data.target in ("area", "school", "place"):
        area = _in_publish_areas(session, actor, data.area_id)
        if area is None:
            errors.append(("area_id", _("Choose a community of your areas.")))
        found["area"] = area
        place = " ".join((data.place or "").split())[:200]
        if data.target != "area" and not place:
            errors.append(("place", _("Name the school or place.")))
        found["place"] = place or None
    else:
        errors.append(("target", _("Choose where the event is held.")))
    return found


def _check_corner(session: Session, actor: Any, data: EventInput, errors: list):
    if data.kind != "corner_visit":
        return None
    corner = _in_areas_of(session, actor, OutreachCorner, data.corner_id)
    if corner is None:
        errors.append(("corner_id", _("Choose an experience corner of your areas.")))
        return None
    _check_hours(corner, data.starts_at, data.ends_at, errors)
    return corner


def _check_hours(corner: OutreachCorner, starts_at, ends_at, errors: list) -> None:
    """A group visit lies within one day's opening hours of the corner."""
    if starts_at and ends_at and ends_at > starts_at:
        start, end = to_local(starts_at), to_local(ends_at)
        if start.date() != end.date() or start.time() < corner.opens or end.time() > corner.closes:
            errors.append(
                (
                    "starts_at",
                    _(
                        "The corner is open %(opens)s–%(closes)s.",
                        opens=corner.opens.strftime("%H:%M"),
                        closes=corner.closes.strftime("%H:%M"),
                    ),
                )
            )


def corner_conflict(
    session: Session, corner_id: int, starts_at: datetime, ends_at: datetime, skip: int = 0
) -> OutreachEvent | None:
    """The booking of the corner overlapping [starts_at, ends_at), if any."""
    return session.scalar(
        select(OutreachEvent)
        .where(
            OutreachEvent.corner_id == corner_id,
            OutreachEvent.status != "cancelled",
            OutreachEvent.starts_at < ends_at,
            OutreachEvent.ends_at > starts_at,
            OutreachEvent.id != skip,
        )
        .order_by(OutreachEvent.starts_at)
        .limit(1)
    )


def _overlap_message(other: OutreachEvent) -> str:
    return _(
        "The corner is already booked then: “%(title)s”, %(span)s.",
        title=other.title,
        span=span(other.starts_at, other.ends_at),
    )


def _validate(session: Session, actor: Any, data: EventInput) -> tuple[dict, Any, Any]:
    errors: list[tuple[str | None, str]] = []
    if not (data.title or "").strip():
        errors.append(("title", _("Give the event a title.")))
    if data.kind not in KINDS:
        errors.append(("kind", _("Unknown kind of event.")))
    if data.starts_at is None:
        errors.append(("starts_at", _("Give the start (YYYY-MM-DDTHH:MM).")))
    if data.ends_at is None:
        errors.append(("ends_at", _("Give the end (YYYY-MM-DDTHH:MM).")))
    elif data.starts_at is not None and data.ends_at <= data.starts_at:
        errors.append(("ends_at", _("The end must come after the start.")))
    elif data.starts_at is not None and data.ends_at - data.starts_at > timedelta(hours=MAX_HOURS):
        errors.append(("ends_at", _("An event lasts at most 24 hours.")))
    if (data.planned_audience or 0) < 0:
        errors.append(("planned_audience", _("Cannot be negative.")))
    if not 0 <= (data.staff or 0) <= 100:
        errors.append(("staff", _("Between 0 and 100 volunteers.")))
    corner = _check_corner(session, actor, data, errors)
    if corner is not None and data.target in ("area", "school", "place"):
        # A group visit is held at the corner: its place and community by default.
        data.place = data.place or corner.place or corner.name
        data.area_id = data.area_id or corner.area_id
    target = _resolve_target(session, actor, data, errors)
    organiser = (
        session.scalar(
            select(Organization).where(Organization.id == data.organiser_id, organiser_scope(actor))
        )
        if is_id(data.organiser_id)
        else None
    )
    if organiser is None:
        errors.append(("organiser_id", _("Choose the organiser.")))
    if errors:
        raise RuleViolation.several(errors)
    return target, organiser, corner


def publish_event(session: Session, actor: Any, data: EventInput) -> OutreachEvent:
    """Publish an event. With `staff` > 0 a duty of the matching kind (DUTY_KIND) is
    published for the event's time and area, and volunteers claim it on the duty
    roster (the duty's rules apply: its start may not lie in the past). An event
    already held may be recorded afterwards without staff. A corner visit is booked
    for its corner within the opening hours; an overlapping booking is a Conflict
    naming it (the database refuses one too). With `request_id` the waiting visit
    request is scheduled by this event (Conflict when decided meanwhile).
    RuleViolation on: title, kind, target, enterprise_id, site_id, area_id, place,
    corner_id, starts_at, ends_at, organiser_id, staff."""
    target, organiser, corner = _validate(session, actor, data)
    title = data.title.strip()[:120]
    if corner is not None:
        other = corner_conflict(session, corner.id, data.starts_at, data.ends_at)
        if other is not None:
            raise Conflict(_overlap_message(other))
    visit = _waiting_request(session, actor, data.request_id) if data.request_id else None
    task = None
    if data.staff:
        try:
            task = duty.publish_duty(
                session,
                actor,
                duty.DutyInput(
                    title=title,
                    kind=DUTY_KIND[data.kind],
                    area=target["area"],
                    starts_at=data.starts_at,
                    ends_at=data.ends_at,
                    capacity=data.staff,
                    points=data.points or 0,
                    checkpoints="",
                ),
            )[0]
        except RuleViolation as exc:
            raise RuleViolation.several(
                [("staff" if n == "capacity" else n, m) for n, m in exc.errors]
            ) from None
    event = OutreachEvent(
        kind=data.kind,
        title=title,
        target=data.target,
        area_id=target["area"].id,
        enterprise_id=target["enterprise"].id if target["enterprise"] else None,
        site_id=target["site"].id if target["site"] else None,
        place=target["place"],
        corner_id=corner.id if corner else None,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        organiser_id=organiser.id,
        speakers=" ".join((data.speakers or "").split())[:200] or None,
        planned_audience=data.planned_audience or 0,
        status="published",
        duty_id=task.id if task else None,
        publisher_id=getattr(actor, "id", None),
        signins_counted=0,
        hand_count=0,
        attendance=0,
        materials=0,
    )
    event.area, event.organiser = target["area"], organiser
    event.enterprise, event.site, event.corner = target["enterprise"], target["site"], corner
    try:
        with session.begin_nested():
            session.add(event)
    except IntegrityError:
        # Another booking of the corner landed meanwhile (the database's guarantee).
        other = (
            corner_conflict(session, corner.id, data.starts_at, data.ends_at) if corner else None
        )
        if other is None:
            raise
        raise Conflict(_overlap_message(other)) from None
    audit.record(
        session,
        actor,
        PUBLISHED,
        event,
        {"kind": event.kind, "target": event.target, "duty": event.duty_id},
    )
    if visit is not None:
        _schedule(session, actor, visit, event)
    session.flush()
    return event


def _time_errors(starts_at, ends_at) -> list[tuple[str, str]]:
    errors = []
    if starts_at is None:
        errors.append(("starts_at", _("Give the start (YYYY-MM-DDTHH:MM).")))
    if ends_at is None:
        errors.append(("ends_at", _("Give the end (YYYY-MM-DDTHH:MM).")))
    elif starts_at is not None and ends_at <= starts_at:
        errors.append(("ends_at", _("The end must come after the start.")))
    elif starts_at is not None and ends_at - starts_at > timedelta(hours=MAX_HOURS):
        errors.append(("ends_at", _("An event lasts at most 24 hours.")))
    return errors


def update_event(
    session: Session,
    actor: Any,
    event: OutreachEvent,
    *,
    starts_at: datetime | None,
    ends_at: datetime | None,
    place: str = "",
    speakers: str = "",
    now: datetime | None = None,
) -> OutreachEvent:
    """Change a published event's time, place and speakers before it starts. The
    new start lies in the future; a school or other place keeps a name; an event
    staffed through a duty keeps its time (its volunteers claimed those hours:
    cancel it and publish again to move it); a corner visit stays within the
    corner's hours and overlaps no other booking (Conflict naming it; the database
    refuses one too). One conditional UPDATE: Conflict when the event was closed or
    cancelled, or started, meanwhile. RuleViolation on starts_at, ends_at, place."""
    now = now or utcnow()
    errors = _time_errors(starts_at, ends_at)
    if starts_at is not None and starts_at <= now:
        errors.append(("starts_at", _("The start must lie in the future.")))
    place = " ".join((place or "").split())[:200]
    if event.target in ("school", "place") and not place:
        errors.append(("place", _("Name the school or place.")))
    moved = (starts_at, ends_at) != (event.starts_at, event.ends_at)
    if event.duty_id is not None and moved:
        errors.append(
            (
                "starts_at",
                _(
                    "Volunteers claimed this event's duty for its time: cancel the event "
                    "and publish it again to move it."
                ),
            )
        )
    corner = session.get(OutreachCorner, event.corner_id) if event.corner_id else None
    if corner is not None:
        _check_hours(corner, starts_at, ends_at, errors)
    if errors:
        raise RuleViolation.several(errors)
    if corner is not None and moved:
        other = corner_conflict(session, corner.id, starts_at, ends_at, skip=event.id)
        if other is not None:
            raise Conflict(_overlap_message(other))
    before = {"starts_at": when(event.starts_at), "place": event.place, "speakers": event.speakers}
    values = {
        "starts_at": starts_at,
        "ends_at": ends_at,
        "place": (place or None) if event.target in ("school", "place", "area") else event.place,
        "speakers": " ".join((speakers or "").split())[:200] or None,
    }
    try:
        with session.begin_nested():
            result = session.execute(
                update(OutreachEvent)
                .where(
                    OutreachEvent.id == event.id,
                    OutreachEvent.status == "published",
                    OutreachEvent.starts_at > now,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
    except IntegrityError:
        # Another booking of the corner landed meanwhile (the database's guarantee).
        other = (
            corner_conflict(session, corner.id, starts_at, ends_at, skip=event.id)
            if corner is not None
            else None
        )
        if other is None:
            raise
        raise Conflict(_overlap_message(other)) from None
    finally:
        session.expire(event, list(values) + ["status"])
    if result.rowcount != 1:
        raise Conflict(
            _("This event was closed or cancelled, or has started: it can no longer be changed.")
        )
    after = {"starts_at": when(starts_at), "place": values["place"], "speakers": values["speakers"]}
    audit.record(session, actor, CHANGED, event, {"from": before, "to": after})
    session.flush()
    return event


def cancel_event(session: Session, actor: Any, event: OutreachEvent) -> OutreachEvent:
    """published -> cancelled; its duty is cancelled with it (its volunteers are told).
    Conflict when not published."""
    result = session.execute(
        update(OutreachEvent)
        .where(OutreachEvent.id == event.id, OutreachEvent.status == "published")
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    )
    session.expire(event, ["status"])
    if result.rowcount != 1:
        raise Conflict(_("Only a published event can be cancelled."))
    if event.duty_id is not None:
        task = session.get(DutyTask, event.duty_id)
        if task is not None and task.status == "published":
            duty.cancel_duty(session, actor, task)
    audit.record(session, actor, CANCELLED, event, {})
    session.flush()
    return event


# --- closing -------------------------------------------------------------------------


def close_event(
    session: Session,
    actor: Any,
    event: OutreachEvent,
    *,
    hand_count: int,
    materials: int,
    notes: str = "",
    photos: list[IO[bytes]] | None = None,
) -> OutreachEvent:
    """published -> closed (held) once it has started: attendance = the sign-ins
    counted now + the people counted by hand; materials handed out, notes and up to
    MAX_PHOTOS photos (cleaned as hazard photos are, all decoded before anything is
    written). RuleViolation("hand_count"|"materials"|"photo1".."photo3");
    Conflict when not published or not started yet."""
    if hand_count is None or hand_count < 0:
        raise RuleViolation("hand_count", _("Cannot be negative."))
    if materials is None or materials < 0:
        raise RuleViolation("materials", _("Cannot be negative."))
    photos = [p for p in (photos or []) if p is not None]
    if len(photos) > MAX_PHOTOS:
        raise RuleViolation("photo1", _("At most %(n)d photos.", n=MAX_PHOTOS))
    images = [uploads.clean_image(p, field=f"photo{i}") for i, p in enumerate(photos, 1)]
    if event.status != "published":
        raise Conflict(_("This event is not open any more."))
    if event.starts_at > utcnow():
        raise Conflict(_("The event has not started yet: close it once it is held."))
    counted = count_signins(session, event.id)
    result = session.execute(
        update(OutreachEvent)
        .where(OutreachEvent.id == event.id, OutreachEvent.status == "published")
        .values(
            status="closed",
            closed_at=utcnow(),
            signins_counted=counted,
            hand_count=hand_count,
            attendance=counted + hand_count,
            materials=materials,
            notes=(notes or "").strip()[:2000] or None,
        )
        .execution_options(synchronize_session=False)
    )
    session.expire(event)
    if result.rowcount != 1:
        raise Conflict(_("This event is not open any more."))
    stored: list[str] = []
    try:
        for position, image in enumerate(images, 1):
            name = uploads.store(image)
            stored.append(name)
            session.add(OutreachPhoto(event_id=event.id, position=position, name=name))
        session.flush()
    except Exception:
        for name in stored:
            uploads.remove(name)
        raise
    audit.record(
        session,
        actor,
        CLOSED,
        event,
        {
            "signins": counted,
            "hand_count": hand_count,
            "materials": materials,
            "photos": len(images),
        },
    )
    session.flush()
    return event
