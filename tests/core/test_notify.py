"""core.notify: one notice per recipient, idempotent per key, text in the reader's language."""

import pytest
from flask_babel import force_locale, lazy_gettext
from sqlalchemy import func, select

from community.core.models import Notification
from community.core.notify import message, notify, register_message
from tests.factories.accounts import make_user

register_message("test-hello", lazy_gettext("Duty %(title)s was cancelled."))


def test_notify_adds_one_notice_per_distinct_user(session):
    a, b = make_user(session), make_user(session)
    notices = notify(session, [a.id, b.id, a.id, None], "test-hello", title="巡逻", link="/x")
    assert sorted(n.user_id for n in notices) == sorted([a.id, b.id])
    stored = session.scalars(select(Notification).where(Notification.user_id == a.id)).one()
    assert stored.params == {"title": "巡逻"} and stored.link == "/x" and stored.read_at is None


def test_same_key_notifies_each_user_once(session):
    a, b = make_user(session), make_user(session)
    notify(session, [a.id], "test-hello", key="reminder:1", title="t")
    again = notify(session, [a.id, b.id], "test-hello", key="reminder:1", title="t")
    assert [n.user_id for n in again] == [b.id]
    count = session.scalar(select(func.count()).where(Notification.dedupe_key == "reminder:1"))
    assert count == 2


def test_unregistered_kind_is_refused(session):
    a = make_user(session)
    with pytest.raises(KeyError):
        notify(session, [a.id], "no-such-kind")


def test_message_renders_in_the_readers_language(app_ctx):
    with force_locale("en"):
        assert message("test-hello", {"title": "Patrol"}) == "Duty Patrol was cancelled."
    assert message("unknown-kind", None) == "unknown-kind"
