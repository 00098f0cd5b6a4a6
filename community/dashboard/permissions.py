"""Who sees which area's dashboard: administrators everything; police, coordinators
and landlord associations the subtrees they cover (an association its community,
as aggregates only: no site or person is named). Only police and coordinators get
the start-page summary."""

from __future__ import annotations

from typing import Any

from community.accounts.models import Area
from community.accounts.permissions import has_role, in_scope_area, is_admin, rule, scope_areas

DASHBOARD_ROLES = ("police", "coordinator", "association")


@rule("nav.dashboard")
def _sees_dashboard(user: Any, obj: Any) -> bool:
    return is_admin(user) or has_role(user, *DASHBOARD_ROLES)


@rule("dashboard.view")
def _sees_area(user: Any, area: Any) -> bool:
    """`area` None: the user's own overview (every area they cover)."""
    if area is None:
        return _sees_dashboard(user, None)
    return is_admin(user) or in_scope_area(user, area, *DASHBOARD_ROLES)


def covers_everything(user: Any) -> bool:
    return is_admin(user)


def dashboard_roots(user: Any) -> list[Area]:
    """The outermost areas the user's dashboard covers (nested ones left out), by path."""
    areas = sorted({a.id: a for a in scope_areas(user, *DASHBOARD_ROLES)}.values(), key=_path)
    roots: list[Area] = []
    for area in areas:
        if not any(area.path.startswith(r.path) for r in roots):
            roots.append(area)
    return roots


def _path(area: Area) -> str:
    return area.path


def shows_start_summary(user: Any) -> bool:
    return has_role(user, "police", "coordinator")
