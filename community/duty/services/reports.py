"""Reports and points: a coordinator approves a report (the volunteer earns the
duty's points) or returns it with a reason; `close_duties` (run by `flask
close-duties`) ends what nobody closed: no-shows, waiting claims, done tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from community.core import audit
from community.core.notify import notify, register_message
from community.core.reviews import require_reason
from community.core.timeutil import utcnow
from community.duty.models import DutyClaim, DutyTask
from community.duty.services.common import advance_claim, duty_link

register_message("duty-approved", _l("Your report on “%(title)s” was approved: %(points)s points."))
register_message("duty-rejected", _l("Your report on “%(title)s” was returned: %(reason)s"))

audit.register_actions(
    {
        "duty_report_approved": _l("Duty report approved"),
        "duty_report_rejected": _l("Duty report sent back"),
    }
)


def approve_report(session: Session, coordinator: Any, claim: DutyClaim) -> DutyClaim:
    """reported -> approved; the volunteer earns the task's points and is notified.
    Conflict when someone already decided (a conditional UPDATE on the status)."""
    task = claim.task
    advance_claim(
        session,
        claim,
        "reported",
        _("This report was already decided."),
        status="approved",
        points_awarded=task.points,
        decided_by_id=coordinator.id,
        decided_at=utcnow(),
    )
    notify(
        session,
        [claim.volunteer_id],
        "duty-approved",
        link=duty_link(task),
        key=f"duty-decided-{claim.id}",
        title=task.title,
        points=task.points,
    )
    audit.record(session, coordinator, "duty_report_approved", claim, {"points": task.points})
    session.flush()
    return claim


def reject_report(session: Session, coordinator: Any, claim: DutyClaim, reason: str) -> DutyClaim:
    """reported -> rejected with a reason (no points). RuleViolation("reason") when
    empty; Conflict when someone already decided."""
    reason = require_reason(reason, _("Say why the report is returned."), limit=500)
    task = claim.task
    advance_claim(
        session,
        claim,
        "reported",
        _("This report was already decided."),
        status="rejected",
        points_awarded=0,
        decided_by_id=coordinator.id,
        decided_at=utcnow(),
        decision_reason=reason[:500],
    )
    notify(
        session,
        [claim.volunteer_id],
        "duty-rejected",
        link=duty_link(task),
        key=f"duty-decided-{claim.id}",
        title=task.title,
        reason=reason[:200],
    )
    audit.record(session, coordinator, "duty_report_rejected", claim, {"reason": reason})
    session.flush()
    return claim


# --- closing -----------------------------------------------------------------------


def close_duties(session: Session, now: datetime | None = None) -> tuple[int, int]:
    """Claims nobody checked into by the end become no_show, waiting claims of ended
    tasks are cancelled, and published tasks past their end become done. Safe to
    run twice (conditional UPDATEs). Returns (no-shows, tasks done)."""
    now = now or utcnow()
    ended = select(DutyTask.id).where(DutyTask.status == "published", DutyTask.ends_at <= now)
    no_shows = session.execute(
        update(DutyClaim)
        .where(DutyClaim.status == "claimed", DutyClaim.task_id.in_(ended))
        .values(status="no_show")
        .execution_options(synchronize_session=False)
    ).rowcount
    session.execute(
        update(DutyClaim)
        .where(DutyClaim.status == "waiting", DutyClaim.task_id.in_(ended))
        .values(status="cancelled", cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    done = session.execute(
        update(DutyTask)
        .where(and_(DutyTask.status == "published", DutyTask.ends_at <= now))
        .values(status="done")
        .execution_options(synchronize_session=False)
    ).rowcount
    session.flush()
    return no_shows or 0, done or 0
