"""Plain factory functions with explicit keyword arguments."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from community.accounts import services
from community.accounts.models import ROLE_ORG_KINDS, Area, Organization, User

_seq = itertools.count(1)
DEFAULT_PASSWORD = "correct-horse-battery"


def make_area(session, *, name=None, level="district", parent=None) -> Area:
    return services.create_area(session, name or f"area-{next(_seq)}", level, parent)


def make_area_tree(session, *, prefix=None):
    """A district with one street and one community; returns (district, street, community)."""
    prefix = prefix or f"t{next(_seq)}"
    district = make_area(session, name=f"{prefix}-district", level="district")
    street = make_area(session, name=f"{prefix}-street", level="street", parent=district)
    community = make_area(session, name=f"{prefix}-community", level="community", parent=street)
    return district, street, community


def make_org(session, *, kind="police_station", area=None, name=None) -> Organization:
    if area is None:
        area = make_area_tree(session)[2]
    return services.create_organization(session, name or f"org-{next(_seq)}", kind, area)


def make_user(
    session, *, username=None, password=DEFAULT_PASSWORD, display_name=None, phone=None
) -> User:
    return services.create_user(
        session, username or f"user{next(_seq)}", password, display_name=display_name, phone=phone
    )


def make_role_user(
    session, role, *, password=DEFAULT_PASSWORD, org=None, area=None, username=None
) -> User:
    """A user holding `role`: in `org` (or a new organization of the right kind on
    `area`), or organization-less on `area` where the role allows it."""
    user = make_user(session, password=password, username=username or f"{role}{next(_seq)}")
    kinds = ROLE_ORG_KINDS[role]
    if org is None and kinds[0] is not None:
        org = make_org(session, kind=kinds[0], area=area)
    if org is None and role != "admin" and area is None:
        area = make_area_tree(session)[2]
    services.add_membership(session, None, user, role, org, area)
    return user


def get_user(session, username) -> User:
    return session.scalar(select(User).where(User.username == username))
