"""Read side of the assessment pages: lists, the card, the site history and chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from community.accounts.models import User
from community.assessments import criteria
from community.assessments.criteria import add_months, first_of_month
from community.assessments.models import ASSESSMENT_STATES, Assessment
from community.core.charts import Datum, LineChart, line_chart
from community.core.pagination import PER_PAGE, Page, paginate
from community.core.timeutil import today
from community.places.models import Site
from community.places.permissions import at_visible_site

HISTORY_MONTHS = 12


def get_assessment(session: Session, assessment_id: int) -> Assessment | None:
    return session.scalar(
        select(Assessment)
        .options(joinedload(Assessment.site, innerjoin=True))
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
        Line(
            code,
            criteria.label_for(code),
            int(row["points"]),
            int(row["max"]),
            criteria.render_detail(row["detail"]),
        )
        for code, row in (assessment.computed or {}).items()
    ]
    scores = assessment.manual or {}
    manual = [
        Line(item.code, item.label, scores.get(item.code), item.max_points)
        for item in criteria.manual_items()
    ]
    return Breakdown(computed, manual)


def list_assessments(
    session: Session, user: Any, *, status: str = "all", page: int = 1, per_page: int = PER_PAGE
) -> Page:
    """Assessments of the sites the user may see, newest month first (the
    submitted queue oldest submission first), eager-loaded with their sites."""
    where = [at_visible_site(user, Assessment.site_id)]
    if status in ASSESSMENT_STATES:
        where.append(Assessment.status == status)
    order = (
        (Assessment.submitted_at, Assessment.id)
        if status == "submitted"
        else (Assessment.month.desc(), Assessment.id.desc())
    )
    stmt = (
        select(Assessment)
        .options(joinedload(Assessment.site, innerjoin=True))
        .where(*where)
        .order_by(*order)
    )
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
