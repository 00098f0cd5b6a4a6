"""The outbox and the reminders: queued once, sent once, retried with backoff,
digests instead of one message per notice, reminders idempotent."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from community.core.models import Notification
from community.core.reminders import register_reminder, run_reminders
from community.core.timeutil import utcnow
from community.hazards import services as hazards
from community.notifications import outbox
from community.notifications.models import OutboxMessage
from tests.factories.accounts import make_user
from tests.factories.hazards import make_hazard
from tests.factories.notifications import make_notice, make_outbox
from tests.factories.residents import make_residence

NOW = datetime(2026, 11, 30, 9, 0)


class Sender:
    def __init__(self, fail_times=0):
        self.fail_times = fail_times
        self.sent = []

    def __call__(self, delivery):
        if self.fail_times:
            self.fail_times -= 1
            raise ConnectionError("provider down")
        self.sent.append(delivery)


def _rows(session):
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _noop():
    pass


def test_each_unread_notice_is_queued_once_in_the_readers_language(session):
    zh = make_user(session, phone="13812345678")
    en = make_user(session, phone="13912345678")
    en.locale = "en"
    nophone = make_user(session)
    make_notice(session, user=zh, kind=hazards.ASSIGNED_NOTICE, site="东村")
    make_notice(session, user=en, kind=hazards.ASSIGNED_NOTICE, site="East")
    make_notice(session, user=nophone)
    make_notice(session, user=zh, read=True)
    session.flush()
    now = utcnow()
    assert outbox.queue_notices(session, now) == 2
    assert outbox.queue_notices(session, now) == 0
    bodies = {r.user_id: r.body for r in _rows(session)}
    assert bodies[en.id] == "A hazard at East was assigned to you: please fix it."
    assert "东村" in bodies[zh.id] and "assigned" not in bodies[zh.id]


def test_a_failing_sender_is_retried_with_backoff_and_never_sent_twice(session):
    user = make_user(session, phone="13812345678")
    row = make_outbox(session, user=user, when=NOW)
    sender = Sender(fail_times=2)
    assert outbox.deliver_due(session, NOW, sender=sender, commit=_noop) == (0, 1)
    session.refresh(row)
    assert row.attempts == 1 and row.sent_at is None and row.last_error == "ConnectionError"
    assert row.next_attempt_at == NOW + timedelta(minutes=1)
    # Not due yet: nothing happens.
    assert outbox.deliver_due(
        session, NOW + timedelta(seconds=30), sender=sender, commit=_noop
    ) == (0, 0)
    later = NOW + timedelta(minutes=1)
    assert outbox.deliver_due(session, later, sender=sender, commit=_noop) == (0, 1)
    session.refresh(row)
    assert row.next_attempt_at == later + timedelta(minutes=2)
    last = later + timedelta(minutes=2)
    assert outbox.deliver_due(session, last, sender=sender, commit=_noop) == (1, 0)
    session.refresh(row)
    assert row.sent_at == last and row.attempts == 3 and row.last_error is None
    assert [d.id for d in sender.sent] == [row.id]
    assert sender.sent[0].to == "13812345678" and "13812345678" not in repr(sender.sent[0])
    # Sent: a later run sends nothing.
    assert outbox.deliver_due(session, last + timedelta(days=1), sender=sender, commit=_noop) == (
        0,
        0,
    )
    assert len(sender.sent) == 1


def test_a_claimed_row_cannot_be_claimed_again(session):
    user = make_user(session, phone="13812345678")
    row = make_outbox(session, user=user, when=NOW)
    assert outbox.claim(session, row.id, NOW) is True
    assert outbox.claim(session, row.id, NOW) is False
    assert outbox.claim(session, row.id, NOW + outbox.LEASE - timedelta(seconds=1)) is False


def test_gives_up_after_the_last_attempt(session, app, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 2)
    user = make_user(session, phone="13812345678")
    make_outbox(session, user=user, when=NOW)
    sender = Sender(fail_times=5)
    when = NOW
    for _ in range(4):
        outbox.deliver_due(session, when, sender=sender, commit=_noop)
        when += timedelta(hours=7)
    assert _rows(session)[0].attempts == 2 and sender.fail_times == 3


def test_backoff_doubles_and_is_capped():
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert outbox.backoff(30) == outbox.RETRY_MAX


def test_the_default_sender_logs_no_address_and_no_text(session, caplog):
    user = make_user(session, phone="13812345678")
    make_outbox(session, user=user, when=NOW, body="秘密的内容")
    with caplog.at_level("INFO", logger="community"):
        assert outbox.deliver_due(session, NOW, commit=_noop) == (1, 0)
    assert "outbox: message" in caplog.text
    assert "13812345678" not in caplog.text and "秘密" not in caplog.text


def test_digest_users_get_one_message_a_day_instead_of_one_per_notice(session):
    digest = make_user(session, phone="13812345678")
    digest.notify_digest = True
    digest.locale = "en"
    for i in range(7):
        n = make_notice(session, user=digest, site=f"S{i}")
        n.created_at = NOW - timedelta(hours=10)  # yesterday, in today's digest
    session.flush()
    assert outbox.queue_notices(session, NOW) == 0
    assert outbox.queue_digests(session, NOW) == 1
    assert outbox.queue_digests(session, NOW + timedelta(hours=2)) == 0
    (row,) = _rows(session)
    assert row.idempotency_key == f"digest:{digest.id}:2026-11-30"
    assert row.body.startswith("共治 Community: 7 unread notices.")
    assert "Test notice about S6." in row.body and "and 2 more." in row.body


def test_no_digest_before_the_digest_hour(session, app, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_DIGEST_HOUR", 10)
    digest = make_user(session, phone="13812345678")
    digest.notify_digest = True
    n = make_notice(session, user=digest)
    n.created_at = NOW - timedelta(hours=20)
    session.flush()
    assert outbox.queue_digests(session, NOW) == 0
    assert outbox.queue_digests(session, NOW + timedelta(hours=1)) == 1


def test_open_hazard_reminder_runs_twice_and_notifies_once(world, session):
    hazard = make_hazard(session, site=world.site, reporter=world.volunteer)
    hazard.created_at = NOW - timedelta(days=8)
    session.flush()
    assert hazards.remind_open_hazards(session, NOW) == 3
    assert hazards.remind_open_hazards(session, NOW + timedelta(minutes=5)) == 0
    # A week later: one more each.
    assert hazards.remind_open_hazards(session, NOW + timedelta(days=7)) == 3
    young = make_hazard(session, site=world.site, reporter=world.volunteer)
    young.created_at = NOW - timedelta(days=2)
    session.flush()
    assert hazards.remind_open_hazards(session, NOW + timedelta(minutes=10)) == 0


def test_correction_reminder_once_a_day_per_reporter(world, session):
    from community.residents import reminders as residents

    residence = make_residence(
        session, room=world.room, reporter=world.landlord, status="rejected", decider=world.police
    )
    session.refresh(residence)
    later = residence.verified_at + timedelta(days=2)
    assert residents.remind_to_correct(session, later) == 1
    assert residents.remind_to_correct(session, later + timedelta(minutes=5)) == 0
    notice = session.scalar(
        select(Notification).where(Notification.kind == residents.TO_CORRECT_NOTICE)
    )
    assert notice.user_id == world.landlord.id and notice.params == {"count": 1}


def test_a_registered_reminder_runs_with_the_others(session):
    calls = []

    @register_reminder
    def probe(s, now):
        calls.append(now)
        return 0

    try:
        counts = run_reminders(session, NOW)
    finally:
        from community.core import reminders

        reminders._REMINDERS.pop(f"{probe.__module__}.{probe.__qualname__}")
    assert calls == [NOW] and counts[f"{probe.__module__}.{probe.__qualname__}"] == 0
    assert "community.hazards.services.remind_open_hazards" in counts


@pytest.mark.parametrize("command", ["send-reminders"])
def test_send_reminders_twice_queues_and_sends_each_message_once(app, session, command, world):
    hazard = make_hazard(session, site=world.site, reporter=world.volunteer)
    hazard.created_at = utcnow() - timedelta(days=8)
    world.landlord.phone = "13812345678"
    session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=[command])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=[command])
    assert second.exit_code == 0, second.output
    assert "outbox: 0 messages and 0 digests queued" in second.output
    assert "0 sent" in second.output
    kinds = session.execute(
        select(Notification.kind, func.count())
        .where(Notification.user_id == world.landlord.id)
        .group_by(Notification.kind)
    ).all()
    assert dict(kinds) == {hazards.ASSIGNED_NOTICE: 1, hazards.OPEN_TOO_LONG_NOTICE: 1}
    sent = session.scalars(
        select(OutboxMessage).where(OutboxMessage.user_id == world.landlord.id)
    ).all()
    assert len(sent) == 2 and all(m.sent_at is not None and m.attempts == 1 for m in sent)
