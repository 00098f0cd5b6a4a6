"""Account rules: creating users, areas and organizations, memberships, passwords, login."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased
from werkzeug.security import check_password_hash, generate_password_hash

from community.accounts.models import (
    AREA_LEVELS,
    ORG_KINDS,
    ROLE_ORG_KINDS,
    ROLES,
    Area,
    Membership,
    Organization,
    User,
)
from community.core import audit
from community.core.errors import RuleViolation
from community.core.inputs import is_clean_display_text
from community.core.timeutil import utcnow

MIN_PASSWORD_LENGTH = 10
# Usernames are typed at the login prompt and shown in lists and audit entries:
# ASCII letters, digits, dot, underscore and hyphen, 3 to 40 characters, so one
# name can never look like another (no look-alike scripts, no invisible or
# right-to-left characters). Display names may be written in any script (CJK,
# Latin, ...) but hold no control, format (bidi, zero-width) or line-break
# characters; see core.inputs.is_clean_display_text.
USERNAME_RE = re.compile(r"[A-Za-z0-9._-]{3,40}")
USERNAME_MIN, USERNAME_MAX = 3, 40
DISPLAY_NAME_MAX = 120

# The actions recorded here, named for the audit log.
audit.register_actions(
    {
        "login": _l("Signed in"),
        "login_failed": _l("Failed sign-in"),
        "logout": _l("Signed out"),
        "password_changed": _l("Password changed"),
        "user_enabled": _l("Account enabled"),
        "user_disabled": _l("Account disabled"),
        "user_created": _l("Account created"),
        "user_updated": _l("Account changed"),
        "notify_digest_changed": _l("Notice digest setting changed"),
        "membership_added": _l("Role given"),
        "membership_removed": _l("Role removed"),
    }
)
_PARENT_LEVEL = {"district": None, "street": "district", "community": "street"}
# A dummy hash checked when the username is unknown, so both cases cost the same.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise RuleViolation(
            "password",
            _("A password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
        )
    return generate_password_hash(password, method="scrypt")


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (no hint which part was wrong)."""
    user = session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
    elif check_password_hash(user.password_hash, password) and user.active:
        user.last_login_at = utcnow()
        audit.record(session, user, "login", user)
        return user
    # The typed username (never the password), so a guessing run shows in the log.
    audit.record(
        session,
        None,
        "login_failed",
        user,
        {
            "username": username.strip()[:USERNAME_MAX],
            "disabled": bool(user and user.active is False),
        },
        object_type="user",
    )
    return None


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """Requires the current password; ends every other session of the user."""
    if not check_password_hash(user.password_hash, current):
        raise RuleViolation("current_password", _("The current password is not correct."))
    user.password_hash = hash_password(new)
    user.session_version += 1
    audit.record(session, user, "password_changed", user)
    session.flush()


def end_sessions(user: User) -> None:
    """Every session and remember cookie issued before now stops working."""
    user.session_version += 1


def log_out(session: Session, user: User) -> None:
    """Logout: ends every session of the user (see end_sessions), audited."""
    end_sessions(user)
    audit.record(session, user, "logout", user)
    session.flush()


def set_active(session: Session, actor: User, user: User, active: bool) -> None:
    if actor.id == user.id and not active:
        raise RuleViolation("active", _("You cannot disable your own account."))
    if user.active != active:
        user.active = active
        end_sessions(user)
        audit.record(session, actor, "user_enabled" if active else "user_disabled", user)
    session.flush()


def get_area_by_name(session: Session, name: str) -> Area:
    areas = list(session.scalars(select(Area).where(Area.name == name)))
    if not areas:
        raise RuleViolation("area", _("No area is called %(name)s.", name=name))
    if len(areas) > 1:
        raise RuleViolation("area", _("More than one area is called %(name)s.", name=name))
    return areas[0]


def create_area(session: Session, name: str, level: str, parent: Area | None) -> Area:
    """A district has no parent; a street sits in a district, a community in a street."""
    name = name.strip()
    if not name:
        raise RuleViolation("name", _("A name is required."))
    if level not in AREA_LEVELS:
        raise RuleViolation("level", _("Unknown level."))
    wanted = _PARENT_LEVEL[level]
    if wanted is None and parent is not None:
        raise RuleViolation("parent_id", _("A district has no parent area."))
    if wanted is not None and (parent is None or parent.level != wanted):
        message = (
            _("A street must sit inside a district.")
            if level == "street"
            else _("A community must sit inside a street.")
        )
        raise RuleViolation("parent_id", message)
    parent_id = parent.id if parent else None
    exists = session.scalar(
        select(Area.id).where(Area.name == name, Area.parent_id.is_(parent_id))
        if parent_id is None
        else select(Area.id).where(Area.name == name, Area.parent_id == parent_id)
    )
    if exists:
        raise RuleViolation("name", _("This area already exists."))
    area = Area(name=name, level=level, parent_id=parent_id)
    session.add(area)
    session.flush()
    area.path = f"{parent.path if parent else '/'}{area.id}/"
    session.flush()
    return area


def create_organization(session: Session, name: str, kind: str, area: Area) -> Organization:
    name = name.strip()
    if not name:
        raise RuleViolation("name", _("A name is required."))
    if kind not in ORG_KINDS:
        raise RuleViolation("kind", _("Unknown kind of organization."))
    if session.scalar(select(Organization.id).where(Organization.name == name)):
        raise RuleViolation("name", _("An organization with this name already exists."))
    org = Organization(name=name, kind=kind, area_id=area.id)
    org.area = area
    session.add(org)
    session.flush()
    return org


def is_valid_username(username: str) -> bool:
    return USERNAME_RE.fullmatch(username) is not None


def check_display_name(display_name: str) -> str:
    """The display name stripped; raises RuleViolation("display_name") when it is empty,
    too long or holds control, bidi-override or zero-width characters."""
    display_name = display_name.strip()
    if not display_name:
        raise RuleViolation("display_name", _("A display name is required."))
    if len(display_name) > DISPLAY_NAME_MAX:
        raise RuleViolation(
            "display_name",
            _("A display name has at most %(n)d characters.", n=DISPLAY_NAME_MAX),
        )
    if not is_clean_display_text(display_name):
        raise RuleViolation(
            "display_name",
            _("A display name cannot hold invisible, control or right-to-left characters."),
        )
    return display_name


def create_user(
    session: Session,
    username: str,
    password: str,
    display_name: str | None = None,
    phone: str | None = None,
    locale: str | None = None,
    *,
    actor: Any = None,
) -> User:
    """A new user. The username follows USERNAME_RE and is unique whatever its case;
    raises RuleViolation on "password", "username" or "display_name"."""
    if len(password) < MIN_PASSWORD_LENGTH:  # checked first: the cheapest to fix
        hash_password(password)
    username = username.strip()
    if not username:
        raise RuleViolation("username", _("A username is required."))
    if not is_valid_username(username):
        raise RuleViolation(
            "username",
            _(
                "A username has %(min)d to %(max)d characters: Latin letters, digits, "
                "dot, underscore or hyphen.",
                min=USERNAME_MIN,
                max=USERNAME_MAX,
            ),
        )
    display_name = check_display_name(display_name or username)
    taken = session.scalar(select(User.id).where(func.lower(User.username) == username.lower()))
    if taken:
        raise RuleViolation("username", _("This username is taken."))
    user = User(
        username=username,
        display_name=display_name,
        phone=phone or None,
        password_hash=hash_password(password),
        locale=locale,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "user_created", user, {"username": user.username})
    return user


def get_user_by_username(session: Session, username: str | None) -> User | None:
    username = (username or "").strip()
    if not username:
        return None
    return session.scalar(select(User).where(func.lower(User.username) == username.lower()))


def update_user(
    session: Session,
    actor: Any,
    user: User,
    *,
    display_name: str,
    phone: str | None,
    active: bool,
    remove_phone: bool = False,
) -> User:
    """Change a user's display name, phone and whether the account is active (see
    set_active). The stored phone is never sent back to the form: an empty `phone`
    keeps it, `remove_phone` clears it. Raises RuleViolation."""
    display_name = check_display_name(display_name)
    phone = phone or (None if remove_phone else user.phone)
    set_active(session, actor, user, active)
    # Field names only: the values (a phone above all) are personal data.
    changed = [
        name
        for name, old, new in (
            ("display_name", user.display_name, display_name),
            ("phone", user.phone, phone or None),
        )
        if old != new
    ]
    user.display_name = display_name
    user.phone = phone or None
    if changed:
        audit.record(session, actor, "user_updated", user, {"fields": changed})
    session.flush()
    return user


def set_digest(session: Session, user: User, digest: bool) -> None:
    """The user's choice: one message a day summarising unread notices (True) or one
    message per notice (False)."""
    if user.notify_digest != digest:
        user.notify_digest = digest
        audit.record(session, user, "notify_digest_changed", user, {"digest": digest})
    session.flush()


def set_locale(session: Session, user: User, locale: str) -> None:
    """The user's language (one of LANGUAGES, checked by the form), kept across sessions."""
    user.locale = locale
    session.flush()


def member_user_ids(session: Session, organization_ids: Any, *roles: str) -> list[int]:
    """Ids of the active users holding one of `roles` (any role if none given) in
    the organizations `organization_ids` (for notifying a company's staff)."""
    ids = [i for i in organization_ids if i is not None]
    if not ids:
        return []
    stmt = (
        select(Membership.user_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organization_id.in_(ids), User.active.is_(True))
    )
    if roles:
        stmt = stmt.where(Membership.role.in_(roles))
    return sorted(set(session.scalars(stmt)))


def area_user_ids(session: Session, area_id: int, *roles: str) -> list[int]:
    """Ids of the active users holding one of `roles` whose area (their
    organization's, or their own for a role without one) covers the area `area_id`
    — the police of a site's area, for a notice about it."""
    covered = select(Area.path).where(Area.id == area_id).scalar_subquery()
    theirs = aliased(Area)
    stmt = (
        select(Membership.user_id)
        .join(User, User.id == Membership.user_id)
        .outerjoin(Organization, Organization.id == Membership.organization_id)
        .join(theirs, theirs.id == func.coalesce(Organization.area_id, Membership.area_id))
        .where(
            Membership.role.in_(roles),
            User.active.is_(True),
            covered.like(theirs.path + "%"),
        )
    )
    return sorted(set(session.scalars(stmt)))


def add_membership(
    session: Session,
    actor: Any,
    user: User,
    role: str,
    organization: Organization | None = None,
    area: Area | None = None,
    lead: bool = False,
) -> Membership:
    """The role must fit the organization's kind; the same membership never twice;
    only a volunteer of a volunteer team can lead it (`lead`). Raises
    RuleViolation("role"/"area"/"username"/"lead")."""
    if role not in ROLES:
        raise RuleViolation("role", _("Unknown role."))
    kind = organization.kind if organization is not None else None
    if kind not in ROLE_ORG_KINDS[role]:
        raise RuleViolation("role", _("This role cannot be held in this kind of organization."))
    if lead and (role != "volunteer" or kind != "volunteer_team"):
        raise RuleViolation("lead", _("Only a volunteer of a volunteer team can lead it."))
    if organization is None and role != "admin" and area is None:
        raise RuleViolation("area", _("Choose the area this role covers."))
    stmt = select(Membership.id).where(Membership.user_id == user.id, Membership.role == role)
    stmt = stmt.where(
        Membership.organization_id == organization.id
        if organization is not None
        else Membership.organization_id.is_(None)
    )
    if session.scalar(stmt):
        raise RuleViolation("username", _("This person already has this role here."))
    membership = Membership(
        user_id=user.id,
        organization_id=organization.id if organization else None,
        role=role,
        area_id=area.id if (area is not None and organization is None) else None,
        lead=bool(lead),
    )
    session.add(membership)
    session.flush()
    audit.record(
        session,
        actor,
        "membership_added",
        membership,
        {
            "user_id": user.id,
            "user": user.username,
            "role": role,
            "org_id": organization.id if organization else None,
            "org": organization.name if organization else None,
            "area_id": membership.area_id,
            "lead": membership.lead,
        },
    )
    return membership


def remove_membership(session: Session, actor: Any, membership: Membership) -> None:
    if getattr(actor, "id", None) == membership.user_id and membership.role == "admin":
        raise RuleViolation(None, _("You cannot remove your own admin role."))
    audit.record(
        session,
        actor,
        "membership_removed",
        membership,
        {
            "user_id": membership.user_id,
            "role": membership.role,
            "org_id": membership.organization_id,
            "area_id": membership.area_id,
        },
    )
    session.delete(membership)
    session.flush()


def list_members(session: Session, organization: Organization) -> list[Membership]:
    return list(
        session.scalars(
            select(Membership)
            .join(User, Membership.user_id == User.id)
            .where(Membership.organization_id == organization.id)
            .order_by(Membership.role, User.username)
        )
    )
