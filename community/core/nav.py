"""The navigation bar, contributed by each package: `register_nav(...)` at import
time with a predicate deciding who sees the entry (the predicate calls the
package's permission rule, so no role is named here).

On a phone the header holds one line: the app name, a person's few most used
destinations, the bell and a menu with every entry. An entry that may be such a
destination says so with `primary=<rank>` (lower first), and, when only some of
those who see it use it that often, `primary_when=<predicate>` (again a
permission rule: who publishes duties, who registers sites). A person's bar shows
the first PRIMARY_MAX of the primary entries they see.

What a user sees (entries, bar, badge counts) is kept per process under the data
version (core.writes) and the local date: `visible`, `primary_when` and `badge` may
depend on the user, the database and the local date, nothing else (not the hour,
not the request)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, request, url_for
from flask_babel import get_locale

from community.core.timeutil import today
from community.core.writes import data_token, has_written
from community.extensions import db


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
    label: str  # translated in the request's language
    primary: bool


# How many destinations the header bar holds beside the menu (a 360 px phone).
PRIMARY_MAX = 3

_NAV: dict[str, NavEntry] = {}
# (endpoint, script root) -> href; per process (see _href).
_HREFS: dict[tuple[str, str], str] = {}
# (id of the entry, locale) -> (entry, its label translated); per process (the
# catalogues do not change). Keyed by the entry, not its endpoint: one registered
# again (tests do) gets its own.
_LABELS: dict[tuple[int, str], tuple[NavEntry, str]] = {}
# request.environ key of what each user of the request sees (see _user_nav).
_VISIBLE_KEY = "community.nav_visible"


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
    global _generation
    _NAV[endpoint] = NavEntry(endpoint, label, order, visible, badge, primary, primary_when)
    _generation += 1


@dataclass
class _UserNav:
    """What one user's pages show of the navigation, under the data token it was
    decided at (None: decided inside a transaction that wrote; kept for that request
    only). `badges`: endpoint -> count, filled by the first page that shows them."""

    token: int | None
    entries: list[NavEntry]
    items: list[NavItem]
    badges: dict[str, int] = field(default_factory=dict)


# app.extensions key of the per-process cache: (user id, locale, script root, local
# date, registry) -> _UserNav. Valid while the data token is the one it was decided
# at: every write replaces the token (core.writes), so a changed membership, role,
# organization or review item, by whoever, ends every user's copy in every process.
# The date is in the key because review counts (inspections due today) move with it.
_CACHE_KEY = "community.nav_cache"
_CACHE_MAX = 10_000  # users; past it the cache starts again (a few KB each)
# Bumped by register_nav: an entry added or replaced (tests do) decides anew.
_generation = 0


def _user_nav(user: Any) -> _UserNav:
    """The entries `user` sees, in order, their items and badge counts: decided once
    per request and user (the page's bar and its badges ask both), and kept across
    requests while the data token is unchanged (see _CACHE_KEY)."""
    unwrap = getattr(user, "_get_current_object", None)  # current_user: one memo with its user
    if unwrap is not None:
        user = unwrap()
    locale = str(get_locale())
    memo = request.environ.setdefault(_VISIBLE_KEY, {})
    found = memo.get((id(user), locale))
    if found is not None and found[0] is user:
        return found[1]
    user_id = getattr(user, "id", None)
    token = data_token(db.session) if isinstance(user_id, int) else None
    cache = key = None
    if token is not None:
        cache = current_app.extensions.setdefault(_CACHE_KEY, {})
        key = (user_id, locale, request.script_root, today(), id(_NAV), _generation)
        cached = cache.get(key)
        if cached is not None and cached.token == token:
            memo[(id(user), locale)] = (user, cached)
            return cached
    decided = _decide(user, token, locale)
    if cache is not None:
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        cache[key] = decided
    memo[(id(user), locale)] = (user, decided)
    return decided


def _decide(user: Any, token: int | None, locale: str) -> _UserNav:
    views = current_app.view_functions
    entries = [
        e
        for e in sorted(_NAV.values(), key=lambda e: e.order)
        if e.endpoint in views and e.visible(user)
    ]
    ranked = sorted(
        (rank, e.order, e.endpoint) for e in entries if (rank := e.primary_rank(user)) is not None
    )
    primary = {endpoint for _, _, endpoint in ranked[:PRIMARY_MAX]}
    items = [
        NavItem(e.endpoint, _href(e.endpoint), _label(e, locale), e.endpoint in primary)
        for e in entries
    ]
    return _UserNav(token, entries, items)


def forget_visible() -> None:
    """Decide the entries again (a membership changed during the request)."""
    request.environ.pop(_VISIBLE_KEY, None)


def _href(endpoint: str) -> str:
    """url_for(endpoint) of an entry (no arguments): the same for every request under
    the same script root, so built once per process and root."""
    key = (endpoint, request.script_root)
    href = _HREFS.get(key)
    if href is None:
        href = _HREFS[key] = url_for(endpoint)
    return href


def _label(entry: NavEntry, locale: str) -> str:
    """The entry's label in `locale`: translated once per process, not on every
    rendering of the lazy string (a bar and a menu render each label twice a page)."""
    key = (id(entry), locale)
    found = _LABELS.get(key)
    if found is None or found[0] is not entry:
        found = _LABELS[key] = (entry, str(entry.label))
    return found[1]


def nav_items(user: Any) -> list[NavItem]:
    """The entries `user` sees, in order, each marked when it is one of their
    PRIMARY_MAX best ranked primary entries; none when logged out."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return _user_nav(user).items


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
    values = request.environ.get(_VALUES_KEY, {})
    decided = _user_nav(user)
    found = {}
    for e in decided.entries:
        if e.badge:
            value = values.get(e.endpoint)
            if value is None:
                value = decided.badges.get(e.endpoint)
            if value is None:
                value = e.badge(user)
                # Kept for the next pages at this token, unless this request wrote
                # since it was decided (what it counts now is its own state).
                if decided.token is None or not has_written(db.session):
                    decided.badges[e.endpoint] = value
            found[_href(e.endpoint)] = NavBadge(badge_id(e.endpoint), value)
    return found
