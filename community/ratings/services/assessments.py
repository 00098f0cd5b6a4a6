"""Monthly star assessments (日常管理星级): start, submit, decide, lists and history.

The landlord or the property company starts a site's assessment for a month
(criteria computed from the data) and submits it; the police liaison of the area
scores the manual items and approves (score and stars) or rejects it (reason);
a rejected assessment can be submitted again. The site's stars follow its
latest approved month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from community.accounts.models import User
from community.accounts.permissions import can, has_role, visible_sites
from community.core import audit
from community.core.charts import Datum, LineChart, line_chart
from community.core.errors import Conflict, NotPermitted, RuleViolation
from community.core.pagination import PER_PAGE, Page, paginate
from community.core.timeutil import today, utcnow
from community.places.models import Site
from community.ratings import criteria
from community.ratings.criteria import add_months, first_of_month, last_of_month, stars_for
from community.ratings.models import ASSESSMENT_STATES, Assessment

DECISIONS = ("approve", "reject")
EARLIEST_MONTH = date(2000, 1, 1)
HISTORY_MONTHS = 12


# --- months ----------------------------------------------------------------------


def default_month() -> date:
    """The month assessed by default: the previous calendar month."""
    return add_months(today(), -1)


def month_window(month: date) -> tuple[date, date]:
    """First and last day of `month` as far as it has happened (the current month
    is assessed up to today)."""
    start = first_of_month(month)
    return start, min(last_of_month(start), today())


def compute(session: Session, site: Site, month: date) -> dict:
    start, end = month_window(month)
    return criteria.compute_all(session, site, start, end)


# --- reads -----------------------------------------------------------------------


def get_assessment(session: Session, assessment_id: int) -> Assessment | None:
    return session.scalar(
        select(Assessment)
        .options(joinedload(Assessment.site))
        .where(Assessment.id == assessment_id)
    )


def find_assessment(session: Session, site: Site, month: date) -> Assessment | None:
    return session.scalar(
        select(Assessment).where(
            Assessment.site_id == site.id, Assessment.month == first_of_month(month)
        )
    )


def people(session: Session, assessment: Assessment) -> dict[str, User | None]:
    """Who submitted and who decided (for the assessment page)."""
    ids = {i for i in (assessment.submitted_by_id, assessment.decided_by_id) if i}
    found = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return {
        "submitted_by": found.get(assessment.submitted_by_id),
        "decided_by": found.get(assessment.decided_by_id),
    }


def computed_points(assessment: Assessment) -> int:
    return sum(int(row.get("points", 0)) for row in (assessment.computed or {}).values())


@dataclass
class Line:
    code: str
    label: Any
    points: int | None
    max: int
    detail: str = ""


@dataclass
class Breakdown:
    computed: list[Line]
    manual: list[Line]

    @property
    def computed_points(self) -> int:
        return sum(line.points or 0 for line in self.computed)

    @property
    def computed_max(self) -> int:
        return sum(line.max for line in self.computed)

    @property
    def manual_max(self) -> int:
        return sum(line.max for line in self.manual)


def breakdown(assessment: Assessment) -> Breakdown:
    """The stored figures per criterion (as computed then) and per manual item."""
    computed = [
        Line(code, criteria.label_for(code), int(row["points"]), int(row["max"]), row["detail"])
        for code, row in (assessment.computed or {}).items()
    ]
    scores = assessment.manual or {}
    manual = [
        Line(item.code, item.label, scores.get(item.code), item.max_points)
        for item in criteria.manual_items()
    ]
    return Breakdown(computed, manual)


def default_status(user: Any) -> str:
    """Deciders land on what waits for them; everyone else sees every state."""
    return "submitted" if has_role(user, "police", "admin") else "all"


def list_assessments(
    session: Session, user: Any, *, status: str = "all", page: int = 1, per_page: int = PER_PAGE
) -> Page:
    """Assessments of the sites the user may see, newest month first (the
    submitted queue oldest submission first), eager-loaded with their sites."""
    where = [Assessment.site_id.in_(visible_sites(user).with_only_columns(Site.id))]
    if status in ASSESSMENT_STATES:
        where.append(Assessment.status == status)
    order = (
        (Assessment.submitted_at, Assessment.id)
        if status == "submitted"
        else (Assessment.month.desc(), Assessment.id.desc())
    )
    stmt = select(Assessment).options(joinedload(Assessment.site)).where(*where).order_by(*order)
    return paginate(session, stmt, page, per_page)


def site_history(session: Session, site: Site, months: int = HISTORY_MONTHS) -> list[Assessment]:
    """The site's assessments of the last `months` months (this one included), newest first."""
    since = add_months(today(), -(months - 1))
    return list(
        session.scalars(
            select(Assessment)
            .where(Assessment.site_id == site.id, Assessment.month >= since)
            .order_by(Assessment.month.desc())
        )
    )


def star_chart(history: list[Assessment], *, title: str, months: int = HISTORY_MONTHS) -> LineChart:
    """Stars of the approved months among `history`, one slot per month up to this one."""
    by_month = {a.month: a for a in history if a.status == "approved" and a.stars}
    first = add_months(today(), -(months - 1))
    data = []
    for i in range(months):
        month = add_months(first, i)
        a = by_month.get(month)
        label = (
            _(
                "%(month)s: %(stars)d stars (%(score)d points)",
                month=month.strftime("%Y-%m"),
                stars=a.stars,
                score=a.score or 0,
            )
            if a
            else ""
        )
        data.append(Datum(month.strftime("%m"), a.stars if a else None, label))
    rated = len(by_month)
    return line_chart(
        data,
        title=title,
        description=_("%(n)d approved month(s) in the last %(months)d.", n=rated, months=months),
        y_min=0,
        y_max=5,
        y_ticks=(1, 2, 3, 4, 5),
        step=True,
    )


# --- rules -------------------------------------------------------------------------


def start_assessment(
    session: Session, user: Any, site: Site, month: date | None = None
) -> tuple[Assessment, bool]:
    """The site's assessment of `month` (default: the previous month) with its criteria
    computed; (assessment, created). One per site and month: starting it again
    returns the existing one. Raises NotPermitted, RuleViolation("month") for a month
    in the future, Conflict when that month is already approved."""
    if not can(user, "assessment.submit", site):
        raise NotPermitted()
    month = first_of_month(month or default_month())
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
        raise Conflict(
            _("The assessment of %(month)s is already approved.", month=month.strftime("%Y-%m"))
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


def submit_assessment(session: Session, user: Any, assessment: Assessment) -> bool:
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
    if not _transition(session, assessment, ("draft", "rejected"), "submitted"):
        if assessment.status == "submitted":
            return False
        raise Conflict(_("This assessment is already approved."))
    assessment.status = "submitted"
    assessment.computed = computed
    assessment.submitted_by_id = user.id
    assessment.submitted_at = utcnow()
    audit.record(
        session,
        user,
        "assessment_submitted",
        assessment,
        {"month": assessment.month.isoformat(), "resubmitted": was == "rejected"},
    )
    session.flush()
    return True


def check_decidable(assessment: Assessment) -> None:
    """Raises Conflict unless the assessment waits for a decision."""
    if assessment.status != "submitted":
        raise Conflict(_("This assessment is not waiting for a decision."))


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
    reason = (reason or "").strip() or None
    scores: dict[str, int] = {}
    if decision == "reject":
        if reason is None:
            raise RuleViolation("reason", _("Give a reason to reject."))
    else:
        for item in criteria.manual_items():
            value = manual.get(item.code)
            if value is None:
                raise RuleViolation(item.field_name, _("Score this item."))
            if not 0 <= value <= item.max_points:
                raise RuleViolation(
                    item.field_name,
                    _("Between 0 and %(max)d points.", max=item.max_points),
                )
            scores[item.code] = int(value)
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
    audit_extra: dict | None = None,
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
    audit.record(
        session, actor, f"assessment_{new_status}", assessment, detail | (audit_extra or {})
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


# --- demo --------------------------------------------------------------------------

# Demo data is written in the users' language, like the demo's site names.
DEMO_REJECT_REASON = "三楼灭火器已过检验期，更换后请重新提交。"
# Manual scores of the demo, cycled per site and month: (fire_safety, order_hygiene, cooperation).
_DEMO_MANUAL = ((14, 9, 14), (12, 8, 13), (13, 9, 12), (10, 7, 11), (15, 10, 15), (11, 8, 10))


def demo(session: Session, context: dict) -> None:
    """Six approved months for most demo sites; one site's last month waits for the
    police, another's was rejected. Deterministic (relative to today)."""
    sites = [context["sites"][name] for name in sorted(context.get("sites") or {})]
    users = context.get("users") or {}
    police, fallback = users.get("police"), users.get("property")
    if not sites or police is None:
        return
    landlords = {
        u.id: u
        for u in session.scalars(
            select(User).where(User.id.in_({s.landlord_id for s in sites if s.landlord_id}))
        )
    }
    rated = sites if len(sites) < 4 else sites[:-1]  # the last site is not rated yet
    last = default_month()
    for si, site in enumerate(rated):
        submitter = landlords.get(site.landlord_id) or fallback
        if submitter is None:
            continue
        for back in range(6, 0, -1):
            month = add_months(last, -(back - 1))
            submitted_at = datetime.combine(add_months(month, 1), datetime.min.time()) + timedelta(
                days=2, hours=9
            )
            assessment = Assessment(
                site=site,
                month=month,
                status="submitted",
                computed=compute(session, site, month),
                submitted_by_id=submitter.id,
                submitted_at=submitted_at,
            )
            session.add(assessment)
            session.flush()
            if back == 1 and si == 0:
                continue  # waiting for the police this month
            fire, order, coop = _DEMO_MANUAL[(si + back) % len(_DEMO_MANUAL)]
            manual = {"fire_safety": fire, "order_hygiene": order, "cooperation": coop}
            if back == 1 and si == 1:
                _demo_decide(
                    session,
                    police,
                    assessment,
                    "reject",
                    DEMO_REJECT_REASON,
                    {},
                    submitted_at,
                )
            else:
                _demo_decide(session, police, assessment, "approve", None, manual, submitted_at)


def _demo_decide(session, police, assessment, decision, reason, manual, submitted_at) -> None:
    """Decide as the demo police liaison, even for sites outside the station's area."""
    new_status = "approved" if decision == "approve" else "rejected"
    _record_decision(
        session,
        police,
        assessment,
        new_status,
        reason,
        manual,
        submitted_at + timedelta(days=3),
        {"demo": True},
    )
