"""Hazards found at sites (blocked exits, e-bikes charging indoors, ...) and their
open -> fixed -> closed workflow."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from community.accounts.models import Organization, User
from community.core.timeutil import utcnow
from community.extensions import db
from community.places.models import Site

SEVERITIES = ("low", "medium", "high")
HAZARD_STATES = ("open", "fixed", "closed")


class Hazard(db.Model):
    __tablename__ = "hazard"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'fixed', 'closed')", name="status"),
        CheckConstraint("severity IN ('low', 'medium', 'high')", name="severity"),
        Index("ix_hazard_site_status", "site_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    description: Mapped[str] = mapped_column(String(1000))
    severity: Mapped[str] = mapped_column(String(10))
    # Random file name under UPLOAD_DIR; served only to users who may see the site.
    photo: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(10), default="open")
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Assigned to the site's landlord, or else to its property company.
    assignee_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    assignee_org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL"), index=True
    )
    fix_note: Mapped[str | None] = mapped_column(String(1000))
    # The photo taken after the fix (same upload rules as `photo`); cleared on reopen.
    fix_photo: Mapped[str | None] = mapped_column(String(80))
    fixed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    reopen_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    site: Mapped[Site] = relationship(lazy="raise_on_sql")
    reported_by: Mapped[User | None] = relationship(
        foreign_keys=[reported_by_id], lazy="raise_on_sql"
    )
    assignee_user: Mapped[User | None] = relationship(
        foreign_keys=[assignee_user_id], lazy="raise_on_sql"
    )
    assignee_org: Mapped[Organization | None] = relationship(
        foreign_keys=[assignee_org_id], lazy="raise_on_sql"
    )
