"""Access rules of notifications: a notice is its recipient's alone."""

from __future__ import annotations

from typing import Any

from community.accounts.permissions import rule


@rule("notification.view")
def _own(user: Any, notice: Any) -> bool:
    return notice is not None and notice.user_id == user.id
