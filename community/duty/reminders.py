"""Duty reminder (run by `flask send-reminders`): a volunteer holding a claim
(`claimed`, not yet checked in) on a published duty starting within the next
REMIND_BEFORE gets one notice; the key names the claim, so later runs add none."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from community.core.notify import notify, path_for, register_message
from community.core.reminders import register_reminder
from community.duty.models import DutyClaim, DutyTask
from community.duty.services import when

REMIND_BEFORE = timedelta(hours=2)
DUTY_REMINDER = "duty-reminder"

register_message(DUTY_REMINDER, _l("Duty reminder: “%(title)s” starts at %(when)s."))


@register_reminder
def remind_duties(session: Session, now: datetime) -> int:
    rows = session.execute(
        select(DutyClaim.id, DutyClaim.volunteer_id, DutyTask)
        .join(DutyTask, DutyTask.id == DutyClaim.task_id)
        .where(
            DutyClaim.status == "claimed",
            DutyTask.status == "published",
            DutyTask.starts_at > now,
            DutyTask.starts_at <= now + REMIND_BEFORE,
        )
        .order_by(DutyClaim.id)
    ).all()
    added = 0
    for claim_id, volunteer_id, task in rows:
        added += len(
            notify(
                session,
                [volunteer_id],
                DUTY_REMINDER,
                link=path_for("duty.show", task_id=task.id),
                key=f"duty-reminder:{claim_id}",
                title=task.title,
                when=when(task),
            )
        )
    return added
