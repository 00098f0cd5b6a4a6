"""Factories for outreach: events in any state (rows written directly, so a test
can place an event in the past), sign-ins, visit requests and corners."""

from __future__ import annotations

import itertools
import secrets
from datetime import date, time, timedelta

from community.core.timeutil import today, utcnow
from community.outreach.models import (
    OutreachCorner,
    OutreachEvent,
    OutreachSignin,
    VisitRequest,
)
from tests.factories.accounts import make_org, make_role_user

_seq = itertools.count(1)


def make_police(session, *, area, password="correct-horse-battery"):
    org = make_org(session, kind="police_station", area=area)
    return make_role_user(session, "police", org=org, password=password)


def make_event(
    session,
    *,
    area,
    organiser=None,
    kind="anti_fraud",
    target="area",
    enterprise=None,
    site=None,
    corner=None,
    starts_in=timedelta(hours=1),
    hours=1.5,
    status="published",
    attendance=0,
    title=None,
    place=None,
) -> OutreachEvent:
    """An event on `area` starting `starts_in` from now (negative: in the past);
    status "closed" makes it held with `attendance` people."""
    if organiser is None:
        organiser = make_org(session, kind="police_station", area=area)
    starts = utcnow().replace(microsecond=0) + starts_in
    event = OutreachEvent(
        kind=kind,
        title=title or f"event-{next(_seq)}",
        target=target,
        area_id=(enterprise.area_id if enterprise else site.area_id if site else area.id),
        enterprise_id=enterprise.id if enterprise else None,
        site_id=site.id if site else None,
        corner_id=corner.id if corner else None,
        place=place,
        starts_at=starts,
        ends_at=starts + timedelta(hours=hours),
        organiser_id=organiser.id,
        planned_audience=30,
        status=status,
        signins_counted=attendance if status == "closed" else 0,
        hand_count=0,
        attendance=attendance if status == "closed" else 0,
        materials=0,
        closed_at=utcnow() if status == "closed" else None,
    )
    session.add(event)
    session.flush()
    return event


def make_signin(session, *, event, name=None, quiz_correct=None) -> OutreachSignin:
    signin = OutreachSignin(
        event_id=event.id,
        nonce=secrets.token_urlsafe(16),
        device=secrets.token_urlsafe(16),
        name=name,
        quiz_correct=quiz_correct,
        quiz_at=utcnow() if quiz_correct is not None else None,
    )
    session.add(signin)
    session.flush()
    return signin


def make_request(
    session, *, organization, site=None, kind="anti_fraud", status="waiting", days=3
) -> VisitRequest:
    start: date = today() + timedelta(days=days)
    visit = VisitRequest(
        kind=kind,
        organization_id=organization.id,
        site_id=site.id if site else None,
        area_id=site.area_id if site else organization.area_id,
        preferred_from=start,
        preferred_to=start + timedelta(days=7),
        audience=40,
        status=status,
    )
    session.add(visit)
    session.flush()
    return visit


def make_corner(session, *, area, name=None, opens=time(8), closes=time(20)) -> OutreachCorner:
    corner = OutreachCorner(
        name=name or f"corner-{next(_seq)}",
        area_id=area.id,
        place="社区心防体验区",
        opens=opens,
        closes=closes,
        capacity=30,
    )
    session.add(corner)
    session.flush()
    return corner
