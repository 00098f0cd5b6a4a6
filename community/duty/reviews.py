"""Review kind of duties: reported claims wait for a coordinator of the duty's
area — approve awards the duty's points, reject (with a reason) returns the report.
The row names the duty, its day and the volunteer (a volunteer's display name is
not resident data); it links to the claim's page with the route walked and the
report."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select

from community.accounts.models import User
from community.accounts.permissions import can
from community.core.reviews import ReviewKind, by_id, pending_select, register_review_kind
from community.core.timeutil import local_date
from community.duty import queries, services
from community.duty.models import DutyClaim, DutyTask
from community.duty.permissions import managed_scope


def _reported(user: Any) -> Select:
    return (
        pending_select(
            DutyClaim.id,
            DutyTask.title,
            DutyClaim.checked_out_at,
            DutyTask.area_id,
            starts_at=DutyTask.starts_at,
            volunteer=User.display_name,
        )
        .join(DutyTask, DutyTask.id == DutyClaim.task_id)
        .join(User, User.id == DutyClaim.volunteer_id)
        .where(DutyClaim.status == "reported", managed_scope(user))
    )


def _describe(row: Any) -> str:
    day = local_date(row.starts_at).isoformat()
    return f"{row.title} · {day} · {row.volunteer}"


register_review_kind(
    ReviewKind(
        name="duty_report",
        label=_l("Duty reports to approve"),
        order=45,
        reviewer=lambda user: can(user, "duty.reports"),
        pending=_reported,
        describe=_describe,
        get=by_id(queries.get_claim),
        view_action="claim.view",
        decide_action="claim.decide",
        link=lambda id: url_for("duty.claim_page", claim_id=id),
        approve=services.approve_report,
        reject=services.reject_report,
        audit_type="dutyclaim",
    )
)
