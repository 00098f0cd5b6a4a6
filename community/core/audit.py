"""Append-only audit events: who did what to which object, and a summary."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from community.core.models import AuditEvent


def record(
    session: Session,
    actor: Any,
    action: str,
    obj: Any,
    detail: dict | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=getattr(obj, "id", None),
        detail=detail,
    )
    session.add(event)
    return event
