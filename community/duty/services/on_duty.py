"""On duty: check in, tick the route's checkpoints, check out with a report and the
hazards found (reported through the hazards service)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from community.core import audit
from community.core.errors import Conflict, RuleViolation
from community.core.timeutil import to_local, utcnow
from community.duty.models import CheckpointVisit, DutyCheckpoint, DutyClaim, DutyTask
from community.duty.services.common import advance_claim, setting
from community.duty.services.geo import is_near
from community.hazards.services import report_hazard
from community.places.models import Site

audit.register_actions(
    {
        "duty_checked_in": _l("Checked in on duty"),
        "duty_reported": _l("Duty report sent"),
    }
)


def check_in_opens(task: DutyTask) -> datetime:
    """When check-in opens: DUTY_CHECK_IN_MINUTES before the start."""
    return task.starts_at - timedelta(minutes=setting("DUTY_CHECK_IN_MINUTES"))


def check_in(
    session: Session, volunteer: Any, claim: DutyClaim, *, at: datetime | None = None
) -> DutyClaim:
    """claimed -> on_duty, from DUTY_CHECK_IN_MINUTES before the start until the end;
    `at` is when it happened (a step made offline: services.offline), else now.
    Conflict saying when check-in opens (or that it is over / not possible)."""
    now = at or utcnow()
    task = claim.task
    opens = check_in_opens(task)
    if claim.status != "claimed" or task.status == "cancelled":
        raise Conflict(_("Only a claimed duty can be checked in."))
    if now < opens:
        raise Conflict(
            _("Check-in opens at %(when)s.", when=to_local(opens).strftime("%Y-%m-%d %H:%M"))
        )
    if now >= task.ends_at:
        raise Conflict(_("This duty is over: check-in is closed."))
    advance_claim(
        session,
        claim,
        "claimed",
        _("Only a claimed duty can be checked in."),
        status="on_duty",
        checked_in_at=now,
    )
    audit.record(session, volunteer, "duty_checked_in", claim, {"task_id": task.id})
    session.flush()
    return claim


def _coordinate(value: float | None, bound: float) -> float | None:
    if value is None:
        return None
    if not -bound <= value <= bound:
        return None
    return round(float(value), 6)


def visit_checkpoint(
    session: Session,
    volunteer: Any,
    claim: DutyClaim,
    checkpoint: DutyCheckpoint,
    *,
    lat: float | None = None,
    lon: float | None = None,
    at: datetime | None = None,
) -> CheckpointVisit:
    """Tick a checkpoint of the claim's task while on duty (any order), time-stamped
    (`at`: when it was made offline, else now), with the browser's position when
    given: near when within NEAR_METRES of the checkpoint's known place. Ticking it
    again keeps the first visit. Conflict when the claim is not on duty."""
    if claim.status != "on_duty":
        raise Conflict(_("Check in first: checkpoints are ticked on duty."))
    existing = session.scalar(
        select(CheckpointVisit).where(
            CheckpointVisit.claim_id == claim.id, CheckpointVisit.checkpoint_id == checkpoint.id
        )
    )
    if existing is not None:
        return existing
    lat, lon = _coordinate(lat, 90), _coordinate(lon, 180)
    if lat is None or lon is None:
        lat = lon = None
    now = utcnow()
    visit = CheckpointVisit(
        claim_id=claim.id,
        checkpoint_id=checkpoint.id,
        visited_at=at or now,
        received_at=now,
        lat=lat,
        lon=lon,
        near=is_near(checkpoint, lat, lon),
    )
    session.add(visit)
    try:
        session.flush()
    except IntegrityError as exc:  # a double tap landing at the same moment
        raise Conflict(_("This checkpoint is already ticked.")) from exc
    return visit


@dataclass
class HazardInput:
    description: str
    severity: str
    site: Site
    photo: IO[bytes] | None = None


def check_out(
    session: Session,
    volunteer: Any,
    claim: DutyClaim,
    report: str,
    hazards: list[HazardInput] = (),
    *,
    at: datetime | None = None,
) -> DutyClaim:
    """on_duty -> reported with a short report; each hazard found is reported through
    the hazards service at its site (photo included). RuleViolation("report") when
    empty, Conflict when not on duty."""
    report = (report or "").strip()
    if not report:
        raise RuleViolation("report", _("Write a short report."))
    if len(report) > 2000:
        raise RuleViolation("report", _("At most 2000 characters."))
    if claim.status != "on_duty":
        raise Conflict(_("Only a duty you are on can be checked out."))
    for hazard in hazards:
        try:
            report_hazard(
                session,
                volunteer,
                hazard.site,
                description=hazard.description,
                severity=hazard.severity,
                photo=hazard.photo,
            )
        except RuleViolation as exc:  # the check-out form names its hazard fields hazard_*
            raise RuleViolation.several(
                [(f"hazard_{f}" if f else None, m) for f, m in exc.errors]
            ) from exc
    advance_claim(
        session,
        claim,
        "on_duty",
        _("Only a duty you are on can be checked out."),
        status="reported",
        checked_out_at=at or utcnow(),
        report=report,
    )
    audit.record(
        session,
        volunteer,
        "duty_reported",
        claim,
        {"task_id": claim.task_id, "hazards": len(hazards)},
    )
    session.flush()
    return claim
