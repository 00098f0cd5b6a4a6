"""Access rows for the notification routes. The world's notice belongs to the
requesting user (a visitor has none: its URL points at a notice of someone else)."""

from __future__ import annotations

from tests.access_rules import ANON, LOGIN
from tests.factories.accounts import make_user
from tests.factories.notifications import make_notice

EXPECTED = {
    "notifications.index": ("GET", {ANON: LOGIN, "*": 200}),
    # A visitor's poll gets 204 (no swap), never the login page in the header.
    "notifications.bell": ("GET", {ANON: 204, "*": 200}),
    "notifications.show": ("GET", {ANON: LOGIN, "*": 303}),
    "notifications.follow": ("POST", {ANON: LOGIN, "*": 303}),
    "notifications.read": ("POST", {ANON: LOGIN, "*": 303}),
    "notifications.read_all": ("POST", {ANON: LOGIN, "*": 303}),
}


def world(session, ctx):
    owner = ctx["user"] or make_user(session)
    notice = make_notice(session, user=owner)
    return {"notice_id": notice.id}
