"""Outreach rules, by concern: `events` (publish an event — staffed through a linked
duty, booked at an experience corner without overlap, scheduling a visit request —,
cancel it, close it with attendance), `signins` (the attendees' sign-in: window,
once per phone, replays answered with the first one; the quiz counted once),
`requests` (visit requests) and `corners` (experience corners). Callers import the
public names from here.

Who may act is decided in outreach/permissions.py; these functions enforce the
rules of the input and the state and raise RuleViolation (422), Conflict (409) or
SigninClosed (410)."""

from __future__ import annotations

from community.outreach.services.common import (
    SIGNIN_CLOSES,
    SIGNIN_OPENS,
    SigninClosed,
    span,
    when,
)
from community.outreach.services.corners import create_corner
from community.outreach.services.events import (
    DUTY_KIND,
    EventInput,
    cancel_event,
    close_event,
    corner_conflict,
    publish_event,
    update_event,
)
from community.outreach.services.requests import decline_request, request_visit
from community.outreach.services.signins import (
    answer_quiz,
    count_signins,
    first_signin,
    purge_signin_names,
    sign_in,
    signin_open,
    signin_window,
)

__all__ = [
    "DUTY_KIND",
    "SIGNIN_CLOSES",
    "SIGNIN_OPENS",
    "EventInput",
    "SigninClosed",
    "answer_quiz",
    "cancel_event",
    "close_event",
    "corner_conflict",
    "count_signins",
    "create_corner",
    "decline_request",
    "first_signin",
    "purge_signin_names",
    "publish_event",
    "update_event",
    "request_visit",
    "sign_in",
    "signin_open",
    "signin_window",
    "span",
    "when",
]
