"""Accounts: users, the area tree, organizations and memberships (user x org x role)."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from community.core.crypto import EncryptedString
from community.core.timeutil import utcnow
from community.extensions import db

ROLES = (
    "admin",
    "police",
    "coordinator",
    "association",
    "landlord",
    "property_manager",
    "enterprise",
    "volunteer",
    "mediator",
)
ORG_KINDS = (
    "police_station",
    "community_office",
    "landlord_association",
    "property_company",
    "enterprise",
    "volunteer_team",
    "mediation_team",
)
AREA_LEVELS = ("district", "street", "community")

# Which organization kinds a role may be held in; None means "no organization".
ROLE_ORG_KINDS: dict[str, tuple[str | None, ...]] = {
    "admin": (None,),
    "police": ("police_station",),
    "coordinator": ("community_office",),
    "association": ("landlord_association",),
    "landlord": (None, "landlord_association"),
    "property_manager": ("property_company",),
    "enterprise": ("enterprise",),
    "volunteer": (None, "volunteer_team"),
    # A team lead or mediator of a mediation team (金牌调解; community.mediation holds
    # their position and category).
    "mediator": ("mediation_team",),
}


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class Area(db.Model):
    __tablename__ = "area"
    __table_args__ = (
        UniqueConstraint("parent_id", "name"),
        CheckConstraint(f"level IN ({_in(AREA_LEVELS)})", name="level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"))
    # Materialised path "/1/5/12/" so a subtree is one indexed LIKE query.
    path: Mapped[str] = mapped_column(String(255), index=True, default="")

    parent: Mapped[Area | None] = relationship(remote_side=[id], lazy="joined")

    def __repr__(self) -> str:
        return f"<Area {self.name}>"


class Organization(db.Model):
    __tablename__ = "organization"
    __table_args__ = (CheckConstraint(f"kind IN ({_in(ORG_KINDS)})", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    area: Mapped[Area] = relationship(lazy="joined")
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organization", lazy="raise_on_sql", passive_deletes=True
    )


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(EncryptedString(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    # Bumped on logout, password change and deactivation: every session and
    # remember cookie carrying an older version stops working.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # One message a day summarising unread notices instead of one per notice
    # (notifications.outbox); set on the account page.
    notify_digest: Mapped[bool] = mapped_column(default=False, server_default=false())

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", lazy="raise_on_sql", passive_deletes=True
    )

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login: the id carries the session version
        return f"{self.id}:{self.session_version}"


class Membership(db.Model):
    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("user_id", "organization_id", "role"),
        Index(
            "uq_membership_user_role_no_org",
            "user_id",
            "role",
            unique=True,
            sqlite_where=db.text("organization_id IS NULL"),
            postgresql_where=db.text("organization_id IS NULL"),
        ),
        CheckConstraint(f"role IN ({_in(ROLES)})", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(30))
    # Where an organization-less role (a landlord, a free volunteer) belongs.
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"))
    # A volunteer team's lead (only on a volunteer's membership of a volunteer team:
    # the service refuses it elsewhere): publishes outreach events for the team.
    lead: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships", lazy="joined")
    organization: Mapped[Organization | None] = relationship(
        back_populates="memberships", lazy="joined"
    )
    area: Mapped[Area | None] = relationship(lazy="joined")


class LoginFailure(db.Model):
    """One failed login, kept only for the throttle window (see accounts.auth.LoginThrottle).

    Every worker and host sees the same rows, so the limits hold however many
    processes serve /login. Never the password; the typed username only as a keyed
    hash (people type their password into the username field by mistake).
    """

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_address_at", "address", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    address: Mapped[str] = mapped_column(String(64))
    username_hash: Mapped[str] = mapped_column(String(64))
