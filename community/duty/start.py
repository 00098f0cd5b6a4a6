"""The volunteer's start-page section: next duty, open duties nearby, points."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from community.accounts.permissions import can
from community.core.start import StartSection, register_start_section
from community.core.timeutil import today
from community.duty import queries


@register_start_section
def duty_section(session: Session, user: Any) -> StartSection | None:
    if not can(user, "nav.duties.mine"):
        return None
    start = today()
    open_duties = queries.list_duties(
        session, user, start=start, days=7, free_only=True, claimable_only=True, limit=5
    )
    next_duty = queries.next_duty(session, user)
    return StartSection(
        "duty/_start.html",
        order=30,
        context={
            "next": next_duty,
            "can_check_in": next_duty is not None
            and queries.claim_actions(user, next_duty).can_check_in,
            "open": open_duties,
            "points": queries.points_this_month(session, user),
            "week": start + timedelta(days=7),
        },
    )
