"""What the outreach services share: the sign-in window's lengths, audit actions,
notices, the 410 exception and local times as messages show them."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l

from community.core import audit
from community.core.notify import register_message
from community.core.timeutil import to_local

SIGNIN_OPENS = timedelta(minutes=30)
SIGNIN_CLOSES = timedelta(hours=2)
MAX_HOURS = 24

PUBLISHED, CHANGED, CLOSED, CANCELLED, REQUESTED, SCHEDULED, DECLINED, CORNER = (
    "outreach_published",
    "outreach_changed",
    "outreach_closed",
    "outreach_cancelled",
    "outreach_requested",
    "outreach_request_scheduled",
    "outreach_request_declined",
    "outreach_corner_created",
)
audit.register_actions(
    {
        PUBLISHED: _l("Outreach event published"),
        CHANGED: _l("Outreach event changed"),
        CLOSED: _l("Outreach event closed"),
        CANCELLED: _l("Outreach event cancelled"),
        REQUESTED: _l("Outreach visit requested"),
        SCHEDULED: _l("Outreach visit request scheduled"),
        DECLINED: _l("Outreach visit request declined"),
        CORNER: _l("Experience corner created"),
    }
)
SCHEDULED_NOTICE, DECLINED_NOTICE = "outreach-request-scheduled", "outreach-request-declined"
register_message(SCHEDULED_NOTICE, _l("Your visit request was scheduled: %(when)s."))
register_message(DECLINED_NOTICE, _l("Your visit request was declined: %(reason)s"))


class SigninClosed(Exception):
    """Sign-in is not open now (410): `opens` and `closes` in UTC; `status` the
    event's (a cancelled event, or one closed with its attendance, takes no more)."""

    def __init__(self, opens: datetime, closes: datetime, status: str = "published"):
        super().__init__("sign-in closed")
        self.opens, self.closes, self.status = opens, closes, status


def when(at: datetime) -> str:
    return to_local(at).strftime("%Y-%m-%d %H:%M")


def span(starts_at: datetime, ends_at: datetime) -> str:
    return f"{when(starts_at)}–{to_local(ends_at).strftime('%H:%M')}"
