"""Safety admission (安全标准准入): inspections against the checklist, the admission
decision, and the re-inspection cadence that follows a site's stars."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from community.core.audit import record, register_actions
from community.core.errors import Conflict, RuleViolation
from community.core.timeutil import today as _today
from community.core.timeutil import utcnow
from community.inspections.models import (
    INCIDENT_KINDS,
    RESULTS,
    ChecklistItem,
    Incident,
    Inspection,
    InspectionResult,
)
from community.inspections.queries import Row, checklist_rows, get_open_inspection
from community.places.models import Site

NOTE_MAX = 255
INCIDENT_NOTE_MAX = 500
register_actions(
    {
        "inspection.completed": _l("Inspection recorded"),
        "incident.recorded": _l("Incident recorded"),
    }
)


# --- inspections -------------------------------------------------------------


@dataclass
class Summary:
    passed: int = 0
    failed: int = 0
    na: int = 0
    unanswered: int = 0
    required_failing: list[ChecklistItem] = field(default_factory=list)
    required_unanswered: list[ChecklistItem] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every required item has an answer: the inspection may be completed."""
        return not self.required_unanswered

    @property
    def would_admit(self) -> bool:
        return self.complete and not self.required_failing


def summarize(rows: list[Row]) -> Summary:
    """Counts per answer, and the required items that block admission: a required
    item passes only with "pass" ("na" does not count as passing)."""
    summary = Summary()
    for row in rows:
        answer = row.result.result if row.result is not None else None
        if answer == "pass":
            summary.passed += 1
        elif answer == "fail":
            summary.failed += 1
        elif answer == "na":
            summary.na += 1
        else:
            summary.unanswered += 1
        if row.item.required:
            if answer is None:
                summary.required_unanswered.append(row.item)
            elif answer != "pass":
                summary.required_failing.append(row.item)
    return summary


def start_inspection(
    session: Session, inspector: Any, site: Site, *, on: date | None = None
) -> Inspection:
    """Open an inspection of `site`, or return the one already open (a site has at most
    one open inspection; a second "start" continues it)."""
    existing = get_open_inspection(session, site)
    if existing is not None:
        return existing
    inspection = Inspection(
        site_id=site.id,
        inspector_id=getattr(inspector, "id", None),
        inspected_on=on or _today(),
        status="open",
    )
    session.add(inspection)
    session.flush()
    return inspection


def record_result(
    session: Session,
    actor: Any,
    inspection: Inspection,
    item: ChecklistItem,
    result: str,
    note: str | None = None,
) -> InspectionResult:
    """Set the answer (pass/fail/na) and optional note of one checklist item.

    Raises Conflict when the inspection is completed (completed inspections are read
    only) and RuleViolation("result"/"note") for an unknown answer or a too long note."""
    if inspection.status != "open":
        raise Conflict(_("This inspection is completed; its answers can no longer change."))
    if result not in RESULTS:
        raise RuleViolation("result", _("Choose pass, fail or not applicable."))
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise RuleViolation(
            "note", _("The note is too long (at most %(n)d characters).", n=NOTE_MAX)
        )
    stmt = select(InspectionResult).where(
        InspectionResult.inspection_id == inspection.id, InspectionResult.item_id == item.id
    )
    answer = session.scalar(stmt)
    if answer is None:
        answer = InspectionResult(
            inspection_id=inspection.id, item_id=item.id, result=result, note=note
        )
        try:
            with session.begin_nested():  # a concurrent tick of the same item may win
                session.add(answer)
        except IntegrityError:
            answer = session.scalars(stmt).one()
    answer.result = result
    answer.note = note
    session.flush()
    return answer


def complete_inspection(
    session: Session, actor: Any, inspection: Inspection, *, on: date | None = None
) -> Inspection:
    """Conclude an inspection and decide the site's admission.

    Rule: the inspection can be completed only when every required active checklist
    item has an answer (else RuleViolation(None, ...)). It passes when every required
    item is "pass": "na" is not acceptable for a required item, an item the inspector
    cannot check is not admitted. Optional items never block. On pass the site is
    admitted from the inspection date, keeping an earlier admission date; on fail the
    site loses its admission (admitted_on = None, flagged wherever it appears). The
    inspection is dated `on` (default today: the day it is concluded), the actor
    becomes its inspector and the site's last_inspected_on follows. Raises Conflict
    when the inspection is already completed. Writes an audit event."""
    if inspection.status != "open":
        raise Conflict(_("This inspection is already completed."))
    summary = summarize(checklist_rows(session, inspection))
    if not summary.complete:
        raise RuleViolation(
            None,
            _(
                "Answer every required item before completing the inspection; "
                "%(n)d still unanswered.",
                n=len(summary.required_unanswered),
            ),
        )
    inspected_on = on or _today()
    site = session.get(Site, inspection.site_id)
    # One conditional UPDATE: of two concurrent completions exactly one wins.
    result = session.execute(
        update(Inspection)
        .where(Inspection.id == inspection.id, Inspection.status == "open")
        .values(status="completed")
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.expire(inspection, ["status"])
        raise Conflict(_("This inspection is already completed."))
    inspection.status = "completed"
    inspection.passed = summary.would_admit
    inspection.inspected_on = inspected_on
    inspection.completed_at = utcnow()
    if actor is not None and getattr(actor, "id", None) is not None:
        inspection.inspector_id = actor.id
    if inspection.passed:
        if site.admitted_on is None:
            site.admitted_on = inspected_on
    else:
        site.admitted_on = None
    if site.last_inspected_on is None or site.last_inspected_on < inspected_on:
        site.last_inspected_on = inspected_on
    record(
        session,
        actor,
        "inspection.completed",
        inspection,
        {
            "site_id": site.id,
            "passed": inspection.passed,
            "failing": [item.code for item in summary.required_failing],
            "admitted_on": site.admitted_on.isoformat() if site.admitted_on else None,
        },
    )
    session.flush()
    return inspection


# --- demo ------------------------------------------------------------------------


# --- incidents ---------------------------------------------------------------


def record_incident(
    session: Session,
    actor: Any,
    site: Site,
    *,
    kind: str,
    occurred_on: date | None,
    note: str | None,
    today: date | None = None,
) -> Incident:
    """Record a crime/public-security case or a fire at `site`.

    Rules: kind is crime or fire; the date is required and not in the future; the note
    is required (at most INCIDENT_NOTE_MAX characters). The site's last_incident_on becomes the
    latest incident date (recording an older case never moves it back). Raises
    RuleViolation naming the field. Writes an audit event (without the note, which may
    name people)."""
    if kind not in INCIDENT_KINDS:
        raise RuleViolation("kind", _("Choose crime or fire."))
    if occurred_on is None:
        raise RuleViolation("occurred_on", _("Enter the date (YYYY-MM-DD)."))
    if occurred_on > (today or _today()):
        raise RuleViolation("occurred_on", _("The date cannot be in the future."))
    note = (note or "").strip()
    if not note:
        raise RuleViolation("note", _("Describe what happened."))
    if len(note) > INCIDENT_NOTE_MAX:
        raise RuleViolation(
            "note", _("The note is too long (at most %(n)d characters).", n=INCIDENT_NOTE_MAX)
        )
    incident = Incident(
        site_id=site.id,
        kind=kind,
        occurred_on=occurred_on,
        note=note,
        recorded_by_id=getattr(actor, "id", None),
    )
    session.add(incident)
    if site.last_incident_on is None or site.last_incident_on < occurred_on:
        site.last_incident_on = occurred_on
    session.flush()
    record(
        session,
        actor,
        "incident.recorded",
        incident,
        {"site_id": site.id, "kind": kind, "occurred_on": occurred_on.isoformat()},
    )
    return incident
