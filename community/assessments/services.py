"""Monthly star assessments (日常管理星级): start, submit, decide, lists and history.

The landlord or the property company starts a site's assessment for a month
(criteria computed from the data) and submits it; the police liaison of the area
scores the manual items and approves (score and stars) or rejects it (reason);
a rejected assessment can be submitted again. The site's stars follow its
latest approved month.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from community.accounts.permissions import can
from community.assessments import criteria
from community.assessments.criteria import add_months, first_of_month, last_of_month, stars_for
from community.assessments.models import Assessment
from community.assessments.queries import find_assessment
from community.core import audit
from community.core.errors import Conflict, NotPermitted, RuleViolation
from community.core.notify import notify, path_for, register_message
from community.core.reviews import require_reason
from community.core.timeutil import today, utcnow
from community.places.models import Site

DECISIONS = ("approve", "reject")
EARLIEST_MONTH = date(2000, 1, 1)
# States from which the landlord or company may (re)submit; the card shows the
# submit button for these.
SUBMITTABLE_STATES = ("draft", "rejected")
audit.register_actions(
    {
        "assessment_started": _l("Assessment started"),
        "assessment_submitted": _l("Assessment submitted"),
        "assessment_approved": _l("Assessment approved"),
        "assessment_rejected": _l("Assessment sent back"),
    }
)

# Notices to the submitter (core.notify): the site and the month.
APPROVED_NOTICE, REJECTED_NOTICE = "assessment-approved", "assessment-rejected"
register_message(
    APPROVED_NOTICE,
    _l("The assessment of %(site)s for %(month)s was approved: %(stars)s stars."),
)
register_message(
    REJECTED_NOTICE,
    _l("The assessment of %(site)s for %(month)s was sent back; see the reason and submit again."),
)


# --- months ----------------------------------------------------------------------


def last_complete_month() -> date:
    """The latest month that is over: the previous calendar month."""
    return add_months(today(), -1)


def default_month(session: Session, site: Site) -> date | None:
    """The month a new assessment of `site` starts with: the first month after the
    site's latest assessment (whatever its state), or the previous month when it has
    none; never the current, unfinished month. None when every month up to the
    previous one is assessed already."""
    latest = session.scalar(select(func.max(Assessment.month)).where(Assessment.site_id == site.id))
    last = last_complete_month()
    if latest is None:
        return last
    candidate = add_months(latest, 1)
    return candidate if candidate <= last else None


def month_window(month: date) -> tuple[date, date]:
    """First and last day of `month` as far as it has happened (the current month
    is assessed up to today)."""
    start = first_of_month(month)
    return start, min(last_of_month(start), today())


def compute(session: Session, site: Site, month: date) -> dict:
    start, end = month_window(month)
    return criteria.compute_all(session, site, start, end)


# --- reads -----------------------------------------------------------------------


def computed_points(assessment: Assessment) -> int:
    return sum(int(row.get("points", 0)) for row in (assessment.computed or {}).values())


# --- rules -------------------------------------------------------------------------


def start_assessment(
    session: Session, user: Any, site: Site, month: date | None = None
) -> tuple[Assessment, bool]:
    """The site's assessment of `month` (default: default_month) with its criteria
    computed; (assessment, created). One per site and month: starting it again
    returns the existing one unless it is approved. Raises NotPermitted and
    RuleViolation("month") for a month in the future, before EARLIEST_MONTH or
    already approved (shown on the form's month field)."""
    if not can(user, "assessment.submit", site):
        raise NotPermitted()
    month = month or default_month(session, site)
    if month is None:
        raise RuleViolation("month", _("Every month up to the previous one is assessed already."))
    month = first_of_month(month)
    if month > first_of_month(today()):
        raise RuleViolation("month", _("The month cannot be in the future."))
    if month < EARLIEST_MONTH:
        raise RuleViolation(
            "month",
            _("The month cannot be before %(month)s.", month=EARLIEST_MONTH.strftime("%Y-%m")),
        )
    existing = find_assessment(session, site, month)
    if existing is None:
        assessment = Assessment(
            site=site, month=month, status="draft", computed=compute(session, site, month)
        )
        try:
            with session.begin_nested():
                session.add(assessment)
        except IntegrityError:  # a concurrent start of the same month won
            existing = find_assessment(session, site, month)
            if existing is None:
                raise
        else:
            audit.record(
                session, user, "assessment_started", assessment, {"month": month.isoformat()}
            )
            session.flush()
            return assessment, True
    if existing.status == "approved":
        raise RuleViolation(
            "month",
            _("The assessment of %(month)s is already approved.", month=month.strftime("%Y-%m")),
        )
    return existing, False


def _transition(session: Session, assessment: Assessment, from_states, to_state: str) -> bool:
    """Move the row from one of `from_states` to `to_state` with one conditional
    UPDATE, so two concurrent requests cannot both make the move."""
    session.flush()
    result = session.execute(
        update(Assessment)
        .where(Assessment.id == assessment.id, Assessment.status.in_(from_states))
        .values(status=to_state)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.refresh(assessment, ["status"])
        return False
    return True


def submit_assessment(
    session: Session, user: Any, assessment: Assessment, *, at: datetime | None = None
) -> bool:
    """Submit a draft or rejected assessment for the police liaison's decision, with
    the criteria recomputed now; True when it changed. Submitting an already
    submitted assessment changes nothing. Raises NotPermitted, Conflict once approved."""
    site = assessment.site
    if not can(user, "assessment.submit", site):
        raise NotPermitted()
    if assessment.status == "submitted":
        return False
    if assessment.status == "approved":
        raise Conflict(_("This assessment is already approved."))
    was = assessment.status
    computed = compute(session, site, assessment.month)
    if not _transition(session, assessment, SUBMITTABLE_STATES, "submitted"):
        if assessment.status == "submitted":
            return False
        raise Conflict(_("This assessment is already approved."))
    assessment.status = "submitted"
    assessment.computed = computed
    assessment.submitted_by_id = user.id
    assessment.submitted_at = at or utcnow()
    audit.record(
        session,
        user,
        "assessment_submitted",
        assessment,
        {"month": assessment.month.isoformat(), "resubmitted": was == "rejected"},
    )
    session.flush()
    return True


def not_decidable_message() -> str:
    return _("This assessment is not waiting for a decision.")


def check_decidable(assessment: Assessment) -> None:
    """Raises Conflict unless the assessment waits for a decision."""
    if assessment.status != "submitted":
        raise Conflict(not_decidable_message())


def decide_assessment(
    session: Session,
    police_user: Any,
    assessment: Assessment,
    decision: str,
    reason: str | None,
    manual: dict[str, int | None],
    *,
    at: datetime | None = None,
) -> Assessment:
    """Approve (the manual items scored, score = computed + manual, stars from the
    score; the site's stars follow if this is its latest approved month) or reject
    (reason required) a submitted assessment. Raises NotPermitted, RuleViolation
    (field named), Conflict when the assessment is not waiting for a decision."""
    if not can(police_user, "assessment.decide", assessment):
        raise NotPermitted()
    if decision not in DECISIONS:
        raise RuleViolation("decision", _("Choose approve or reject."))
    check_decidable(assessment)
    scores: dict[str, int] = {}
    if decision == "reject":
        reason = require_reason(reason, _("Give a reason to reject."), limit=500)
    else:
        reason = (reason or "").strip() or None
        errors: list[tuple[str | None, str]] = []
        for item in criteria.manual_items():
            value = manual.get(item.code)
            if value is None:
                errors.append((item.field_name, _("Score this item.")))
            elif not 0 <= value <= item.max_points:
                errors.append(
                    (item.field_name, _("Between 0 and %(max)d points.", max=item.max_points))
                )
            else:
                scores[item.code] = int(value)
        if errors:
            raise RuleViolation.several(errors)
    new_status = "approved" if decision == "approve" else "rejected"
    if not _transition(session, assessment, ("submitted",), new_status):
        raise Conflict(_("This assessment is not waiting for a decision."))
    _record_decision(session, police_user, assessment, new_status, reason, scores, at or utcnow())
    return assessment


def _record_decision(
    session: Session,
    actor: Any,
    assessment: Assessment,
    new_status: str,
    reason: str | None,
    scores: dict[str, int],
    at: datetime,
) -> None:
    assessment.status = new_status
    assessment.decided_by_id = actor.id
    assessment.decided_at = at
    assessment.reason = reason
    detail: dict[str, Any] = {"month": assessment.month.isoformat(), "decision": new_status}
    if new_status == "approved":
        assessment.manual = scores
        total = computed_points(assessment) + sum(scores.values())
        assessment.score = min(criteria.TOTAL_POINTS, total)
        assessment.stars = stars_for(assessment.score)
        detail.update(score=assessment.score, stars=assessment.stars)
    audit.record(session, actor, f"assessment_{new_status}", assessment, detail)
    if assessment.submitted_by_id is not None:
        params = {"site": assessment.site.name, "month": assessment.month.strftime("%Y-%m")}
        if new_status == "approved":
            params["stars"] = assessment.stars
        notify(
            session,
            [assessment.submitted_by_id],
            APPROVED_NOTICE if new_status == "approved" else REJECTED_NOTICE,
            link=path_for("assessments.show", assessment_id=assessment.id),
            **params,
        )
    session.flush()
    if new_status == "approved":
        refresh_site_stars(session, assessment.site)


def refresh_site_stars(session: Session, site: Site) -> None:
    """site.stars and site.last_assessed_month from the site's latest approved month."""
    latest = session.execute(
        select(Assessment.month, Assessment.stars)
        .where(Assessment.site_id == site.id, Assessment.status == "approved")
        .order_by(Assessment.month.desc())
        .limit(1)
    ).first()
    site.stars = latest.stars if latest else None
    site.last_assessed_month = latest.month if latest else None
    session.flush()
