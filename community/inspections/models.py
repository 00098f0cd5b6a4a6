"""Safety admission: the checklist, inspections and their answers, and the incidents
(crime/public-security cases, fires) the police record at sites."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from community.accounts.models import User
from community.core.timeutil import utcnow
from community.extensions import db
from community.places.models import Site

RESULTS = ("pass", "fail", "na")
INCIDENT_KINDS = ("crime", "fire")


class ChecklistItem(db.Model):
    """One line of the safety-admission checklist; rows, so more can be added."""

    __tablename__ = "checklist_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title_zh: Mapped[str] = mapped_column(String(120))
    title_en: Mapped[str] = mapped_column(String(120))
    required: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class Inspection(db.Model):
    __tablename__ = "inspection"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'completed')", name="status"),
        Index("ix_inspection_site_date", "site_id", "inspected_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    inspected_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(20), default="open")
    # Outcome once completed: all required items passed.
    passed: Mapped[bool | None]
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]

    site: Mapped[Site] = relationship(lazy="raise_on_sql")
    inspector: Mapped[User | None] = relationship(lazy="raise_on_sql")
    results: Mapped[list[InspectionResult]] = relationship(
        back_populates="inspection", lazy="raise_on_sql", passive_deletes=True
    )


class InspectionResult(db.Model):
    __tablename__ = "inspection_result"
    __table_args__ = (
        UniqueConstraint("inspection_id", "item_id"),
        CheckConstraint("result IN ('pass', 'fail', 'na')", name="result"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("inspection.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("checklist_item.id", ondelete="RESTRICT"))
    result: Mapped[str] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(String(255))

    inspection: Mapped[Inspection] = relationship(back_populates="results", lazy="raise_on_sql")
    item: Mapped[ChecklistItem] = relationship(lazy="joined", innerjoin=True)


class Incident(db.Model):
    """A crime/public-security case or a fire accident at a site (police only)."""

    __tablename__ = "incident"
    __table_args__ = (
        CheckConstraint("kind IN ('crime', 'fire')", name="kind"),
        Index("ix_incident_site_date", "site_id", "occurred_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    occurred_on: Mapped[date]
    note: Mapped[str] = mapped_column(String(500))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    site: Mapped[Site] = relationship(lazy="raise_on_sql")
