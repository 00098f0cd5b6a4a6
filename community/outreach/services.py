"""Outreach rules: publish an event (staffed through a linked duty, booked at an
experience corner without overlap, scheduling a visit request), sign attendees
in (window, once per phone, replays answered with the first sign-in), score the
quiz once, close the event with attendance; visit requests; corners.

Who may act is decided in outreach/permissions.py; these functions enforce the
rules of the input and the state and raise RuleViolation (422), Conflict (409)
or SigninClosed (410)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import IO, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from community.accounts.models import Area, Organization
from community.accounts.permissions import can
from community.accounts.services import member_user_ids
from community.core import audit, uploads
from community.core.errors import Conflict, RuleViolation
from community.core.notify import notify, path_for, register_message
from community.core.reviews import require_reason
from community.core.timeutil import to_local, today, utcnow
from community.core.validators import is_id
from community.duty import services as duty
from community.duty.models import DutyTask
from community.outreach import quiz
from community.outreach.models import (
    KINDS,
    MAX_PHOTOS,
    OutreachCorner,
    OutreachEvent,
    OutreachPhoto,
    OutreachSignin,
    VisitRequest,
)
from community.outreach.permissions import organiser_scope, publish_areas, requester_orgs
from community.places.models import Site

# The duty kind that staffs each event kind (duty's own kinds where one fits).
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
SIGNIN_OPENS = timedelta(minutes=30)
SIGNIN_CLOSES = timedelta(hours=2)
MAX_HOURS = 24

PUBLISHED, CLOSED, CANCELLED, REQUESTED, SCHEDULED, DECLINED, CORNER = (
    "outreach_published",
    "outreach_closed",
    "outreach_cancelled",
    "outreach_requested",
    "outreach_request_scheduled",
    "outreach_request_declined",
    "outreach_corner_created",
)
audit.register_actions(
    {
        PUBLISHED: _l("Outreach event published"),
        CLOSED: _l("Outreach event closed"),
        CANCELLED: _l("Outreach event cancelled"),
        REQUESTED: _l("Outreach visit requested"),
        SCHEDULED: _l("Outreach visit request scheduled"),
        DECLINED: _l("Outreach visit request declined"),
        CORNER: _l("Experience corner created"),
    }
)
SCHEDULED_NOTICE, DECLINED_NOTICE = "outreach-request-scheduled", "outreach-request-declined"
register_message(SCHEDULED_NOTICE, _l("Your visit request was scheduled: %(when)s."))
register_message(DECLINED_NOTICE, _l("Your visit request was declined: %(reason)s"))


class SigninClosed(Exception):
    """Sign-in is not open now (410): `opens` and `closes` in UTC."""

    def __init__(self, opens: datetime, closes: datetime, cancelled: bool = False):
        super().__init__("sign-in closed")
        self.opens, self.closes, self.cancelled = opens, closes, cancelled


def when(at: datetime) -> str:
    return to_local(at).strftime("%Y-%m-%d %H:%M")


def _span(starts_at: datetime, ends_at: datetime) -> str:
    return f"{when(starts_at)}–{to_local(ends_at).strftime('%H:%M')}"


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


def _resolve_target(session: Session, actor: Any, data: EventInput, errors: list) -> dict:
    """The target's columns and the event's area, each checked to lie in the areas
    the actor publishes in (one message, nothing told about the rest)."""
    found: dict[str, Any] = {"enterprise": None, "site": None, "area": None, "place": None}
    if data.target == "enterprise":
        org = (
            session.scalar(
                select(Organization)
                .join(Area, Area.id == Organization.area_id)
                .where(
                    Organization.id == data.enterprise_id,
                    Organization.kind == "enterprise",
                    publish_areas(actor),
                )
            )
            if is_id(data.enterprise_id)
            else None
        )
        if org is None:
            errors.append(("enterprise_id", _("Choose an enterprise of your areas.")))
        else:
            found.update(enterprise=org, area=org.area)
    elif data.target == "site":
        site = (
            session.scalar(
                select(Site)
                .join(Area, Area.id == Site.area_id)
                .where(Site.id == data.site_id, publish_areas(actor))
            )
            if is_id(data.site_id)
            else None
        )
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
    corner = (
        session.scalar(
            select(OutreachCorner)
            .join(Area, Area.id == OutreachCorner.area_id)
            .where(OutreachCorner.id == data.corner_id, publish_areas(actor))
        )
        if is_id(data.corner_id)
        else None
    )
    if corner is None:
        errors.append(("corner_id", _("Choose an experience corner of your areas.")))
        return None
    if data.starts_at and data.ends_at and data.ends_at > data.starts_at:
        start, end = to_local(data.starts_at), to_local(data.ends_at)
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
    return corner


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
        span=_span(other.starts_at, other.ends_at),
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


# --- sign-in and quiz ----------------------------------------------------------------


def signin_window(event: OutreachEvent) -> tuple[datetime, datetime]:
    return event.starts_at - SIGNIN_OPENS, event.ends_at + SIGNIN_CLOSES


def signin_open(event: OutreachEvent, now: datetime | None = None) -> bool:
    opens, closes = signin_window(event)
    return event.status != "cancelled" and opens <= (now or utcnow()) <= closes


def first_signin(
    session: Session, event: OutreachEvent, *, device: str | None = None, nonce: str | None = None
) -> OutreachSignin | None:
    """The sign-in already made from this phone (cookie) or by this page (nonce)."""
    conditions = []
    if device:
        conditions.append(OutreachSignin.device == device)
    if nonce:
        conditions.append(OutreachSignin.nonce == nonce)
    if not conditions:
        return None
    return session.scalar(
        select(OutreachSignin)
        .where(OutreachSignin.event_id == event.id, or_(*conditions))
        .order_by(OutreachSignin.id)
        .limit(1)
    )


def _looks_like_id_number(text: str) -> bool:
    digits = sum(c.isdigit() for c in text)
    return digits >= 6


def sign_in(
    session: Session,
    event: OutreachEvent,
    *,
    nonce: str,
    device: str,
    name: str = "",
    employer: str = "",
    now: datetime | None = None,
) -> tuple[OutreachSignin, bool]:
    """Sign an attendee in: (the sign-in, True) when new; (the first one, False) when
    this phone (`device`, its cookie) or this page (`nonce`) signed in before — a
    repeat or a replay is never counted twice (unique indexes on both are the
    backstop). SigninClosed outside the window (SIGNIN_OPENS before the start to
    SIGNIN_CLOSES after the end, at `now`: the demo signs in at past events) or for
    a cancelled event; RuleViolation("name" or
    "employer") for anything like an ID or phone number (none is ever asked)."""
    first = first_signin(session, event, device=device, nonce=nonce)
    if first is not None:
        return first, False
    now = now or utcnow()
    if not signin_open(event, now):
        raise SigninClosed(*signin_window(event), cancelled=event.status == "cancelled")
    name = " ".join((name or "").split())[:40]
    employer = " ".join((employer or "").split())[:120]
    errors = [
        (field, _("No numbers here: we never ask for an ID or phone number."))
        for field, value in (("name", name), ("employer", employer))
        if _looks_like_id_number(value)
    ]
    if errors:
        raise RuleViolation.several(errors)
    signin = OutreachSignin(
        event_id=event.id,
        nonce=nonce,
        device=device,
        name=name or None,
        employer=employer or None,
        signed_at=now,
    )
    try:
        with session.begin_nested():
            session.add(signin)
    except IntegrityError:
        first = first_signin(session, event, device=device, nonce=nonce)
        if first is None:
            raise
        return first, False
    return signin, True


def answer_quiz(
    session: Session, event: OutreachEvent, signin: OutreachSignin, answers: list[str | None]
) -> int:
    """Score the five answers and keep the score once: a second answer (posted twice,
    or again later) is a Conflict naming the first score. Returns the right answers."""
    right = quiz.score(event.kind, answers)
    result = session.execute(
        update(OutreachSignin)
        .where(OutreachSignin.id == signin.id, OutreachSignin.quiz_at.is_(None))
        .values(quiz_correct=right, quiz_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.expire(signin, ["quiz_correct", "quiz_at"])
    if result.rowcount != 1:
        raise Conflict(
            _(
                "You answered the quiz already: %(right)d of %(total)d right.",
                right=signin.quiz_correct or 0,
                total=quiz.QUESTIONS,
            )
        )
    return right


# --- closing -------------------------------------------------------------------------


def count_signins(session: Session, event_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(OutreachSignin)
            .where(OutreachSignin.event_id == event_id)
        )
        or 0
    )


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


# --- visit requests ------------------------------------------------------------------


def request_visit(
    session: Session,
    actor: Any,
    *,
    kind: str,
    organization_id: int | None,
    site_id: int | None,
    preferred_from: date | None,
    preferred_to: date | None,
    audience: int | None,
    note: str = "",
) -> VisitRequest:
    """An enterprise or property company asks for a session at its premises: its
    own organization (one of the actor's), for a property company one of its sites.
    RuleViolation on kind, organization_id, site_id, preferred_from (in the past),
    preferred_to (before preferred_from), audience (< 1)."""
    errors: list[tuple[str | None, str]] = []
    if kind not in KINDS:
        errors.append(("kind", _("Unknown kind of event.")))
    org = (
        session.get(Organization, organization_id)
        if is_id(organization_id) and organization_id in requester_orgs(actor)
        else None
    )
    if org is None:
        errors.append(("organization_id", _("Choose your organization.")))
    site = None
    if org is not None and org.kind == "property_company":
        site = (
            session.scalar(select(Site).where(Site.id == site_id, Site.company_id == org.id))
            if is_id(site_id)
            else None
        )
        if site is None:
            errors.append(("site_id", _("Choose one of your company's sites.")))
    if preferred_from is None:
        errors.append(("preferred_from", _("Give a date.")))
    elif preferred_from < today():
        errors.append(("preferred_from", _("The date lies in the past.")))
    if preferred_to is None:
        errors.append(("preferred_to", _("Give a date.")))
    elif preferred_from is not None and preferred_to < preferred_from:
        errors.append(("preferred_to", _("The last date comes before the first.")))
    if audience is None or audience < 1:
        errors.append(("audience", _("At least one person.")))
    if errors:
        raise RuleViolation.several(errors)
    visit = VisitRequest(
        kind=kind,
        organization_id=org.id,
        site_id=site.id if site else None,
        area_id=site.area_id if site else org.area_id,
        preferred_from=preferred_from,
        preferred_to=preferred_to,
        audience=audience,
        note=(note or "").strip()[:500] or None,
        status="waiting",
        requested_by_id=getattr(actor, "id", None),
    )
    session.add(visit)
    session.flush()
    audit.record(session, actor, REQUESTED, visit, {"kind": kind, "audience": audience})
    return visit


def _waiting_request(session: Session, actor: Any, request_id: Any) -> VisitRequest:
    visit = session.get(VisitRequest, int(request_id)) if is_id(_int(request_id)) else None
    if visit is None or not can(actor, "outreach.request.decide", visit):
        raise RuleViolation(None, _("The visit request is not one you decide."))
    if visit.status != "waiting":
        raise Conflict(_("This request was already decided."))
    return visit


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _decide(session: Session, visit: VisitRequest, actor: Any, **values: Any) -> None:
    result = session.execute(
        update(VisitRequest)
        .where(VisitRequest.id == visit.id, VisitRequest.status == "waiting")
        .values(decided_by_id=getattr(actor, "id", None), decided_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    session.expire(visit)
    if result.rowcount != 1:
        raise Conflict(_("This request was already decided."))


def _requesters(session: Session, visit: VisitRequest) -> list[int]:
    return member_user_ids(session, [visit.organization_id], "enterprise", "property_manager")


def _schedule(session: Session, actor: Any, visit: VisitRequest, event: OutreachEvent) -> None:
    _decide(session, visit, actor, status="scheduled", event_id=event.id)
    audit.record(session, actor, SCHEDULED, visit, {"event": event.id})
    notify(
        session,
        _requesters(session, visit),
        SCHEDULED_NOTICE,
        link=path_for("outreach.show_request", request_id=visit.id),
        when=when(event.starts_at),
    )


def decline_request(session: Session, actor: Any, visit: VisitRequest, reason: str) -> VisitRequest:
    """waiting -> declined with a reason the requester reads. RuleViolation("reason")
    when empty; Conflict when decided already."""
    reason = require_reason(reason, _("Say why the request is declined."))
    _decide(session, visit, actor, status="declined", reason=reason)
    audit.record(session, actor, DECLINED, visit, {"reason": reason})
    notify(
        session,
        _requesters(session, visit),
        DECLINED_NOTICE,
        link=path_for("outreach.show_request", request_id=visit.id),
        reason=reason,
    )
    session.flush()
    return visit


# --- experience corners --------------------------------------------------------------


def create_corner(
    session: Session,
    actor: Any,
    *,
    name: str,
    area_id: int | None,
    site_id: int | None,
    place: str,
    opens: time | None,
    closes: time | None,
    capacity: int | None,
) -> OutreachCorner:
    """A 心防体验区 in one of the actor's areas, at a site of it or a named place,
    open `opens`–`closes` local time. RuleViolation on name, area_id, site_id,
    place, closes, capacity."""
    errors: list[tuple[str | None, str]] = []
    name = " ".join((name or "").split())[:120]
    if not name:
        errors.append(("name", _("Give the corner a name.")))
    area = _in_publish_areas(session, actor, area_id)
    if area is None:
        errors.append(("area_id", _("Choose a community of your areas.")))
    site = None
    if site_id:
        site = session.get(Site, site_id) if is_id(site_id) else None
        if site is None or area is None or not site.area.path.startswith(area.path):
            errors.append(("site_id", _("Give the number of a site of that community.")))
    place = " ".join((place or "").split())[:200]
    if site is None and not place:
        errors.append(("place", _("Name the place, or give a site.")))
    if opens is None or closes is None or closes <= opens:
        errors.append(("closes", _("It must close after it opens.")))
    if capacity is None or capacity < 1:
        errors.append(("capacity", _("At least one visitor.")))
    if errors:
        raise RuleViolation.several(errors)
    corner = OutreachCorner(
        name=name,
        area_id=area.id,
        site_id=site.id if site else None,
        place=place or None,
        opens=opens,
        closes=closes,
        capacity=capacity,
    )
    corner.area = area
    session.add(corner)
    session.flush()
    audit.record(session, actor, CORNER, corner, {"name": name})
    return corner


def local_span(starts_at: datetime, ends_at: datetime) -> str:
    return _span(starts_at, ends_at)
