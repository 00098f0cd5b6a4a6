"""Access rules of the audit log: the police and administrators read it (all of it:
events are not tied to one area); nobody changes it."""

from __future__ import annotations

from typing import Any

from community.accounts.permissions import has_role, is_admin, rule


@rule("audit.view")
def _reads_audit(user: Any, obj: Any) -> bool:
    return is_admin(user) or has_role(user, "police")
