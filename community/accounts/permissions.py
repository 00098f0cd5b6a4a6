"""Every access rule of the application: `can(user, action, obj)` and query scopes.

Roles come from memberships; scope follows the area tree (district > street >
community). A list never shows what the detail page would refuse: views use
the scopes below for both, answering 404 outside the scope and 403 for a
forbidden action on a visible object.
"""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context
from sqlalchemy import Select, false, or_, select

from community.accounts.models import Area, Membership
from community.extensions import db


def memberships(user: Any) -> list[Membership]:
    """The user's memberships, loaded once per request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    cache = g.setdefault("_memberships", {}) if has_request_context() else {}
    if user.id not in cache:
        cache[user.id] = list(
            db.session.scalars(select(Membership).where(Membership.user_id == user.id))
        )
    return cache[user.id]


def forget_memberships() -> None:
    if has_request_context():
        g.pop("_memberships", None)


def roles(user: Any) -> set[str]:
    return {m.role for m in memberships(user)}


def has_role(user: Any, *wanted: str) -> bool:
    return bool(roles(user) & set(wanted))


def is_admin(user: Any) -> bool:
    return has_role(user, "admin")


def scope_areas(user: Any, *role_names: str) -> list[Area]:
    """Root areas the user covers through the given roles (all roles if none given)."""
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


# action -> predicate(user, obj). Every feature's rules are rows of this table.
_RULES: dict[str, Any] = {
    "admin.manage": lambda user, obj: is_admin(user),
    "account.use": lambda user, obj: user is not None and user.is_authenticated,
}


def can(user: Any, action: str, obj: Any = None) -> bool:
    """True when `user` may perform `action` (on `obj`). Unknown actions are refused."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    rule = _RULES.get(action)
    if rule is None:
        raise KeyError(f"no permission rule for action {action!r}")
    return bool(rule(user, obj))
