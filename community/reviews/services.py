"""Decisions of the review queue: each calls the kind's own service (residents,
hazards, places, ...), which holds the rule and raises Conflict when someone
decided first. These functions flush, never commit."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from community.core.errors import RuleViolation
from community.core.reviews import ReviewKind


def decide(
    session: Session, user: Any, kind: ReviewKind, obj: Any, decision: str, reason: str | None
) -> Any:
    """Approve or reject (reason required) one item through its kind. Raises
    RuleViolation("decision") for a decision the kind does not take in the queue,
    and whatever the kind's service raises: RuleViolation("reason") for a
    rejection without a reason (the service checks it, with its own message: one
    check, core.reviews.require_reason), Conflict when already decided."""
    if decision == "approve" and kind.approve is not None:
        return kind.approve(session, user, obj)
    if decision == "reject" and kind.reject is not None:
        return kind.reject(session, user, obj, reason or "")
    raise RuleViolation("decision", _("Choose approve or reject."))


def approve_many(session: Session, user: Any, items: list[tuple[ReviewKind, Any]]) -> int:
    """Approve every item, all or nothing: inside one savepoint, so the first
    refusal (Conflict, RuleViolation) leaves none of them approved. Returns how
    many were approved. RuleViolation (about the whole selection) when nothing is
    selected or an item's kind is not approved in the queue."""
    if not items:
        raise RuleViolation(None, _("Select the items to approve."))
    with session.begin_nested():
        for kind, obj in items:
            if kind.approve is None:
                raise RuleViolation(None, _("These items cannot be approved in bulk."))
            kind.approve(session, user, obj)
    session.flush()
    return len(items)
