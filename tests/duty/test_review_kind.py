"""Duty reports in the review queue: who sees them, approving (points), rejecting
(reason required), a second decision."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import g

from community.duty.models import DutyClaim
from tests.conftest import csrf_from
from tests.factories.accounts import make_area, make_area_tree
from tests.factories.duty import make_claim, make_coordinator, make_duty, make_volunteer


@pytest.fixture(autouse=True)
def _fresh_csrf_per_request(app, monkeypatch):
    """Several logins in one test share `g`: forget the cached CSRF token."""

    def forget():
        g.pop("csrf_token", None)
        g.pop("csrf_valid", None)

    funcs = app.before_request_funcs.get(None, [])
    monkeypatch.setitem(app.before_request_funcs, None, [forget, *funcs])


@pytest.fixture
def duty(session):
    _d, street, community = make_area_tree(session)
    other = make_area(session, name="另一社区", level="community", parent=street)
    coordinator = make_coordinator(session, area=community)
    other_coordinator = make_coordinator(session, area=other)
    volunteer = make_volunteer(session, area=community)
    task = make_duty(
        session,
        area=community,
        publisher=coordinator,
        title="夜间巡逻",
        points=7,
        starts_in=timedelta(hours=-3),
    )
    older = make_claim(session, task=task, volunteer=volunteer, status="reported")
    newer = make_claim(
        session, task=task, volunteer=make_volunteer(session, area=community), status="reported"
    )
    older.checked_out_at = newer.checked_out_at - timedelta(minutes=30)
    session.commit()
    return coordinator, other_coordinator, volunteer, task, older, newer


def _post(client, path, **data):
    token = csrf_from(client.get("/reviews/").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def _stored(session, claim_id):
    session.expire_all()
    return session.get(DutyClaim, claim_id)


def test_reports_wait_in_the_coordinators_queue_oldest_first(client, login, duty):
    coordinator, _other, volunteer, task, older, newer = duty
    login(coordinator)
    resp = client.get("/reviews/?kind=duty_report")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    ids = re.findall(r'<article id="review-duty_report-(\d+)"', html)
    assert ids == [str(older.id), str(newer.id)]
    row = re.search(rf'<article id="review-duty_report-{older.id}".*?</article>', html, re.S)
    row = row.group(0)
    assert "夜间巡逻 · " in row and volunteer.display_name in row
    assert f'href="/duties/claims/{older.id}"' in row


def test_other_areas_coordinator_and_volunteer_do_not_see_them(client, login, duty):
    _coordinator, other, volunteer, _task, older, _newer = duty
    login(other)
    html = client.get("/reviews/").get_data(as_text=True)
    assert "review-duty_report-" not in html
    assert _post(client, f"/reviews/duty_report/{older.id}", decision="approve").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_from(html)})
    login(volunteer)
    resp = client.get("/reviews/")
    assert resp.status_code == 403
    assert "review-duty_report-" not in resp.get_data(as_text=True)


def test_approve_stores_approved_and_points(client, login, duty, session):
    coordinator, *_rest, older, _newer = duty
    login(coordinator)
    resp = _post(client, f"/reviews/duty_report/{older.id}", decision="approve")
    assert resp.status_code == 303
    stored = _stored(session, older.id)
    assert (stored.status, stored.points_awarded, stored.decided_by_id) == (
        "approved",
        7,
        coordinator.id,
    )


def test_reject_needs_a_reason(client, login, duty, session):
    coordinator, *_rest, older, _newer = duty
    login(coordinator)
    resp = _post(client, f"/reviews/duty_report/{older.id}", decision="reject", reason=" ")
    assert resp.status_code == 422
    assert _stored(session, older.id).status == "reported"
    resp = _post(client, f"/reviews/duty_report/{older.id}", decision="reject", reason="没有照片")
    assert resp.status_code == 303
    stored = _stored(session, older.id)
    assert (stored.status, stored.decision_reason, stored.points_awarded) == (
        "rejected",
        "没有照片",
        0,
    )


def test_second_decision_is_409(client, login, duty, session):
    coordinator, *_rest, older, _newer = duty
    login(coordinator)
    assert _post(client, f"/reviews/duty_report/{older.id}", decision="approve").status_code == 303
    resp = _post(client, f"/reviews/duty_report/{older.id}", decision="reject", reason="晚了")
    assert resp.status_code == 409
    assert f"Already decided by {coordinator.display_name}" in resp.get_data(as_text=True)
    assert _stored(session, older.id).status == "approved"
