"""What the duty services share: a task's local start as messages show it, the
configured limits, a task's link in notifications, and the conditional step of a
claim's status."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm import Session

from community.core.errors import Conflict
from community.core.notify import path_for
from community.core.timeutil import to_local
from community.duty.models import DutyClaim, DutyTask

# Time: one implementation for the whole app, core.timeutil (COMMUNITY_TIMEZONE).


def when(task: DutyTask) -> str:
    return to_local(task.starts_at).strftime("%Y-%m-%d %H:%M")


def setting(name: str) -> int:
    """A DUTY_* limit of the configuration (hours, days, counts)."""
    return int(current_app.config[name])


def duty_link(task: DutyTask) -> str:
    return path_for("duty.show", task_id=task.id)


def advance_claim(
    session: Session, claim: DutyClaim, expected: str, message: str, **values: Any
) -> None:
    """Move the claim on from status `expected` (a conditional UPDATE); Conflict(message)
    when it is not in that status any more."""
    result = session.execute(
        update(DutyClaim)
        .where(DutyClaim.id == claim.id, DutyClaim.status == expected)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.expire(claim, [*values, "status"])
    if result.rowcount != 1:
        raise Conflict(message)
