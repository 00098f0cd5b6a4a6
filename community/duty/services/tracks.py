"""The route walked: the volunteer's consent (asked once per duty), batches of
positions posted by the phone (thinned there to one per 20 m or 60 s), the route
read back for the duty page, and the purge after TRACK_RETENTION_DAYS.

A batch is checked as a whole (its size, its shape) and point by point: points are
stored in time order whatever order they came in; a point in the future, before the
check-in or after the check-out, or far from the duty's places is dropped and
counted; a point already stored for the claim at the same time is not stored again
(UNIQUE (claim_id, recorded_at) is the backstop). Positions are stored encrypted."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from community.core.errors import Conflict, RuleViolation
from community.core.timeutil import utcnow
from community.duty.models import DutyCheckpoint, DutyClaim, DutyTrackPoint
from community.duty.services.geo import Point, metres
from community.duty.services.offline import CLOCK_TOLERANCE, read_millis

MAX_BATCH = 500
# A point this far from every known place of the duty (its checkpoints' places,
# else the points already stored, else the batch's middle point) is not on the route.
MAX_KM_FROM_DUTY = 20
TRACKING_STATES = ("claimed", "on_duty")
# Points recorded on duty still arrive after the check-out (sent from the queue).
RECEIVING_STATES = ("on_duty", "reported", "approved", "rejected")


@dataclass
class BatchResult:
    stored: int = 0
    duplicates: int = 0
    dropped: int = 0

    def as_dict(self) -> dict:
        return {"stored": self.stored, "duplicates": self.duplicates, "dropped": self.dropped}


def set_consent(session: Session, volunteer: Any, claim: DutyClaim, consent: bool) -> DutyClaim:
    """The volunteer's answer to recording the route on this duty (asked once; it
    may be changed while the duty is claimed or on). Conflict afterwards."""
    result = session.execute(
        update(DutyClaim)
        .where(DutyClaim.id == claim.id, DutyClaim.status.in_(TRACKING_STATES))
        .values(track_consent=consent)
        .execution_options(synchronize_session=False)
    )
    session.expire(claim, ["track_consent"])
    if result.rowcount != 1:
        raise Conflict(_("The route is recorded only while the duty is on."))
    return claim


def parse_batch(text: str) -> list[dict]:
    """The phone's batch: a JSON list of {t: epoch ms, lat, lon, acc}. RuleViolation
    ("points") for anything else, or more than MAX_BATCH points."""
    try:
        raw = json.loads(text or "")
    except ValueError:
        raw = None
    if not isinstance(raw, list) or not raw:
        raise RuleViolation("points", _("No positions in this batch."))
    if len(raw) > MAX_BATCH:
        raise RuleViolation(
            "points",
            _(
                "At most %(max)d positions per batch; this one has %(num)d.",
                max=MAX_BATCH,
                num=len(raw),
            ),
        )
    points = []
    for item in raw:
        at = read_millis(item.get("t")) if isinstance(item, dict) else None
        try:
            lat, lon = float(item["lat"]), float(item["lon"])
            acc = float(item["acc"]) if item.get("acc") is not None else None
        except (KeyError, TypeError, ValueError):
            at = None
        if at is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise RuleViolation("points", _("A position in this batch is not readable."))
        points.append({"at": at, "lat": round(lat, 6), "lon": round(lon, 6), "acc": acc})
    return points


def _anchors(session: Session, claim: DutyClaim, batch: list[dict]) -> list[tuple[float, float]]:
    places = session.execute(
        select(DutyCheckpoint.lat, DutyCheckpoint.lon).where(
            DutyCheckpoint.task_id == claim.task_id, DutyCheckpoint.lat.is_not(None)
        )
    ).all()
    if places:
        return [(lat, lon) for lat, lon in places]
    first = session.scalar(
        select(DutyTrackPoint)
        .where(DutyTrackPoint.claim_id == claim.id)
        .order_by(DutyTrackPoint.recorded_at)
        .limit(1)
    )
    if first is not None:
        lat, lon = (float(v) for v in first.position.split(","))
        return [(lat, lon)]
    lats = sorted(p["lat"] for p in batch)
    lons = sorted(p["lon"] for p in batch)
    return [(lats[len(lats) // 2], lons[len(lons) // 2])]


def add_points(
    session: Session,
    volunteer: Any,
    claim: DutyClaim,
    batch: list[dict],
    now: datetime | None = None,
) -> BatchResult:
    """Store a batch of the claim's route (see the module doc). Conflict without the
    volunteer's consent or when the claim was never on duty."""
    now = now or utcnow()
    if not claim.track_consent:
        raise Conflict(_("The route is recorded only with your consent."))
    if claim.status not in RECEIVING_STATES or claim.checked_in_at is None:
        raise Conflict(_("The route is recorded only while the duty is on."))
    start = claim.checked_in_at - CLOCK_TOLERANCE
    end = (claim.checked_out_at or now) + CLOCK_TOLERANCE
    anchors = _anchors(session, claim, batch)
    limit = MAX_KM_FROM_DUTY * 1000
    result = BatchResult()
    keep: dict[datetime, dict] = {}
    for p in sorted(batch, key=lambda p: p["at"]):
        at = p["at"].replace(microsecond=(p["at"].microsecond // 1000) * 1000)
        near = any(metres(p["lat"], p["lon"], a, b) <= limit for a, b in anchors)
        if not start <= at <= min(end, now + CLOCK_TOLERANCE) or not near or at in keep:
            result.dropped += 1
            continue
        keep[at] = p
    if keep:
        stored = set(
            session.scalars(
                select(DutyTrackPoint.recorded_at).where(
                    DutyTrackPoint.claim_id == claim.id,
                    DutyTrackPoint.recorded_at.in_(list(keep)),
                )
            )
        )
        for at, p in keep.items():
            if at in stored:
                result.duplicates += 1
                continue
            session.add(
                DutyTrackPoint(
                    claim_id=claim.id,
                    recorded_at=at,
                    position=f"{p['lat']},{p['lon']}",
                    accuracy=p["acc"],
                    received_at=now,
                )
            )
            result.stored += 1
        session.flush()
    return result


def route_points(session: Session, claim_ids: list[int]) -> dict[int, list[Point]]:
    """The claims' stored routes, each in time order (positions decrypted), in one
    query."""
    routes: dict[int, list[Point]] = {i: [] for i in claim_ids}
    if not claim_ids:
        return routes
    rows = session.scalars(
        select(DutyTrackPoint)
        .where(DutyTrackPoint.claim_id.in_(claim_ids))
        .order_by(DutyTrackPoint.claim_id, DutyTrackPoint.recorded_at)
    )
    for row in rows:
        lat, lon = (float(v) for v in row.position.split(","))
        routes[row.claim_id].append(Point(row.recorded_at, lat, lon, row.accuracy))
    return routes


def last_positions(session: Session, claim_ids: list[int]) -> dict[int, Point]:
    """Each claim's latest stored position (for "on patrol now")."""
    if not claim_ids:
        return {}
    latest = (
        select(DutyTrackPoint.claim_id, func.max(DutyTrackPoint.recorded_at).label("at"))
        .where(DutyTrackPoint.claim_id.in_(claim_ids))
        .group_by(DutyTrackPoint.claim_id)
        .subquery()
    )
    rows = session.scalars(
        select(DutyTrackPoint).join(
            latest,
            (latest.c.claim_id == DutyTrackPoint.claim_id)
            & (latest.c.at == DutyTrackPoint.recorded_at),
        )
    )
    out = {}
    for row in rows:
        lat, lon = (float(v) for v in row.position.split(","))
        out[row.claim_id] = Point(row.recorded_at, lat, lon, row.accuracy)
    return out


def purge_tracks(session: Session, now: datetime | None = None) -> int:
    """Delete the positions received more than TRACK_RETENTION_DAYS ago."""
    days = int(current_app.config["TRACK_RETENTION_DAYS"])
    cutoff = (now or utcnow()) - timedelta(days=days)
    result = session.execute(delete(DutyTrackPoint).where(DutyTrackPoint.received_at < cutoff))
    return result.rowcount or 0
