"""Append-only audit events: who did what to which object, from which address, and
a summary of what changed (ids, states and field names; never personal data in
clear text). The database refuses UPDATE and DELETE on audit_event (triggers of
migration 0011_audit_outbox); the app has no path that would try."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from sqlalchemy.orm import Session

from community.core.models import AuditEvent

# Action code -> lazy label; each feature registers the actions it records.
_ACTIONS: dict[str, Any] = {}


def register_actions(labels: dict[str, Any]) -> None:
    """Name the actions a feature records (code -> lazy_gettext label), so the audit
    log shows and filters them by name in the reader's language."""
    _ACTIONS.update(labels)


def action_label(code: str) -> str:
    """The action's name in the current language; the code itself when unregistered."""
    label = _ACTIONS.get(code)
    return str(label) if label is not None else code


def action_choices() -> list[tuple[str, str]]:
    """(code, name) of every registered action, by name in the current language."""
    return sorted(((code, str(label)) for code, label in _ACTIONS.items()), key=lambda c: c[1])


def client_address() -> str | None:
    """The request's client address (after ProxyFix), or None outside a request."""
    if not has_request_context():
        return None
    return (request.remote_addr or "")[:64] or None


def record(
    session: Session,
    actor: Any,
    action: str,
    obj: Any,
    detail: dict | None = None,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
) -> AuditEvent:
    """Add one event; `object_type` (and `object_id`) name the object when `obj` is
    None (a failed login names no user; a bulk UPDATE loads no rows)."""
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=object_type or type(obj).__name__.lower(),
        object_id=object_id if object_id is not None else getattr(obj, "id", None),
        detail=detail,
        address=client_address(),
    )
    session.add(event)
    return event
