"""Access rules of the review queue: it opens for whoever reviews at least one
kind (each kind's own rule decides, see community.core.reviews); each decision is
checked with the kind's view and decide actions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select

from community.accounts.permissions import rule, scope_areas, visible_areas
from community.core.reviews import kinds_for


@rule("nav.reviews", "reviews.view")
def _reviews(user: Any, obj: Any) -> bool:
    return bool(kinds_for(user))


def review_areas(user: Any) -> Select:
    """The areas (a SELECT of Area) the queue can be narrowed to: the user's areas
    and everything below them (administrators: every area)."""
    return visible_areas(user)


def review_area_paths(user: Any) -> tuple[str, ...]:
    """The paths of the areas the user covers through any role, sorted: part of the
    key under which the queue's statements are kept (another scope, other SQL)."""
    return tuple(sorted(a.path for a in scope_areas(user)))
