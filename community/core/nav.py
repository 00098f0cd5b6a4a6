"""The navigation bar, contributed by each package: `register_nav(...)` at import
time with a predicate deciding who sees the entry (the predicate calls the
package's permission rule, so no role is named here).

On a phone the header holds one line: the app name, a person's few most used
destinations, the bell and a menu with every entry. An entry that may be such a
destination says so with `primary=<rank>` (lower first), and, when only some of
those who see it use it that often, `primary_when=<predicate>` (again a
permission rule: who publishes duties, who registers sites). A person's bar shows
the first PRIMARY_MAX of the primary entries they see."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, request, url_for


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: Any  # lazy string
    order: int
    visible: Callable[[Any], bool]
    badge: Callable[[Any], int] | None = None  # the entry's count (see nav_badges)
    primary: int | None = None  # rank among the header bar's destinations; None: menu only
    primary_when: Callable[[Any], bool] | None = None  # for whom it is primary (default: all)

    def primary_rank(self, user: Any) -> int | None:
        if self.primary is None or (self.primary_when and not self.primary_when(user)):
            return None
        return self.primary


@dataclass(frozen=True)
class NavItem:
    """One entry as a person sees it; `primary`: it is in their header bar too."""

    endpoint: str
    href: str
    label: Any
    primary: bool


# How many destinations the header bar holds beside the menu (a 360 px phone).
PRIMARY_MAX = 3

_NAV: dict[str, NavEntry] = {}


def register_nav(
    endpoint: str,
    label: Any,
    *,
    order: int,
    visible: Callable[[Any], bool],
    badge: Callable[[Any], int] | None = None,
    primary: int | None = None,
    primary_when: Callable[[Any], bool] | None = None,
) -> None:
    _NAV[endpoint] = NavEntry(endpoint, label, order, visible, badge, primary, primary_when)


def nav_items(user: Any) -> list[NavItem]:
    """The entries `user` sees, in order, each marked when it is one of their
    PRIMARY_MAX best ranked primary entries; none when logged out."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    views = current_app.view_functions
    entries = [
        e
        for e in sorted(_NAV.values(), key=lambda e: e.order)
        if e.endpoint in views and e.visible(user)
    ]
    ranks = {e.endpoint: e.primary_rank(user) for e in entries}
    ranked = sorted(
        (rank, e.order, e.endpoint) for e in entries if (rank := ranks[e.endpoint]) is not None
    )
    primary = {endpoint for _, _, endpoint in ranked[:PRIMARY_MAX]}
    return [
        NavItem(e.endpoint, url_for(e.endpoint), e.label, e.endpoint in primary) for e in entries
    ]


# A count above this shows as "99+" (badges, the start page's counts): whoever
# counts may stop at BADGE_MAX + 1.
BADGE_MAX = 99


def badge_text(value: int) -> str:
    return f"{BADGE_MAX}+" if value > BADGE_MAX else str(value)


@dataclass(frozen=True)
class NavBadge:
    id: str  # the element id: responses replace it out-of-band (hx-swap-oob)
    value: int


_VALUES_KEY = "community.nav_badge_values"


def badge_id(endpoint: str) -> str:
    return "nav-badge-" + endpoint.replace(".", "-").replace("_", "-")


def set_badge_value(endpoint: str, value: int) -> None:
    """A page that counted the entry's items anyway (the review queue, the start
    page) gives the count, so the navigation does not count again."""
    # Kept on the request (not g: an app context may outlive one request).
    request.environ.setdefault(_VALUES_KEY, {})[endpoint] = value


def nav_badges(user: Any) -> dict[str, NavBadge]:
    """href -> NavBadge of the visible entries with a count: one count per entry and
    page (a cheap COUNT, see the entry's function), none when the page set it."""
    if user is None or not getattr(user, "is_authenticated", False):
        return {}
    views = current_app.view_functions
    values = request.environ.get(_VALUES_KEY, {})
    found = {}
    for e in _NAV.values():
        if e.badge and e.endpoint in views and e.visible(user):
            value = values.get(e.endpoint)
            found[url_for(e.endpoint)] = NavBadge(
                badge_id(e.endpoint), e.badge(user) if value is None else value
            )
    return found
