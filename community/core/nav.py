"""The navigation bar, contributed by each package: `register_nav(...)` at import
time with a predicate deciding who sees the entry (the predicate calls the
package's permission rule, so no role is named here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, url_for


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: Any  # lazy string
    order: int
    visible: Callable[[Any], bool]


_NAV: dict[str, NavEntry] = {}


def register_nav(endpoint: str, label: Any, *, order: int, visible: Callable[[Any], bool]) -> None:
    _NAV[endpoint] = NavEntry(endpoint, label, order, visible)


def nav_items(user: Any) -> list[tuple[str, Any]]:
    """(href, label) of the entries `user` sees, in order; none when logged out."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    views = current_app.view_functions
    entries = sorted(_NAV.values(), key=lambda e: e.order)
    return [
        (url_for(e.endpoint), e.label) for e in entries if e.endpoint in views and e.visible(user)
    ]
