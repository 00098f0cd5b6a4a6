"""Compliance: the points ledger of landlords and property companies (a line per
report, timely or late), the police's yellow cards and the cards the rule proposes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from community.accounts.models import Area
from community.core.timeutil import utcnow
from community.extensions import db

# Exactly one of user_id (a landlord) and organization_id (a property company).
_ONE_TARGET = "(user_id IS NULL) <> (organization_id IS NULL)"


POINTS_EVENTS = ("report", "move_out")


class PointsEntry(db.Model):
    """One line of the compliance points ledger, written when a report is made
    (event "report": the move-in) or a move-out is recorded (event "move_out"):
    +POINTS_TIMELY when timely, POINTS_LATE (negative) when late, to the site's
    landlord or property company that reported it. At most one line per residence
    and event. A balance is a SUM over these rows, never a stored total."""

    __tablename__ = "points_entry"
    __table_args__ = (
        CheckConstraint(_ONE_TARGET, name="one_target"),
        CheckConstraint("reason IN ('timely', 'late')", name="reason"),
        CheckConstraint("event IN ('report', 'move_out')", name="event"),
        UniqueConstraint("residence_id", "event"),
        Index("ix_points_entry_site_id_month", "site_id", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    residence_id: Mapped[int] = mapped_column(ForeignKey("residence.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(10), default="report", server_default="report")
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)  # first day of the report's month
    points: Mapped[int]
    reason: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class YellowCard(db.Model):
    """A yellow card (黄牌警告) issued by the police to a landlord or property
    company for a month, with the reason."""

    __tablename__ = "yellow_card"
    __table_args__ = (CheckConstraint(_ONE_TARGET, name="one_target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    month: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(255))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)


PROPOSAL_STATES = ("pending", "issued", "dismissed")


class YellowCardProposal(db.Model):
    """A yellow card proposed by the compliance rule: the landlord (user_id) or
    property company (organization_id) reached COMPLIANCE_YELLOW_CARD_LATE late
    reports in `month` (written by the report service when the threshold is
    reached). The police of `area_id` (the area of the site of the report that
    reached it) issue the card or dismiss the proposal, once per target and month."""

    __tablename__ = "yellow_card_proposal"
    __table_args__ = (
        CheckConstraint(_ONE_TARGET, name="one_target"),
        CheckConstraint("status IN ('pending', 'issued', 'dismissed')", name="status"),
        # NULLs never collide: one proposal per landlord and month, per company and month.
        UniqueConstraint("user_id", "month"),
        UniqueConstraint("organization_id", "month"),
        Index("ix_yellow_card_proposal_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE")
    )
    month: Mapped[date] = mapped_column(Date)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    # Why the police dismissed it.
    reason: Mapped[str | None] = mapped_column(String(255))

    area: Mapped[Area] = relationship(lazy="joined", innerjoin=True)
