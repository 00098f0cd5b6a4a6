"""Hazards found at sites: report, assignment, the open -> fixed -> closed workflow,
lists and demo data.

Workflow (every step writes an audit event, which is also the hazard's history):

    open --fix(note)--> fixed --close--> closed
      ^                   |
      +---reopen(reason)--+

A fix note and a reopen reason are kept in the audit event's detail: the hazard
row holds only the latest fix, and the history page must show every note and
every reason (they describe the hazard, not a person). Who may take a step is
decided in accounts/permissions.py (hazard.create/fix/close/reopen); these
functions enforce the state rules and raise Conflict for a step the current
state does not allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from flask_babel import gettext as _
from sqlalchemy import Select, false, func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from community.accounts.models import User
from community.accounts.permissions import can, has_role, is_admin, org_ids, visible_sites
from community.core import audit, uploads
from community.core.errors import Conflict, RuleViolation
from community.core.models import AuditEvent
from community.core.pagination import PER_PAGE, Page, paginate
from community.core.timeutil import utcnow
from community.places.models import Site
from community.ratings.models import SEVERITIES, Hazard

EVENT_CHANGED = "hazard-changed"  # HX-Trigger after any change of a hazard
ACTIVE_STATES = ("open", "fixed")
# Audit actions, in the order of the workflow; the history shows these.
REPORTED, FIXED, REOPENED, CLOSED = (
    "hazard_reported",
    "hazard_fixed",
    "hazard_reopened",
    "hazard_closed",
)
HISTORY_ACTIONS = (REPORTED, FIXED, REOPENED, CLOSED)


# --- report and assignment -------------------------------------------------------


def assign(hazard: Hazard, site: Site) -> None:
    """Assign a hazard to whoever runs the site.

    The site's landlord (assignee_user_id) and its property company
    (assignee_org_id) are BOTH set when the site has both: a landlord's house in
    a managed compound is fixed by whichever of them acts first, and both see the
    hazard under "assigned to me". A site with neither stays unassigned; the
    police liaison of the area can still record a fix.
    """
    hazard.assignee_user_id = site.landlord_id
    hazard.assignee_org_id = site.company_id


def report_hazard(
    session: Session,
    reporter: Any,
    site: Site,
    *,
    description: str,
    severity: str,
    photo: IO[bytes] | None = None,
) -> Hazard:
    """Record an open hazard at `site`, assigned as `assign` says.

    The photo, if any, is re-encoded without metadata and stored under a random
    name. Raises RuleViolation("description"|"severity"|"photo", ...) for bad input.
    """
    description = (description or "").strip()
    if not description:
        raise RuleViolation("description", _("Describe the hazard."))
    if len(description) > 1000:
        raise RuleViolation("description", _("At most 1000 characters."))
    if severity not in SEVERITIES:
        raise RuleViolation("severity", _("Unknown severity."))
    image = uploads.clean_image(photo, field="photo") if photo is not None else None
    hazard = Hazard(
        site_id=site.id,
        description=description,
        severity=severity,
        status="open",
        reported_by_id=reporter.id if reporter is not None else None,
        reopen_count=0,
    )
    hazard.site = site
    assign(hazard, site)
    session.add(hazard)
    session.flush()
    if image is not None:
        hazard.photo = uploads.store(image)
        try:
            session.flush()
        except Exception:
            uploads.remove(hazard.photo)
            raise
    audit.record(
        session,
        reporter,
        REPORTED,
        hazard,
        {"site_id": site.id, "severity": severity, "photo": image is not None},
    )
    session.flush()
    return hazard


# --- workflow --------------------------------------------------------------------


def _label(hazard: Hazard) -> str:
    from community.ratings.forms.hazards import STATUS_LABELS

    return str(STATUS_LABELS.get(hazard.status, hazard.status)).lower()


def _transition(
    session: Session, hazard: Hazard, expected: str, message: str, **values: Any
) -> None:
    """Move the hazard out of `expected` with one conditional UPDATE, so two people
    acting at once cannot both succeed; Conflict(message) when it is not in that state."""
    if hazard.status != expected:
        raise Conflict(message)
    result = session.execute(
        update(Hazard)
        .where(Hazard.id == hazard.id, Hazard.status == expected)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    # Reload what changed on next access: the new values, or (someone else moved
    # it first) the state it is in now, which the 409 answer shows.
    session.expire(hazard, [*values, "status"])
    if result.rowcount != 1:
        raise Conflict(message)


def fix_hazard(session: Session, actor: Any, hazard: Hazard, note: str) -> Hazard:
    """open -> fixed with a note saying what was done. RuleViolation("note") when
    the note is empty; Conflict when the hazard is not open."""
    note = (note or "").strip()
    if not note:
        raise RuleViolation("note", _("Say what was done."))
    now = utcnow()
    _transition(
        session,
        hazard,
        "open",
        _(
            "Only an open hazard can be marked fixed; this one is %(status)s.",
            status=_label(hazard),
        ),
        status="fixed",
        fix_note=note[:1000],
        fixed_at=now,
    )
    audit.record(session, actor, FIXED, hazard, {"from": "open", "to": "fixed", "note": note})
    session.flush()
    return hazard


def close_hazard(session: Session, actor: Any, hazard: Hazard) -> Hazard:
    """fixed -> closed: the fix was checked. Conflict when the hazard is not fixed."""
    _transition(
        session,
        hazard,
        "fixed",
        _("Only a fixed hazard can be closed; this one is %(status)s.", status=_label(hazard)),
        status="closed",
        closed_at=utcnow(),
        closed_by_id=actor.id,
    )
    audit.record(session, actor, CLOSED, hazard, {"from": "fixed", "to": "closed"})
    session.flush()
    return hazard


def reopen_hazard(session: Session, actor: Any, hazard: Hazard, reason: str) -> Hazard:
    """fixed -> open again with a reason; the last fix is cleared from the hazard
    (its note stays in the history) and reopen_count goes up. RuleViolation("reason")
    when empty; Conflict when the hazard is not fixed."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("reason", _("Say why the hazard is not fixed."))
    _transition(
        session,
        hazard,
        "fixed",
        _("Only a fixed hazard can be reopened; this one is %(status)s.", status=_label(hazard)),
        status="open",
        fix_note=None,
        fixed_at=None,
        reopen_count=Hazard.reopen_count + 1,
    )
    audit.record(
        session, actor, REOPENED, hazard, {"from": "fixed", "to": "open", "reason": reason}
    )
    session.flush()
    return hazard


# --- reads -----------------------------------------------------------------------


def _visible_site_ids(user: Any) -> Select:
    return visible_sites(user).with_only_columns(Site.id)


def get_hazard(session: Session, hazard_id: int) -> Hazard | None:
    """The hazard with its site (permissions need it), reporter and assignees."""
    return session.scalar(
        select(Hazard)
        .where(Hazard.id == hazard_id)
        .options(
            joinedload(Hazard.site),
            joinedload(Hazard.reported_by),
            joinedload(Hazard.assignee_user),
            joinedload(Hazard.assignee_org),
        )
    )


def tabs_for(user: Any) -> list[str]:
    """The list tabs that make sense for the user's roles; the first is the default.
    Every tab is limited to the sites the user may see."""
    tabs = []
    if has_role(user, "landlord", "property_manager"):
        tabs.append("assigned")
    tabs.append("area")
    if is_admin(user) or has_role(user, "police", "coordinator", "volunteer"):
        tabs.append("reported")
    return tabs


def _assigned_to(user: Any):
    conditions = []
    if has_role(user, "landlord"):
        conditions.append(Hazard.assignee_user_id == user.id)
    companies = org_ids(user, "property_manager")
    if companies:
        conditions.append(Hazard.assignee_org_id.in_(companies))
    return or_(*conditions) if conditions else false()


def list_hazards(
    session: Session,
    user: Any,
    *,
    tab: str = "area",
    status: str = "",
    page: int = 1,
    per_page: int = PER_PAGE,
    site: Site | None = None,
) -> Page:
    """Hazards of one tab ("assigned", "area", "reported") at sites the user may see,
    newest first; status "" = open or fixed, "all" = every state. Two queries."""
    stmt = select(Hazard).where(Hazard.site_id.in_(_visible_site_ids(user)))
    if tab == "assigned":
        stmt = stmt.where(_assigned_to(user))
    elif tab == "reported":
        stmt = stmt.where(Hazard.reported_by_id == user.id)
    if site is not None:
        stmt = stmt.where(Hazard.site_id == site.id)
    if status == "":
        stmt = stmt.where(Hazard.status.in_(ACTIVE_STATES))
    elif status != "all":
        stmt = stmt.where(Hazard.status == status)
    stmt = stmt.options(
        joinedload(Hazard.site),
        joinedload(Hazard.assignee_user),
        joinedload(Hazard.assignee_org),
    ).order_by(Hazard.created_at.desc(), Hazard.id.desc())
    return paginate(session, stmt, page, per_page)


def site_hazards(session: Session, site: Site, limit: int = 10) -> tuple[list[Hazard], int]:
    """Open and fixed hazards at one site (newest first, at most `limit`) and their count.
    The caller has checked that the user may see the site."""
    where = (Hazard.site_id == site.id, Hazard.status.in_(ACTIVE_STATES))
    count = session.scalar(select(func.count()).select_from(Hazard).where(*where)) or 0
    items = list(
        session.scalars(
            select(Hazard)
            .where(*where)
            .order_by(Hazard.created_at.desc(), Hazard.id.desc())
            .limit(limit)
        )
    )
    return items, count


def count_open(session: Session, site_id: int) -> int:
    """Hazards at the site not fixed yet (for assessments and plaques)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Hazard)
            .where(Hazard.site_id == site_id, Hazard.status == "open")
        )
        or 0
    )


@dataclass
class HistoryEntry:
    action: str
    at: datetime
    actor: str | None
    detail: dict


def history(session: Session, hazard: Hazard) -> list[HistoryEntry]:
    """Reported, fixed (with note), reopened (with reason), closed — oldest first."""
    rows = session.execute(
        select(AuditEvent, User.display_name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(
            AuditEvent.object_type == "hazard",
            AuditEvent.object_id == hazard.id,
            AuditEvent.action.in_(HISTORY_ACTIONS),
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return [HistoryEntry(e.action, e.at, name, e.detail or {}) for e, name in rows]


# --- demo --------------------------------------------------------------------------

# (description, severity, final state) — one of each state and one reopened.
_DEMO = (
    ("楼道堆放杂物，堵塞安全出口", "high", "open"),
    ("电动车在楼道内充电", "high", "fixed"),
    ("灭火器压力不足", "medium", "closed"),
    ("电线私拉乱接", "medium", "reopened"),
    ("烟感报警器电池失效", "low", "open"),
)


def demo(session: Session, context: dict) -> None:
    """Hazards in every state (one reopened) at the first demo sites by name that the
    demo police liaison covers; reported by the demo volunteer where the site is in
    their area, else by the police. Fixed by the site's demo landlord when it is
    theirs, else by the police. No photos. Nothing until places provides sites."""
    sites = context.get("sites") or {}
    users = context.get("users") or {}
    volunteer, police, landlord = users.get("volunteer"), users.get("police"), users.get("landlord")
    if police is None:
        return
    chosen = [sites[n] for n in sorted(sites) if can(police, "hazard.create", sites[n])]
    for i, (description, severity, state) in enumerate(_DEMO if chosen else ()):
        site = chosen[i % len(chosen)]
        reporter = volunteer if can(volunteer, "hazard.create", site) else police
        hazard = report_hazard(session, reporter, site, description=description, severity=severity)
        fixer = landlord if landlord is not None and site.landlord_id == landlord.id else police
        if state in ("fixed", "closed", "reopened"):
            fix_hazard(session, fixer, hazard, "已清理并整改")
        if state == "closed":
            close_hazard(session, police, hazard)
        if state == "reopened":
            reopen_hazard(session, police, hazard, "复查时发现仍未整改")
    session.flush()
