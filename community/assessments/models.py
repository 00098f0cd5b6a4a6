"""The monthly star assessment (日常管理星级) of a site."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from community.core.timeutil import utcnow
from community.extensions import db
from community.places.models import Site

ASSESSMENT_STATES = ("draft", "submitted", "approved", "rejected")


class Assessment(db.Model):
    """The monthly star assessment (日常管理星级) of a site: one per site and month."""

    __tablename__ = "assessment"
    __table_args__ = (
        UniqueConstraint("site_id", "month"),
        CheckConstraint("status IN ('draft', 'submitted', 'approved', 'rejected')", name="status"),
        CheckConstraint("score IS NULL OR (score BETWEEN 0 AND 100)", name="score"),
        CheckConstraint("stars IS NULL OR (stars BETWEEN 1 AND 5)", name="stars"),
        # The list pages' orders: newest month first, and the queue oldest first.
        Index("ix_assessment_month_id", "month", "id"),
        Index("ix_assessment_status_submitted", "status", "submitted_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    # The first day of the assessed month.
    month: Mapped[date]
    status: Mapped[str] = mapped_column(String(12), default="draft")
    # {"criterion code": {"points": n, "max": m, "detail": "..."}} computed from data.
    computed: Mapped[dict] = mapped_column(JSON, default=dict)
    # {"manual item code": points} scored by the inspector.
    manual: Mapped[dict] = mapped_column(JSON, default=dict)
    score: Mapped[int | None]
    stars: Mapped[int | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    site: Mapped[Site] = relationship(lazy="raise_on_sql")
