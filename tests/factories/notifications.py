"""Notices and outbox messages for tests."""

from __future__ import annotations

from flask_babel import lazy_gettext

from community.core.models import Notification
from community.core.notify import register_message
from community.core.timeutil import utcnow
from community.notifications.models import OutboxMessage

register_message("test-notice", lazy_gettext("Test notice about %(site)s."))


def make_notice(session, *, user, kind="test-notice", link="/hazards/", read=False, **params):
    notice = Notification(
        user_id=user.id,
        kind=kind,
        params=params or {"site": "东村"},
        link=link,
        read_at=utcnow() if read else None,
    )
    session.add(notice)
    session.flush()
    return notice


def make_outbox(session, *, user, key=None, body="hello", when=None):
    row = OutboxMessage(
        user_id=user.id,
        channel="sms",
        body=body,
        idempotency_key=key or f"test:{user.id}:{utcnow().timestamp()}",
        next_attempt_at=when or utcnow(),
    )
    session.add(row)
    session.flush()
    return row
