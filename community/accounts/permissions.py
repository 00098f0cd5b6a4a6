"""The access-rule engine: `can(user, action, obj)`, the rule registry, and the
area/organization scope helpers every feature's rules are built from.

This module knows no feature. Each feature registers its own actions (and its
query scopes such as places' `visible_sites`) in its `permissions.py` with the
`@rule("action")` decorator; `can()` refuses an action nobody registered. Role
checks live in permissions modules only (tests/test_architecture.py greps).

Roles come from memberships; scope follows the area tree (district > street >
community). A list never shows what the detail page would refuse: views load
objects with `visible_or_404` (404 outside the scope) and act with
`authorize_or_403` (403 for a forbidden action on a visible object).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, g, has_request_context
from flask_login import current_user
from sqlalchemy import Select, false, or_, select
from sqlalchemy.orm import Session

from community.accounts.models import Area, Membership, User
from community.core.nav import forget_visible
from community.extensions import db


def _real(user: Any) -> Any:
    """The user object behind `current_user`: a rule reads several attributes, and each
    read through the proxy looks the user up again."""
    get = getattr(user, "_get_current_object", None)
    return get() if get is not None else user


def _cache() -> dict:
    """Per-request memo of memberships and roles, keyed by (kind, user id); outside a
    request nothing is memoised (services and tests see changes at once)."""
    if not has_request_context():
        return {}
    found = g.get("_memberships")
    if found is None:
        found = g._memberships = {}
    return found


def memberships(user: Any) -> list[Membership]:
    """The user's memberships, loaded once per request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    cache = _cache()
    key = ("m", user.id)
    if key not in cache:
        cache[key] = list(
            db.session.scalars(select(Membership).where(Membership.user_id == user.id))
        )
    return cache[key]


def forget_memberships() -> None:
    if has_request_context():
        g.pop("_memberships", None)
        forget_visible()  # the navigation follows the memberships


def roles(user: Any) -> frozenset[str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    cache = _cache()
    key = ("r", user.id)
    if key not in cache:
        cache[key] = frozenset(m.role for m in memberships(user))
    return cache[key]


def role_list(user: Any) -> list[str]:
    """The user's roles, sorted (for showing them)."""
    return sorted(roles(user))


def has_role(user: Any, *wanted: str) -> bool:
    mine = roles(user)
    return any(w in mine for w in wanted)


def is_admin(user: Any) -> bool:
    return has_role(user, "admin")


def first_admin(session: Session) -> User | None:
    """The oldest administrator account (the command line's acting user when none
    is named)."""
    return session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.role == "admin")
        .order_by(User.id)
        .limit(1)
    )


def scope_areas(user: Any, *role_names: str) -> list[Area]:
    """Root areas the user covers through the given roles (all roles if none given);
    memoised per request like the memberships they come from."""
    cache = _cache()
    key = ("a", getattr(user, "id", None), role_names)
    found = cache.get(key)
    if found is None:
        found = cache[key] = _scope_areas(user, role_names)
    return found


def _scope_areas(user: Any, role_names: tuple[str, ...]) -> list[Area]:
    result = []
    for m in memberships(user):
        if role_names and m.role not in role_names:
            continue
        area = m.organization.area if m.organization is not None else m.area
        if area is not None:
            result.append(area)
    return result


def area_subtree_filter(column, areas: list[Area]):
    """SQL condition: `column` (an Area.path column) lies in one of the subtrees."""
    if not areas:
        return false()
    return or_(*[column.like(f"{a.path}%") for a in areas])


def in_areas(user: Any, area_id_column, *role_names: str):
    """SQL condition: `area_id_column` is an area of the subtrees the user covers
    through the given roles (e.g. the police areas whose items they decide)."""
    areas = scope_areas(user, *role_names)
    if not areas:
        return false()
    return area_id_column.in_(select(Area.id).where(area_subtree_filter(Area.path, areas)))


def in_scope_area(user: Any, area: Area | None, *role_names: str) -> bool:
    if area is None:
        return False
    return any(area.path.startswith(a.path) for a in scope_areas(user, *role_names))


def visible_areas(user: Any) -> Select:
    """Areas the user may pick or see: everything for admins, else their subtrees."""
    stmt = select(Area).order_by(Area.path)
    if is_admin(user):
        return stmt
    return stmt.where(area_subtree_filter(Area.path, scope_areas(user)))


def org_ids(user: Any, *role_names: str) -> set[int]:
    return {
        m.organization_id
        for m in memberships(user)
        if m.organization_id is not None and (not role_names or m.role in role_names)
    }


def led_teams(user: Any) -> list[Any]:
    """The volunteer teams (organizations) the user leads."""
    return [
        m.organization
        for m in memberships(user)
        if m.lead and m.role == "volunteer" and m.organization is not None
    ]


Rule = Callable[[Any, Any], bool]
_RULES: dict[str, Rule] = {}


def rule(*actions: str) -> Callable[[Rule], Rule]:
    """Register `fn(user, obj) -> bool` as the rule of each action. An action has one
    rule: registering it twice is a programming error."""

    def register(fn: Rule) -> Rule:
        for action in actions:
            if action in _RULES and _RULES[action] is not fn:
                raise KeyError(f"action {action!r} already has a rule")
            _RULES[action] = fn
        return fn

    return register


def can(user: Any, action: str, obj: Any = None) -> bool:
    """True when `user` may perform `action` (on `obj`). Unknown actions are refused."""
    user = _real(user)
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    found = _RULES.get(action)
    if found is None:
        raise KeyError(f"no permission rule for action {action!r}")
    return bool(found(user, obj))


def visible_or_404(obj: Any, action: str):
    """`obj` when the current user may see it through `action` (e.g. "site.view");
    404 when it does not exist (None) or lies outside the user's scope."""
    if obj is None or not can(current_user, action, obj):
        abort(404)
    return obj


def authorize_or_403(action: str, obj: Any = None) -> None:
    """403 unless the current user may take `action` on `obj` (already visible)."""
    if not can(current_user, action, obj):
        abort(403)


@rule("admin.manage")
def _admin(user: Any, obj: Any) -> bool:
    return is_admin(user)


@rule("account.use")
def _logged_in(user: Any, obj: Any) -> bool:
    return user is not None and user.is_authenticated


@rule("nav.admin")
def _admin_nav(user: Any, obj: Any) -> bool:
    return is_admin(user)
