"""On-duty steps sent from the phone's queue: applied once per idempotency key, at
the phone's time (corrected when its clock is off, flagged), refused with a reason
code when they can no longer be applied; without a key the steps work as before."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import BytesIO

import pytest
from sqlalchemy import func, select, update

from community.accounts.models import Area
from community.core.models import AuditEvent
from community.core.timeutil import utcnow
from community.duty.models import (
    CheckpointVisit,
    DutyCheckpoint,
    DutyClaim,
    DutyOfflineAction,
    DutyTask,
)
from community.duty.services import offline
from community.extensions import db
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import make_area_tree
from tests.factories.duty import first_checkpoint, make_claim, make_duty, make_volunteer

QUEUE = {"X-Duty-Queue": "1"}


def ms(when: datetime) -> str:
    return str(int((when - datetime(1970, 1, 1)).total_seconds() * 1000))


@pytest.fixture
def duty(app, login):
    """A volunteer logged in, holding a claim on a duty that started 10 minutes ago
    (check-in open), with checkpoints 东门, 南门, 北门."""
    with app.app_context():
        area = make_area_tree(db.session)[2]
        me = make_volunteer(db.session, area=area, password=PASSWORD)
        task = make_duty(db.session, area=area, starts_in=-timedelta(minutes=10), hours=2)
        claim = make_claim(db.session, task=task, volunteer=me)
        db.session.commit()
        ids = {
            "user": me.id,
            "username": me.username,
            "task": task.id,
            "claim": claim.id,
            "checkpoint": first_checkpoint(db.session, task).id,
            "area": area.id,
        }
    login(ids["username"])
    return ids


def _token(client, duty):
    return csrf_from(client.get(f"/duties/claims/{duty['claim']}").get_data(as_text=True))


def _send(client, url, token, *, key, made, sent=None, headers=QUEUE, **fields):
    data = {
        "csrf_token": token,
        "idempotency_key": key,
        "client_at": ms(made),
        "sent_at": ms(sent or utcnow()),
        **fields,
    }
    return client.post(url, data=data, headers=headers, content_type="multipart/form-data")


def _claim(app, claim_id):
    with app.app_context():
        return db.session.get(DutyClaim, claim_id)


def test_queued_check_in_counts_at_the_phone_time_and_a_replay_stores_nothing(client, app, duty):
    token = _token(client, duty)
    made = (utcnow() - timedelta(minutes=7)).replace(microsecond=0)
    url = f"/duties/claims/{duty['claim']}/check-in"
    first = _send(client, url, token, key="key-check-in-1", made=made)
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.json["ok"] is True and first.json["replay"] is False
    again = _send(client, url, token, key="key-check-in-1", made=made)
    assert again.status_code == 200 and again.json["ok"] and again.json["replay"] is True
    claim = _claim(app, duty["claim"])
    assert claim.status == "on_duty"
    assert claim.checked_in_at == made
    with app.app_context():
        rows = db.session.scalars(select(DutyOfflineAction)).all()
        assert len(rows) == 1
        row = rows[0]
        assert row.client_at == made and row.applied_at == made
        assert row.server_at >= made + timedelta(minutes=6)
        assert row.flags is None
        events = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "duty_checked_in")
        )
        assert events == 1


def test_same_key_with_other_content_is_refused_with_409(client, app, duty):
    token = _token(client, duty)
    url = f"/duties/claims/{duty['claim']}/check-in"
    made = utcnow() - timedelta(minutes=2)
    assert _send(client, url, token, key="key-reused-1", made=made).status_code == 200
    other = _send(client, url, token, key="key-reused-1", made=made - timedelta(minutes=1))
    assert other.status_code == 409
    assert other.json == {
        "ok": False,
        "reason": "key_reused",
        "message": "This action was already sent with other content: not applied.",
    }


def test_phone_clock_a_day_off_is_corrected_and_flagged(client, app, duty):
    token = _token(client, duty)
    now = utcnow()
    # The phone's clock runs a day ahead: it made the check-in 5 minutes ago by its
    # clock, and sends it now by its clock.
    phone = timedelta(days=1)
    resp = _send(
        client,
        f"/duties/claims/{duty['claim']}/check-in",
        token,
        key="key-clock-off",
        made=now + phone - timedelta(minutes=5),
        sent=now + phone,
    )
    assert resp.status_code == 200 and "clock_off" in resp.json["flags"]
    claim = _claim(app, duty["claim"])
    assert abs(claim.checked_in_at - (now - timedelta(minutes=5))) < timedelta(seconds=5)
    with app.app_context():
        row = db.session.scalar(select(DutyOfflineAction))
        assert row.clock_skew_s < -86000 and "clock_off" in row.flags


def test_gps_fix_time_far_from_the_action_is_flagged(client, app, duty):
    token = _token(client, duty)
    now = utcnow()
    resp = _send(
        client,
        f"/duties/claims/{duty['claim']}/check-in",
        token,
        key="key-fix-off",
        made=now - timedelta(minutes=1),
        fix_at=ms(now - timedelta(hours=3)),
    )
    assert resp.status_code == 200 and resp.json["flags"] == ["fix_time_off"]


def test_action_older_than_a_day_is_refused_as_too_old(client, app, duty):
    token = _token(client, duty)
    resp = _send(
        client,
        f"/duties/claims/{duty['claim']}/check-in",
        token,
        key="key-too-old",
        made=utcnow() - timedelta(hours=25),
    )
    assert resp.status_code == 409 and resp.json["reason"] == "too_old"
    assert _claim(app, duty["claim"]).status == "claimed"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DutyOfflineAction)) == 0


def test_time_before_check_in_opened_is_moved_to_the_opening(client, app, duty):
    token = _token(client, duty)
    resp = _send(
        client,
        f"/duties/claims/{duty['claim']}/check-in",
        token,
        key="key-too-early",
        made=utcnow() - timedelta(hours=2),
    )
    assert resp.status_code == 200 and resp.json["flags"] == ["time_clamped"]
    claim = _claim(app, duty["claim"])
    with app.app_context():
        task = db.session.get(DutyTask, duty["task"])
        assert claim.checked_in_at == task.starts_at - timedelta(minutes=15)


def test_cancelled_duty_and_given_up_claim_answer_their_reason(client, app, duty):
    token = _token(client, duty)
    url = f"/duties/claims/{duty['claim']}/check-in"
    with app.app_context():
        db.session.execute(
            update(DutyClaim).where(DutyClaim.id == duty["claim"]).values(status="cancelled")
        )
        db.session.commit()
    given_up = _send(client, url, token, key="key-given-up", made=utcnow())
    assert given_up.status_code == 409 and given_up.json["reason"] == "claim_cancelled"
    assert given_up.json["message"] == "You gave up this duty: not applied."
    with app.app_context():
        db.session.execute(
            update(DutyTask).where(DutyTask.id == duty["task"]).values(status="cancelled")
        )
        db.session.commit()
    cancelled = _send(client, url, token, key="key-cancelled", made=utcnow())
    assert cancelled.status_code == 409 and cancelled.json["reason"] == "duty_cancelled"


def test_queued_ticks_keep_their_order_and_times(client, app, duty):
    token = _token(client, duty)
    start = utcnow() - timedelta(minutes=9)
    check_in = _send(
        client,
        f"/duties/claims/{duty['claim']}/check-in",
        token,
        key="key-order-in",
        made=start,
    )
    assert check_in.status_code == 200
    with app.app_context():
        ids = list(
            db.session.scalars(
                select(DutyCheckpoint.id)
                .where(DutyCheckpoint.task_id == duty["task"])
                .order_by(DutyCheckpoint.position)
            )
        )
    for n, cp in enumerate(ids[:2]):
        resp = _send(
            client,
            f"/duties/claims/{duty['claim']}/checkpoints/{cp}",
            token,
            key=f"key-order-tick-{n}",
            made=start + timedelta(minutes=2 + n * 3),
            lat="28.0",
            lon="120.6",
        )
        assert resp.status_code == 200
        assert _send(  # the replay after a lost answer
            client,
            f"/duties/claims/{duty['claim']}/checkpoints/{cp}",
            token,
            key=f"key-order-tick-{n}",
            made=start + timedelta(minutes=2 + n * 3),
            lat="28.0",
            lon="120.6",
        ).json["replay"]
    with app.app_context():
        visits = db.session.scalars(
            select(CheckpointVisit).order_by(CheckpointVisit.visited_at)
        ).all()
        assert [v.checkpoint_id for v in visits] == ids[:2]
        assert [v.visited_at.replace(microsecond=0) for v in visits] == [
            (start + timedelta(minutes=2)).replace(microsecond=0),
            (start + timedelta(minutes=5)).replace(microsecond=0),
        ]
        assert all(v.received_at > v.visited_at for v in visits)


def test_queued_check_out_with_photo_reports_one_hazard_on_replay(
    client, app, duty, monkeypatch, tmp_path
):
    from community.hazards.models import Hazard
    from tests.factories.hazards import image_bytes
    from tests.factories.places import make_site

    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    with app.app_context():
        site = make_site(db.session, area=db.session.get(Area, duty["area"]))
        db.session.execute(
            update(DutyClaim)
            .where(DutyClaim.id == duty["claim"])
            .values(status="on_duty", checked_in_at=utcnow() - timedelta(minutes=9))
        )
        db.session.commit()
        site_id = site.id
    token = _token(client, duty)
    made = utcnow() - timedelta(minutes=1)
    photo = image_bytes()

    def send(key="key-out-1", report="一切正常"):
        return _send(
            client,
            f"/duties/claims/{duty['claim']}/check-out",
            token,
            key=key,
            made=made,
            report=report,
            hazard_description="楼道堆物",
            hazard_severity="medium",
            hazard_site_id=str(site_id),
            hazard_photo=(BytesIO(photo), "p.jpg"),
        )

    assert send().status_code == 200
    assert send().json["replay"] is True
    assert send(report="另一份报告").json["reason"] == "key_reused"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Hazard)) == 1
        claim = db.session.get(DutyClaim, duty["claim"])
        assert claim.status == "reported" and claim.report == "一切正常"
        assert claim.checked_out_at.replace(microsecond=0) == made.replace(microsecond=0)
    late = send(key="key-out-2")
    assert late.status_code == 409 and late.json["reason"] == "already_reported"


def test_queued_invalid_check_out_is_422_with_the_reason(client, app, duty):
    with app.app_context():
        db.session.execute(
            update(DutyClaim)
            .where(DutyClaim.id == duty["claim"])
            .values(status="on_duty", checked_in_at=utcnow())
        )
        db.session.commit()
    token = _token(client, duty)
    resp = _send(
        client,
        f"/duties/claims/{duty['claim']}/check-out",
        token,
        key="key-out-empty",
        made=utcnow(),
        report="",
    )
    assert resp.status_code == 422 and resp.json["reason"] == "invalid"
    assert resp.json["message"]


def test_htmx_check_in_with_a_key_answers_the_fragment_once(client, app, duty):
    token = _token(client, duty)
    url = f"/duties/claims/{duty['claim']}/check-in"
    hx = {"HX-Request": "true"}
    made = utcnow()
    first = _send(client, url, token, key="key-htmx-1", made=made, headers=hx)
    again = _send(client, url, token, key="key-htmx-1", made=made, headers=hx)
    for resp in (first, again):
        body = resp.get_data(as_text=True)
        assert resp.status_code == 200 and f'id="on-duty-{duty["claim"]}"' in body
        assert "<html" not in body
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DutyOfflineAction)) == 1


def test_plain_check_in_without_a_key_works_as_before(client, app, duty):
    token = _token(client, duty)
    resp = client.post(f"/duties/claims/{duty['claim']}/check-in", data={"csrf_token": token})
    assert resp.status_code == 303
    assert _claim(app, duty["claim"]).status == "on_duty"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DutyOfflineAction)) == 0


def test_another_users_claim_is_404_for_the_queue(client, app, duty):
    with app.app_context():
        task = db.session.get(DutyTask, duty["task"])
        other = make_volunteer(db.session, area=task.area)
        theirs = make_claim(db.session, task=task, volunteer=other)
        db.session.commit()
        theirs_id = theirs.id
    token = _token(client, duty)
    resp = _send(
        client, f"/duties/claims/{theirs_id}/check-in", token, key="key-theirs", made=utcnow()
    )
    assert resp.status_code == 404


def test_resolve_time_rules():
    now = datetime(2026, 12, 7, 12, 0)
    opens = now - timedelta(hours=1)
    ok = offline.resolve_time(offline.ClientClock(now - timedelta(minutes=3)), opens, now)
    assert ok.at == now - timedelta(minutes=3) and ok.flags == []
    ahead = offline.resolve_time(
        offline.ClientClock(now + timedelta(minutes=30), now + timedelta(minutes=31)), opens, now
    )
    assert ahead.at == now - timedelta(minutes=1) and ahead.flags == ["clock_off"]
    future = offline.resolve_time(offline.ClientClock(now + timedelta(hours=1)), opens, now)
    assert future.at == now and future.flags == ["time_clamped"]
    assert offline.resolve_time(offline.ClientClock(), opens, now).at == now
    with pytest.raises(offline.Refused) as exc:
        offline.resolve_time(offline.ClientClock(now - timedelta(hours=24, seconds=1)), opens, now)
    assert exc.value.reason == "too_old"
    assert offline.read_millis("junk") is None and offline.read_millis("1") is None


def test_a_photo_too_large_is_refused_with_413_which_the_phone_treats_as_final(
    client, app, duty, monkeypatch
):
    """static/js/queue.js moves a 413 to the refused items (reason too_large)."""
    with app.app_context():
        db.session.execute(
            update(DutyClaim)
            .where(DutyClaim.id == duty["claim"])
            .values(status="on_duty", checked_in_at=utcnow())
        )
        db.session.commit()
    token = _token(client, duty)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    resp = _send(
        client,
        f"/duties/claims/{duty['claim']}/check-out",
        token,
        key="key-photo-bomb",
        made=utcnow(),
        report="照片太大",
        hazard_photo=(BytesIO(b"\xff" * 20000), "big.jpg"),
    )
    assert resp.status_code == 413
    assert _claim(app, duty["claim"]).status == "on_duty"
