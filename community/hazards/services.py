"""Hazards found at sites: report, assignment, the open -> fixed -> closed workflow,
lists and demo data.

Workflow (every step writes an audit event, which is also the hazard's history):

    open --fix(note)--> fixed --close--> closed
      ^                   |
      +---reopen(reason)--+

A fix note and a reopen reason are kept in the audit event's detail: the hazard
row holds only the latest fix, and the history page must show every note and
every reason (they describe the hazard, not a person). Who may take a step is
decided in hazards/permissions.py (hazard.create/fix/close/reopen/assign); these
functions enforce the state rules and raise Conflict for a step the current
state does not allow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import IO, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from community.accounts.models import Membership, Organization, User
from community.accounts.services import member_user_ids
from community.core import audit, uploads
from community.core.errors import Conflict, RuleViolation
from community.core.notify import notify, path_for, register_message
from community.core.reminders import register_reminder
from community.core.reviews import require_reason
from community.core.timeutil import utcnow
from community.core.validators import is_id
from community.hazards.models import SEVERITIES, Hazard
from community.hazards.permissions import ASSIGNABLE_ROLES, assignable_people
from community.places.models import Site

# Audit actions, in the order of the workflow; the history shows these.
REPORTED, ASSIGNED, FIXED, REOPENED, CLOSED = (
    "hazard_reported",
    "hazard_assigned",
    "hazard_fixed",
    "hazard_reopened",
    "hazard_closed",
)
HISTORY_ACTIONS = (REPORTED, ASSIGNED, FIXED, REOPENED, CLOSED)
audit.register_actions(
    {
        REPORTED: _l("Hazard reported"),
        ASSIGNED: _l("Hazard assigned"),
        FIXED: _l("Hazard marked fixed"),
        REOPENED: _l("Hazard reopened"),
        CLOSED: _l("Hazard closed"),
    }
)

# Notices to whoever fixes (core.notify); params name the site only.
ASSIGNED_NOTICE, REOPENED_NOTICE, OPEN_TOO_LONG_NOTICE = (
    "hazard-assigned",
    "hazard-reopened",
    "hazard-open-too-long",
)
OPEN_TOO_LONG_DAYS = 7
register_message(ASSIGNED_NOTICE, _l("A hazard at %(site)s was assigned to you: please fix it."))
register_message(
    REOPENED_NOTICE, _l("A hazard at %(site)s was reopened: the fix was not accepted.")
)
register_message(OPEN_TOO_LONG_NOTICE, _l("A hazard at %(site)s has been open for %(days)s days."))


def _attach(session: Session, hazard: Hazard, column: str, image: uploads.CleanImage) -> None:
    """Store a cleaned photo and name it in `column` (photo, fix_photo); the file is
    removed again when the row cannot be written, so no file is left unnamed."""
    setattr(hazard, column, uploads.store(image))
    try:
        session.flush()
    except Exception:
        uploads.remove(getattr(hazard, column))
        raise


def fixer_ids(session: Session, hazard: Hazard) -> list[int]:
    """Who fixes the hazard: the assigned user and the assigned company's property
    managers."""
    ids = member_user_ids(session, [hazard.assignee_org_id], "property_manager")
    if hazard.assignee_user_id is not None:
        ids.append(hazard.assignee_user_id)
    return ids


def _notify_fixers(
    session: Session, hazard: Hazard, kind: str, site_name: str, skip: Any = None, **kw
) -> int:
    """Notify whoever fixes the hazard, except `skip` (a landlord reporting a hazard
    at their own site needs no notice of it)."""
    skip_id = getattr(skip, "id", None)
    return len(
        notify(
            session,
            [u for u in fixer_ids(session, hazard) if u != skip_id],
            kind,
            link=path_for("hazards.show", hazard_id=hazard.id),
            site=site_name,
            **kw,
        )
    )


# --- report and assignment -------------------------------------------------------


def assign(hazard: Hazard, site: Site) -> None:
    """Assign a hazard to whoever runs the site.

    The site's landlord (assignee_user_id) and its property company
    (assignee_org_id) are BOTH set when the site has both: a landlord's house in
    a managed compound is fixed by whichever of them acts first, and both see the
    hazard under "assigned to me". A site with neither stays unassigned; the
    police liaison or coordinator of the area assigns it (assign_hazard).
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
        _attach(session, hazard, "photo", image)
    audit.record(
        session,
        reporter,
        REPORTED,
        hazard,
        {"site_id": site.id, "severity": severity, "photo": image is not None},
    )
    _notify_fixers(session, hazard, ASSIGNED_NOTICE, site.name, skip=reporter)
    session.flush()
    return hazard


def is_unassigned(hazard: Hazard) -> bool:
    return hazard.assignee_user_id is None and hazard.assignee_org_id is None


@dataclass
class Assignee:
    """Someone a hazard may be assigned to, as the assign form lists them."""

    id: int
    name: str
    username: str
    roles: list[str] = field(default_factory=list)
    organizations: list[str] = field(default_factory=list)


ASSIGNEE_PAGE = 50


def _assignable(actor: Any, hazard: Hazard) -> list[Any]:
    return [User.active.is_(True), assignable_people(actor, hazard.site)]


def list_assignees(
    session: Session, actor: Any, hazard: Hazard, search: str = "", limit: int = ASSIGNEE_PAGE
) -> tuple[list[Assignee], int]:
    """The people `actor` may assign the hazard to (the rule of assign_hazard), by
    name, with their roles and organisations among ASSIGNABLE_ROLES, at most `limit`
    of them, and how many match in all. `search` narrows them to a name, username
    or organisation containing it. Two queries."""
    where = _assignable(actor, hazard)
    search = " ".join((search or "").split())[:80]
    if search:
        where.append(
            or_(
                User.display_name.icontains(search, autoescape=True),
                User.username.icontains(search, autoescape=True),
                User.id.in_(
                    select(Membership.user_id)
                    .join(Organization, Organization.id == Membership.organization_id)
                    .where(Organization.name.icontains(search, autoescape=True))
                ),
            )
        )
    rows = session.execute(
        select(User.id, User.display_name, User.username, func.count().over())
        .where(*where)
        .order_by(User.display_name, User.id)
        .limit(limit)
    ).all()
    total = rows[0][3] if rows else 0
    people = {uid: Assignee(uid, name, username) for uid, name, username, _n in rows}
    if people:
        for uid, role, org in session.execute(
            select(Membership.user_id, Membership.role, Organization.name)
            .outerjoin(Organization, Organization.id == Membership.organization_id)
            .where(Membership.user_id.in_(people), Membership.role.in_(ASSIGNABLE_ROLES))
            .order_by(Membership.id)
        ):
            person = people[uid]
            if role not in person.roles:
                person.roles.append(role)
            if org and org not in person.organizations:
                person.organizations.append(org)
    return list(people.values()), total


def assign_hazard(session: Session, actor: Any, hazard: Hazard, assignee_id: Any) -> Hazard:
    """Assign an open hazard to a landlord, property manager or coordinator of the
    site's area (the police liaison or coordinator of the area chooses them from
    list_assignees: a site with neither landlord nor company has nobody else); they
    then see and fix it. Raises RuleViolation("assignee") for anyone else (one
    message, nothing told about users out of scope) and Conflict when the hazard is
    not open."""
    if hazard.status != "open":
        raise Conflict(_("Only an open hazard can be assigned."))
    try:
        wanted = int(assignee_id)
    except (TypeError, ValueError):
        wanted = 0
    user = (
        session.scalar(select(User).where(User.id == wanted, *_assignable(actor, hazard)))
        if is_id(wanted)
        else None
    )
    if user is None:
        raise RuleViolation("assignee", _("Choose someone from the list."))
    # Through the relationship, so the card answered in place names the new assignee.
    hazard.assignee_user = user
    session.flush()
    audit.record(session, actor, ASSIGNED, hazard, {"to": user.display_name})
    notify(
        session,
        [user.id],
        ASSIGNED_NOTICE,
        link=path_for("hazards.show", hazard_id=hazard.id),
        site=hazard.site.name,
    )
    return hazard


# --- workflow --------------------------------------------------------------------


def _label(hazard: Hazard) -> str:
    from community.hazards.forms import STATUS_LABELS

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


def fix_hazard(
    session: Session, actor: Any, hazard: Hazard, note: str, photo: IO[bytes] | None = None
) -> Hazard:
    """open -> fixed with a note saying what was done and, optionally, a photo of the
    result (cleaned like the report's photo, decoded before anything is written).
    RuleViolation("note") when the note is empty, RuleViolation("photo") for a bad
    image; Conflict when the hazard is not open."""
    note = (note or "").strip()
    if not note:
        raise RuleViolation("note", _("Say what was done."))
    image = uploads.clean_image(photo, field="photo") if photo is not None else None
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
    if image is not None:
        _attach(session, hazard, "fix_photo", image)
    audit.record(
        session,
        actor,
        FIXED,
        hazard,
        {"from": "open", "to": "fixed", "note": note, "photo": image is not None},
    )
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
    """fixed -> open again with a reason; the last fix (note and photo) is cleared
    from the hazard (its note stays in the history) and reopen_count goes up.
    RuleViolation("reason") when empty; Conflict when the hazard is not fixed."""
    reason = require_reason(reason, _("Say why the hazard is not fixed."), limit=1000)
    _transition(
        session,
        hazard,
        "fixed",
        _("Only a fixed hazard can be reopened; this one is %(status)s.", status=_label(hazard)),
        status="open",
        fix_note=None,
        fix_photo=None,
        fixed_at=None,
        reopen_count=Hazard.reopen_count + 1,
    )
    audit.record(
        session, actor, REOPENED, hazard, {"from": "fixed", "to": "open", "reason": reason}
    )
    _notify_fixers(session, hazard, REOPENED_NOTICE, hazard.site.name)
    session.flush()
    return hazard


@register_reminder
def remind_open_hazards(session: Session, now) -> int:
    """Hazards open for OPEN_TOO_LONG_DAYS or more: their fixers get a notice once a
    week (the key names the hazard and the week of its age)."""
    rows = session.execute(
        select(Hazard, Site.name)
        .join(Site, Site.id == Hazard.site_id)
        .where(
            Hazard.status == "open",
            Hazard.created_at <= now - timedelta(days=OPEN_TOO_LONG_DAYS),
        )
        .order_by(Hazard.id)
    ).all()
    added = 0
    for hazard, site_name in rows:
        days = (now - hazard.created_at).days
        week = days // OPEN_TOO_LONG_DAYS
        added += len(
            notify(
                session,
                fixer_ids(session, hazard),
                OPEN_TOO_LONG_NOTICE,
                link=path_for("hazards.show", hazard_id=hazard.id),
                key=f"hazard-open:{hazard.id}:{week}",
                site=site_name,
                days=days,
            )
        )
    return added


# --- reads -----------------------------------------------------------------------


# --- demo --------------------------------------------------------------------------
