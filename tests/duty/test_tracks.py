"""Routes walked: consent once per duty, batches from the phone checked point by
point (order, future, far away, replays, size), the route drawn on the duty page for
the volunteer and the area's coordinators only, "on patrol now", the purge."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from community.accounts.models import Area
from community.core.timeutil import utcnow
from community.duty.models import DutyCheckpoint, DutyClaim, DutyTrackPoint
from community.duty.services import geo, tracks
from community.extensions import db
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import make_area_tree, make_role_user
from tests.factories.duty import make_claim, make_coordinator, make_duty, make_volunteer

QUEUE = {"X-Duty-Queue": "1"}
LAT, LON = 28.0, 120.6


def ms(when: datetime) -> int:
    return int((when - datetime(1970, 1, 1)).total_seconds() * 1000)


@pytest.fixture
def walk(app, login):
    """A volunteer logged in, on duty (checked in 20 minutes ago, route recording
    agreed) on a duty of a community whose coordinator is `coordinator`."""
    with app.app_context():
        area = make_area_tree(db.session)[2]
        me = make_volunteer(db.session, area=area, password=PASSWORD)
        coordinator = make_coordinator(db.session, area=area)
        task = make_duty(db.session, area=area, starts_in=-timedelta(minutes=20), hours=2)
        claim = make_claim(
            db.session,
            task=task,
            volunteer=me,
            status="on_duty",
            checked_in_at=utcnow() - timedelta(minutes=20),
        )
        claim.track_consent = True
        db.session.commit()
        ids = {
            "username": me.username,
            "coordinator": coordinator.username,
            "claim": claim.id,
            "task": task.id,
            "area": area.id,
        }
    login(ids["username"])
    return ids


def _post(client, walk, points, key="batch-key-1", made=None):
    token = csrf_from(client.get(f"/duties/claims/{walk['claim']}").get_data(as_text=True))
    now = utcnow()
    return client.post(
        f"/duties/claims/{walk['claim']}/track",
        data={
            "csrf_token": token,
            "points": json.dumps(points),
            "idempotency_key": key,
            "client_at": str(ms(made or now)),
            "sent_at": str(ms(now)),
        },
        headers=QUEUE,
    )


def _points(start, n, step_m=30, every=timedelta(seconds=60)):
    return [
        {"t": ms(start + every * i), "lat": LAT + i * step_m / 111_000, "lon": LON, "acc": 8}
        for i in range(n)
    ]


def _switch(client, login, username):
    """Log the client out, then in as `username`."""
    token = csrf_from(client.get("/duties/mine").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})
    login(username)


def _stored(app, claim_id):
    with app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(DutyTrackPoint)
            .where(DutyTrackPoint.claim_id == claim_id)
        )


def test_batch_is_stored_in_time_order_and_a_replay_stores_nothing(client, app, walk):
    points = _points(utcnow() - timedelta(minutes=15), 6)
    shuffled = [points[3], points[0], points[5], points[1], points[4], points[2]]
    made = utcnow()
    first = _post(client, walk, shuffled, made=made)
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.json["stored"] == 6 and first.json["dropped"] == 0
    again = _post(client, walk, shuffled, made=made)
    assert again.status_code == 200 and again.json["replay"] is True
    other_key = _post(client, walk, points[:3], key="batch-key-2")
    assert other_key.json["stored"] == 0 and other_key.json["duplicates"] == 3
    assert _stored(app, walk["claim"]) == 6
    with app.app_context():
        route = tracks.route_points(db.session, [walk["claim"]])[walk["claim"]]
        assert [p.at for p in route] == sorted(p.at for p in route)
        assert route[0].lat == LAT
        encrypted = (
            db.session.connection()
            .exec_driver_sql("SELECT position FROM duty_track_point LIMIT 1")
            .scalar()
        )
        assert "28.0" not in encrypted


def test_future_and_far_points_are_dropped_and_counted(client, app, walk):
    now = utcnow()
    points = _points(now - timedelta(minutes=5), 3)
    points.append({"t": ms(now + timedelta(hours=2)), "lat": LAT, "lon": LON, "acc": 5})
    points.append({"t": ms(now - timedelta(minutes=1)), "lat": 39.9, "lon": 116.4, "acc": 5})
    points.append({"t": ms(now - timedelta(hours=3)), "lat": LAT, "lon": LON, "acc": 5})
    resp = _post(client, walk, points)
    assert resp.status_code == 200
    assert resp.json["stored"] == 3 and resp.json["dropped"] == 3
    assert _stored(app, walk["claim"]) == 3


def test_ten_thousand_points_are_refused_with_a_clear_answer(client, app, walk):
    resp = _post(client, walk, _points(utcnow() - timedelta(minutes=15), 10_000, step_m=0))
    assert resp.status_code == 422 and resp.json["reason"] == "invalid"
    assert resp.json["message"] == "At most 500 positions per batch; this one has 10000."
    assert _stored(app, walk["claim"]) == 0


def test_unreadable_batch_and_no_consent_are_refused(client, app, walk):
    bad = _post(client, walk, [{"t": "x", "lat": "north"}])
    assert bad.status_code == 422 and bad.json["reason"] == "invalid"
    with app.app_context():
        db.session.execute(
            update(DutyClaim).where(DutyClaim.id == walk["claim"]).values(track_consent=False)
        )
        db.session.commit()
    refused = _post(client, walk, _points(utcnow() - timedelta(minutes=5), 2), key="nokey-222")
    assert refused.status_code == 409
    assert refused.json["message"] == "The route is recorded only with your consent."


def test_another_users_claim_is_404(client, app, walk):
    with app.app_context():
        area = db.session.get(Area, walk["area"])
        other = make_volunteer(db.session, area=area)
        task = make_duty(db.session, area=area, starts_in=-timedelta(minutes=5))
        theirs = make_claim(
            db.session, task=task, volunteer=other, status="on_duty", checked_in_at=utcnow()
        )
        db.session.commit()
        theirs_id = theirs.id
    token = csrf_from(client.get("/duties/mine").get_data(as_text=True))
    resp = client.post(
        f"/duties/claims/{theirs_id}/track",
        data={"csrf_token": token, "points": "[]", "idempotency_key": "theirs-key-1"},
        headers=QUEUE,
    )
    assert resp.status_code == 404


def test_consent_is_asked_once_and_answered_without_javascript(client, app, walk):
    with app.app_context():
        db.session.execute(
            update(DutyClaim).where(DutyClaim.id == walk["claim"]).values(track_consent=None)
        )
        db.session.commit()
    page = client.get(f"/duties/claims/{walk['claim']}").get_data(as_text=True)
    assert 'data-testid="track-yes"' in page
    resp = client.post(
        f"/duties/claims/{walk['claim']}/track/consent",
        data={"csrf_token": csrf_from(page), "consent": "yes"},
    )
    assert resp.status_code == 303
    page = client.get(f"/duties/claims/{walk['claim']}").get_data(as_text=True)
    assert 'data-testid="track-yes"' not in page and 'data-testid="tracking"' in page
    assert 'data-consent="yes"' in page


def test_route_is_drawn_for_the_volunteer_and_the_coordinator_only(
    client, app, walk, login, count_queries
):
    start = utcnow() - timedelta(minutes=15)
    points = _points(start, 4) + _points(start + timedelta(minutes=10), 2)
    assert _post(client, walk, points).json["stored"] == 6
    mine = client.get(f"/duties/claims/{walk['claim']}").get_data(as_text=True)
    assert 'data-testid="route-line"' in mine and "km walked" in mine
    assert 'data-testid="route-gaps"' in mine  # 4 minutes in, then 10 minutes later
    _switch(client, login, walk["coordinator"])
    page = client.get(f"/duties/{walk['task']}").get_data(as_text=True)
    assert 'data-testid="route-line"' in page
    with app.app_context():
        outsider_area = make_area_tree(db.session)[2]
        outsider = make_role_user(db.session, "coordinator", password=PASSWORD, area=outsider_area)
        db.session.commit()
        name = outsider.username
    token = csrf_from(client.get("/duties/").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})
    login(name)
    assert client.get(f"/duties/claims/{walk['claim']}").status_code == 404


def test_on_patrol_now_lists_the_areas_patrols_with_their_last_position(
    client, htmx_client, app, walk, login
):
    now = utcnow()
    _post(client, walk, _points(now - timedelta(minutes=3), 3))
    _switch(client, login, walk["coordinator"])
    page = client.get("/duties/patrols")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-testid="patrol"' in body
    assert "28.00054" in body  # the last of the three positions
    fragment = htmx_client.get("/duties/patrols")
    text = fragment.get_data(as_text=True)
    assert text.lstrip().startswith('<section id="patrols"') and "<html" not in text
    assert 'hx-trigger="every 30s"' in text


def test_purge_deletes_positions_after_the_retention(app, walk):
    with app.app_context():
        old = utcnow() - timedelta(days=31)
        db.session.add(
            DutyTrackPoint(
                claim_id=walk["claim"], recorded_at=old, position="28.0,120.6", received_at=old
            )
        )
        db.session.add(
            DutyTrackPoint(
                claim_id=walk["claim"],
                recorded_at=utcnow(),
                position="28.0,120.6",
                received_at=utcnow(),
            )
        )
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["purge-expired"])
    assert "route positions deleted (after 30 days): 1" in result.output
    assert _stored(app, walk["claim"]) == 1


def test_tick_near_the_checkpoint_place_is_marked_near(client, app, walk):
    with app.app_context():
        cps = db.session.scalars(
            select(DutyCheckpoint)
            .where(DutyCheckpoint.task_id == walk["task"])
            .order_by(DutyCheckpoint.position)
        ).all()
        for cp in cps:
            cp.lat, cp.lon = LAT, LON
        db.session.commit()
        ids = [cp.id for cp in cps]
    token = csrf_from(client.get(f"/duties/claims/{walk['claim']}").get_data(as_text=True))
    near = client.post(
        f"/duties/claims/{walk['claim']}/checkpoints/{ids[0]}",
        data={"csrf_token": token, "lat": str(LAT + 0.0003), "lon": str(LON)},
    )
    far = client.post(
        f"/duties/claims/{walk['claim']}/checkpoints/{ids[1]}",
        data={"csrf_token": token, "lat": str(LAT + 0.01), "lon": str(LON)},
    )
    assert near.status_code == far.status_code == 303
    from community.duty.models import CheckpointVisit

    with app.app_context():
        visits = {
            v.checkpoint_id: v.near for v in db.session.scalars(select(CheckpointVisit)).all()
        }
        assert visits == {ids[0]: True, ids[1]: False}


def test_summary_and_drawing():
    t0 = datetime(2026, 12, 7, 10, 0)
    pts = [geo.Point(t0 + timedelta(minutes=i), LAT + i * 0.001, LON) for i in range(3)]
    pts.append(geo.Point(t0 + timedelta(minutes=20), LAT + 0.003, LON))
    summary = geo.summarise(pts)
    assert 330 < summary.distance_m < 340
    assert summary.duration == timedelta(minutes=20) and len(summary.gaps) == 1
    drawing = geo.draw(pts, [(LAT, LON, "1", t0, True)])
    assert drawing.polyline.count(",") == 4 and drawing.marks[0].label == "1"
    assert geo.draw([], []) is None


def test_checkpoint_places_written_after_at_are_kept_and_shown_on_edit(client, app, walk, login):
    with app.app_context():
        area = db.session.get(Area, walk["area"])
        task = make_duty(db.session, area=area, checkpoints="东门岗亭 @ 28.0012, 120.6034\n南门")
        db.session.commit()
        cps = db.session.scalars(
            select(DutyCheckpoint)
            .where(DutyCheckpoint.task_id == task.id)
            .order_by(DutyCheckpoint.position)
        ).all()
        assert [(c.name, c.lat, c.lon) for c in cps] == [
            ("东门岗亭", 28.0012, 120.6034),
            ("南门", None, None),
        ]
        task_id = task.id
    _switch(client, login, walk["coordinator"])
    page = client.get(f"/duties/{task_id}/edit").get_data(as_text=True)
    assert "东门岗亭 @ 28.0012, 120.6034" in page
