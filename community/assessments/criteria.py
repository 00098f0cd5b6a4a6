"""The criteria of the monthly star assessment: one weights table, computed criteria
(provider functions reading the data) and the manual items an inspector scores.

The 100 points are split in WEIGHTS only. A provider reads its own weight from
there, so changing the split is a data change. Adding a criterion: a WEIGHTS row
(take the points from the other rows so the total stays 100 —
tests/assessments/test_criteria.py checks it) and a provider decorated with
@criterion("code", _l("label")). Nothing else changes: the assessment page and
the stored JSON list whatever is registered. "registration_rate" and
"late_reports" read the residents' figures (residents.queries).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from community.core.timeutil import day_start
from community.hazards.models import Hazard
from community.inspections.models import Incident
from community.residents import queries as residents

# code -> points. Computed criteria first, then the manual items; the total is 100.
WEIGHTS: dict[str, int] = {
    # computed from data
    "admission": 25,
    "hazards": 15,
    "incidents": 20,
    "registration_rate": 10,
    "late_reports": 5,
    # scored by the police liaison when deciding (15 points moved from here to the
    # two residents criteria above)
    "fire_safety": 10,
    "order_hygiene": 5,
    "cooperation": 10,
}
TOTAL_POINTS = 100

Provider = Callable[[Session, Any, date, date], tuple[int, dict]]


@dataclass(frozen=True)
class Criterion:
    code: str
    label: Any  # lazy string
    compute: Provider

    @property
    def max_points(self) -> int:
        return WEIGHTS[self.code]


@dataclass(frozen=True)
class ManualItem:
    code: str
    label: Any
    help: Any = None

    @property
    def max_points(self) -> int:
        return WEIGHTS[self.code]

    @property
    def field_name(self) -> str:
        return f"manual_{self.code}"


_CRITERIA: dict[str, Criterion] = {}
_MANUAL: dict[str, ManualItem] = {}


def criterion(code: str, label: Any) -> Callable[[Provider], Provider]:
    """Register a computed criterion; its points come from WEIGHTS[code]."""
    if code not in WEIGHTS:
        raise KeyError(f"criterion {code!r} has no row in WEIGHTS")

    def register(fn: Provider) -> Provider:
        _CRITERIA[code] = Criterion(code, label, fn)
        return fn

    return register


def manual_item(code: str, label: Any, help: Any = None) -> ManualItem:
    if code not in WEIGHTS:
        raise KeyError(f"manual item {code!r} has no row in WEIGHTS")
    item = ManualItem(code, label, help)
    _MANUAL[code] = item
    return item


def computed_criteria() -> list[Criterion]:
    return list(_CRITERIA.values())


def manual_items() -> list[ManualItem]:
    return list(_MANUAL.values())


def label_for(code: str) -> Any:
    """The label of a criterion or manual item; the code itself for retired ones."""
    found = _CRITERIA.get(code) or _MANUAL.get(code)
    return found.label if found is not None else code


def computed_max() -> int:
    return sum(c.max_points for c in _CRITERIA.values())


def manual_max() -> int:
    return sum(m.max_points for m in _MANUAL.values())


# --- details: stored as message and arguments, translated when shown ------------
#
# An assessment computed while a Chinese user was active must still read in English
# to an English reader: the stored JSON keeps the English msgid and its arguments.
# `detail`/`detail_plural` are extraction keywords (scripts/messages.py).


def detail(text: str, **args: Any) -> dict:
    return {"text": text, "args": args}


def detail_plural(singular: str, plural: str, n: int, **args: Any) -> dict:
    return {"text": singular, "plural": plural, "n": n, "args": args}


def render_detail(stored: Any) -> str:
    """The detail in the reader's language (assessments stored before this format
    hold plain text: shown as is)."""
    if not isinstance(stored, dict):
        return str(stored or "")
    if stored.get("plural"):
        return ngettext(stored["text"], stored["plural"], stored["n"], **stored["args"])
    return gettext(stored["text"], **stored["args"])


def compute_all(session: Session, site: Any, month_start: date, month_end: date) -> dict:
    """{code: {"points", "max", "detail"}} for every registered criterion."""
    result = {}
    for c in _CRITERIA.values():
        points, found = c.compute(session, site, month_start, month_end)
        result[c.code] = {
            "points": max(0, min(int(points), c.max_points)),
            "max": c.max_points,
            "detail": found,
        }
    return result


def stars_for(score: int) -> int:
    """Stars for a 0-100 score: 5 at >= 90, 4 >= 80, 3 >= 70, 2 >= 60, else 1."""
    for threshold, stars in ((90, 5), (80, 4), (70, 3), (60, 2)):
        if score >= threshold:
            return stars
    return 1


# --- months ------------------------------------------------------------------


def first_of_month(d: date) -> date:
    return d.replace(day=1)


def add_months(d: date, months: int) -> date:
    """The first day of the month `months` after (or before) d's month."""
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def last_of_month(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def _end_bound(month_end: date) -> datetime:
    """Timestamps (UTC) before this instant happened on or before the local day month_end."""
    return day_start(month_end + timedelta(days=1))


# --- computed criteria ----------------------------------------------------------


@criterion("admission", _l("Safety admission"))
def admission(session: Session, site: Any, month_start: date, month_end: date):
    """Full points when the site was admitted (安全标准准入) by the end of the month."""
    if site.admitted_on is not None and site.admitted_on <= month_end:
        return WEIGHTS["admission"], detail(
            "Admitted on %(date)s.", date=site.admitted_on.isoformat()
        )
    return 0, detail("Not admitted at the end of the month.")


def _open_at_end(bound: datetime):
    """SQL: the hazard was open at `bound`. A hazard open now counts from its report
    on (a reopened hazard's earlier fix did not hold); a fixed or closed one stopped
    counting at its first fix or closing."""
    resolved_before = or_(
        and_(Hazard.fixed_at.is_not(None), Hazard.fixed_at < bound),
        and_(Hazard.closed_at.is_not(None), Hazard.closed_at < bound),
    )
    return and_(
        Hazard.created_at < bound,
        or_(Hazard.status == "open", ~resolved_before),
    )


@criterion("hazards", _l("Open hazards"))
def hazards(session: Session, site: Any, month_start: date, month_end: date):
    """Full points with no hazard open at month end; a third of them off per open
    hazard (5 of 15), high severity counting double; never below 0."""
    full = WEIGHTS["hazards"]
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((Hazard.severity == "high", 1), else_=0)), 0),
        ).where(Hazard.site_id == site.id, _open_at_end(_end_bound(month_end)))
    ).one()
    count, high = int(row[0]), int(row[1])
    if count == 0:
        return full, detail("No open hazard at the end of the month.")
    weighted = count + high
    points = max(0, full - weighted * (full // 3))
    return points, detail_plural(
        "%(num)d open hazard at the end of the month, %(high)d of high severity.",
        "%(num)d open hazards at the end of the month, %(high)d of high severity.",
        count,
        high=high,
    )


@criterion("incidents", _l("Incidents in 12 months"))
def incidents(session: Session, site: Any, month_start: date, month_end: date):
    """Crime/public-security cases and fires in the twelve calendar months ending with
    the assessed month: none gives full points, one a quarter (5 of 20), more none."""
    full = WEIGHTS["incidents"]
    window_start = add_months(month_start, -11)
    count = session.scalar(
        select(func.count()).where(
            Incident.site_id == site.id,
            Incident.occurred_on >= window_start,
            Incident.occurred_on <= month_end,
        )
    )
    since = window_start.isoformat()
    if not count:
        return full, detail("No incident since %(date)s.", date=since)
    points = full // 4 if count == 1 else 0
    return points, detail_plural(
        "%(num)d incident since %(date)s.", "%(num)d incidents since %(date)s.", count, date=since
    )


@criterion("registration_rate", _l("Registration rate"))
def registration_rate(session: Session, site: Any, month_start: date, month_end: date):
    """Verified residents living there at month end against the rooms' head counts
    (residents.queries.site_rates): the weight times the rate, rounded down; full
    points when nobody is counted or registered."""
    full = WEIGHTS["registration_rate"]
    rate = residents.site_rates(session, [site.id], on=month_end).get(site.id)
    if rate is None or rate.percent is None:
        return full, detail("No resident counted at the end of the month.")
    return int(full * rate.ratio), detail(
        "%(active)d of %(base)d residents registered at the end of the month (%(percent)d%%).",
        active=rate.active,
        base=rate.base,
        percent=rate.percent,
    )


@criterion("late_reports", _l("Late residence reports"))
def late_reports(session: Session, site: Any, month_start: date, month_end: date):
    """Residence reports made in the month (by reported_at) after the deadline
    (move-in + REPORT_DEADLINE_DAYS): each costs 2 of the 5 points, never below 0."""
    full = WEIGHTS["late_reports"]
    count = residents.late_report_count(
        session, site.id, _end_bound(month_start - timedelta(days=1)), _end_bound(month_end)
    )
    if not count:
        return full, detail("No late residence report in the month.")
    return max(0, full - 2 * count), detail_plural(
        "%(num)d residence report of the month arrived late.",
        "%(num)d residence reports of the month arrived late.",
        count,
    )


# --- manual items ----------------------------------------------------------------

manual_item(
    "fire_safety",
    _l("Fire-safety management"),
    _l("Extinguishers checked, escape routes clear, no e-bikes charging indoors."),
)
manual_item(
    "order_hygiene",
    _l("Tenant management, order and hygiene"),
    _l("Tenant ledger kept, common areas clean and orderly."),
)
manual_item(
    "cooperation",
    _l("Cooperation with community work"),
    _l("Takes part in patrols and publicity, answers the community's requests."),
)
