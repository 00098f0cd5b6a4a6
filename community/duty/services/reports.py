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


def _decide(
    session: Session,
    coordinator: Any,
    claim: DutyClaim,
    notice: str,
    action: str,
    detail: dict[str, Any],
    params: dict[str, Any],
    **values: Any,
) -> DutyClaim:
    """The one step of a decision on a report: reported -> `values` (Conflict when
    someone already decided), the volunteer's notice, the audit event."""
    task = claim.task
    advance_claim(
        session,
        claim,
        "reported",
        _("This report was already decided."),
        decided_by_id=coordinator.id,
        decided_at=utcnow(),
        **values,
    )
    notify(
        session,
        [claim.volunteer_id],
        notice,
        link=duty_link(task),
        key=f"duty-decided-{claim.id}",
        title=task.title,
        **params,
    )
    audit.record(session, coordinator, action, claim, detail)
    session.flush()
    return claim


def approve_report(session: Session, coordinator: Any, claim: DutyClaim) -> DutyClaim:
    """reported -> approved; the volunteer earns the task's points and is notified.
    Conflict when someone already decided (a conditional UPDATE on the status)."""
    points = claim.task.points
    return _decide(
        session,
        coordinator,
        claim,
        "duty-approved",
        "duty_report_approved",
        {"points": points},
        {"points": points},
        status="approved",
        points_awarded=points,
    )


def reject_report(session: Session, coordinator: Any, claim: DutyClaim, reason: str) -> DutyClaim:
    """reported -> rejected with a reason (no points). RuleViolation("reason") when
    empty; Conflict when someone already decided."""
    reason = require_reason(reason, _("Say why the report is returned."), limit=500)
    return _decide(
        session,
        coordinator,
        claim,
        "duty-rejected",
        "duty_report_rejected",
        {"reason": reason},
        {"reason": reason[:200]},
        status="rejected",
        points_awarded=0,
        decision_reason=reason,
    )


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
