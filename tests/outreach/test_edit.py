"""Changing an event before it starts (time, place, speakers): by whoever manages it,
its publisher among them; refused once it started, was closed or was cancelled
(409 from one conditional UPDATE, also when that happened meanwhile); an event
staffed through a duty keeps its time; a corner visit never moves onto another."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from community.core.errors import Conflict, RuleViolation
from community.core.models import AuditEvent
from community.core.timeutil import to_local, utcnow
from community.extensions import db
from community.outreach import services
from community.outreach.models import OutreachEvent
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import make_area_tree, make_org, make_role_user
from tests.factories.outreach import make_corner, make_event


@pytest.fixture
def w(session):
    _district, street, community = make_area_tree(session)
    station = make_org(session, kind="police_station", area=street)
    return SimpleNamespace(
        community=community,
        station=station,
        police=make_role_user(session, "police", org=station),
        event=make_event(session, area=community, organiser=station, starts_in=timedelta(days=1)),
    )


def _later(event, days=2):
    return event.starts_at + timedelta(days=days), event.ends_at + timedelta(days=days)


def test_the_police_move_an_event_and_change_its_speakers(session, w):
    starts, ends = _later(w.event)
    services.update_event(
        session, w.police, w.event, starts_at=starts, ends_at=ends, speakers="  王 警官 "
    )
    assert (w.event.starts_at, w.event.ends_at, w.event.speakers) == (starts, ends, "王 警官")
    detail = session.scalar(
        select(AuditEvent.detail).where(AuditEvent.action == "outreach_changed")
    )
    assert detail is not None


def test_a_start_in_the_past_or_an_end_before_it_is_refused(session, w):
    with pytest.raises(RuleViolation) as exc:
        services.update_event(
            session,
            w.police,
            w.event,
            starts_at=utcnow() - timedelta(minutes=1),
            ends_at=utcnow() - timedelta(minutes=2),
        )
    assert sorted(f for f, _m in exc.value.errors) == ["ends_at", "starts_at"]


def test_a_cancelled_event_is_no_longer_changed(session, w):
    services.cancel_event(session, w.police, w.event)
    starts, ends = _later(w.event)
    with pytest.raises(Conflict):
        services.update_event(session, w.police, w.event, starts_at=starts, ends_at=ends)


def test_an_event_that_started_is_no_longer_changed(session, w):
    started = make_event(
        session, area=w.community, organiser=w.station, starts_in=-timedelta(minutes=5)
    )
    starts = utcnow() + timedelta(days=1)
    with pytest.raises(Conflict):
        services.update_event(
            session, w.police, started, starts_at=starts, ends_at=starts + timedelta(hours=1)
        )
    assert session.get(OutreachEvent, started.id).starts_at < utcnow()


def test_a_staffed_event_keeps_its_time_but_may_change_speakers(session, w):
    event = services.publish_event(
        session,
        w.police,
        services.EventInput(
            kind="anti_fraud",
            title="反诈",
            target="area",
            area_id=w.community.id,
            starts_at=w.event.starts_at,
            ends_at=w.event.ends_at,
            organiser_id=w.station.id,
            staff=2,
        ),
    )
    starts, ends = _later(event)
    with pytest.raises(RuleViolation) as exc:
        services.update_event(session, w.police, event, starts_at=starts, ends_at=ends)
    assert [f for f, _m in exc.value.errors] == ["starts_at"]
    services.update_event(
        session,
        w.police,
        event,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        speakers="李律师",
    )
    assert event.speakers == "李律师"


def test_a_corner_visit_is_not_moved_onto_another(session, w):
    corner = make_corner(session, area=w.community, opens=time(8), closes=time(20))
    day = to_local(utcnow()).date() + timedelta(days=3)

    def visit(hour):
        start = datetime.combine(day, time(hour)) - (to_local(utcnow()) - utcnow())
        return make_event(
            session,
            area=w.community,
            organiser=w.station,
            kind="corner_visit",
            corner=corner,
            starts_in=start.replace(microsecond=0) - utcnow().replace(microsecond=0),
            hours=1,
        )

    first, second = visit(9), visit(14)
    with pytest.raises(Conflict):
        services.update_event(
            session,
            w.police,
            second,
            starts_at=first.starts_at + timedelta(minutes=30),
            ends_at=first.ends_at + timedelta(minutes=30),
        )


def test_the_edit_page_saves_and_answers_409_once_cancelled(client, login, app):
    with app.app_context():
        s = db.session
        community = make_area_tree(s)[2]
        station = make_org(s, kind="police_station", area=community)
        police = make_role_user(s, "police", org=station, password=PASSWORD)
        event = make_event(s, area=community, organiser=station, starts_in=timedelta(days=1))
        s.commit()
        name, event_id = police.username, event.id
        start = to_local(event.starts_at) + timedelta(days=1)
    login(name)
    page = client.get(f"/outreach/events/{event_id}/edit").get_data(as_text=True)
    form = {
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "speakers": "王警官",
        "csrf_token": csrf_from(page),
    }
    resp = client.post(f"/outreach/events/{event_id}/edit", data=form)
    assert resp.status_code == 303
    assert "王警官" in client.get(f"/outreach/events/{event_id}").get_data(as_text=True)
    show = client.get(f"/outreach/events/{event_id}").get_data(as_text=True)
    client.post(f"/outreach/events/{event_id}/cancel", data={"csrf_token": csrf_from(show)})
    resp = client.post(f"/outreach/events/{event_id}/edit", data=form)
    assert resp.status_code == 409
