"""The attendees' sign-in (window, once per phone and page nonce) and the quiz,
counted once."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from community.core.errors import Conflict, RuleViolation
from community.core.timeutil import utcnow
from community.outreach import quiz
from community.outreach.models import (
    OutreachEvent,
    OutreachSignin,
)
from community.outreach.services.common import (
    SIGNIN_CLOSES,
    SIGNIN_OPENS,
    SigninClosed,
)

# --- sign-in and quiz ----------------------------------------------------------------


def signin_window(event: OutreachEvent) -> tuple[datetime, datetime]:
    return event.starts_at - SIGNIN_OPENS, event.ends_at + SIGNIN_CLOSES


def signin_open(event: OutreachEvent, now: datetime | None = None) -> bool:
    opens, closes = signin_window(event)
    return event.status == "published" and opens <= (now or utcnow()) <= closes


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
    a cancelled event or one closed already (its attendance was counted); RuleViolation("name" or
    "employer") for anything like an ID or phone number (none is ever asked)."""
    first = first_signin(session, event, device=device, nonce=nonce)
    if first is not None:
        return first, False
    now = now or utcnow()
    if not signin_open(event, now):
        raise SigninClosed(*signin_window(event), status=event.status)
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


def count_signins(session: Session, event_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(OutreachSignin)
            .where(OutreachSignin.event_id == event_id)
        )
        or 0
    )


def purge_signin_names(session: Session, now: datetime | None = None) -> int:
    """Erase the free-text names given at sign-in to the events that ended more than
    OUTREACH_NAME_RETENTION_DAYS ago; the sign-ins (and every count) stay. Returns
    the number of names erased."""
    days = int(current_app.config["OUTREACH_NAME_RETENTION_DAYS"])
    cutoff = (now or utcnow()) - timedelta(days=days)
    ended = select(OutreachEvent.id).where(OutreachEvent.ends_at < cutoff)
    result = session.execute(
        update(OutreachSignin)
        .where(OutreachSignin.name.is_not(None), OutreachSignin.event_id.in_(ended))
        .values(name=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
