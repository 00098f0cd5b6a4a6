"""Access rules of the review queue: it opens for whoever reviews at least one
kind (each kind's own rule decides, see community.core.reviews); each decision is
checked with the kind's view and decide actions."""

from __future__ import annotations

from typing import Any

from community.accounts.permissions import rule
from community.core.reviews import kinds_for


@rule("nav.reviews", "reviews.view")
def _reviews(user: Any, obj: Any) -> bool:
    return bool(kinds_for(user))
