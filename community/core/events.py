"""HX-Trigger event names, every one in this module (`<noun>-<past verb>`).

A response that changed something names its event here; a region that must
follow listens with `hx-trigger="<event> from:body"`. Adding an event: a
constant here, the response's `trigger=`, and the listener in the template
(`{{ events.X }}` is available in every template).
"""

from __future__ import annotations

BUILDING_ADDED = "building-added"
ROOM_ADDED = "room-added"
ROOM_SAVED = "room-saved"
MEMBER_ADDED = "member-added"
MEMBER_REMOVED = "member-removed"
ASSOCIATION_APPLIED = "association-applied"
APPLICATION_DECIDED = "application-decided"
INSPECTION_CHANGED = "inspection-changed"
INSPECTION_COMPLETED = "inspection-completed"
INCIDENT_RECORDED = "incident-recorded"
HAZARD_CHANGED = "hazard-changed"
ASSESSMENT_SUBMITTED = "assessment-submitted"
ASSESSMENT_DECIDED = "assessment-decided"
RESIDENCE_REPORTED = "residence-reported"
RESIDENCE_VERIFIED = "residence-verified"
RESIDENCE_REJECTED = "residence-rejected"
RESIDENCE_MOVED_OUT = "residence-moved-out"
RESIDENCE_RESUBMITTED = "residence-resubmitted"
YELLOW_CARD_ISSUED = "yellow-card-issued"
NOTICES_READ = "notices-read"
DUTY_PUBLISHED = "duty-published"
DUTY_CHANGED = "duty-changed"
DUTY_CLAIMED = "duty-claimed"
DUTY_CANCELLED = "duty-cancelled"
DUTY_CHECKED_IN = "duty-checked-in"
DUTY_REPORTED = "duty-reported"
DUTY_DECIDED = "duty-decided"
OUTREACH_PUBLISHED = "outreach-published"
OUTREACH_CLOSED = "outreach-closed"
OUTREACH_CANCELLED = "outreach-cancelled"
VISIT_REQUESTED = "visit-requested"
VISIT_DECLINED = "visit-declined"
MEDIATION_OPENED = "mediation-opened"
MEDIATION_CHANGED = "mediation-changed"
CORNER_ADDED = "corner-added"


def as_dict() -> dict[str, str]:
    """NAME -> event, for templates."""
    return {k: v for k, v in globals().items() if k.isupper()}
