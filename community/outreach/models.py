"""Outreach (宣传): publicity events at enterprises, sites, communities, schools or
other places; attendees' QR sign-ins and quiz answers; visit requests from
enterprises and property companies; experience corners (心防体验区).

Guarantees in the database (the services give the friendly message first):
- one sign-in per event and phone cookie, and per page nonce (unique indexes:
  a replayed or repeated sign-in can never be counted twice);
- group visits of one experience corner never overlap: on PostgreSQL an
  exclusion constraint (btree_gist, tsrange(starts_at, ends_at) &&), on SQLite
  BEFORE INSERT/UPDATE triggers raising on an overlap (migration 0025: neither
  can be declared here, so `alembic check` does not compare them).
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from community.accounts.models import Area, Organization, User
from community.core.crypto import EncryptedString
from community.core.timeutil import utcnow
from community.duty.models import DutyTask
from community.extensions import db
from community.places.models import Site
from community.residents.models import Residence

KINDS = (
    "anti_fraud",
    "legal",
    "anti_drug",
    "anti_gang",
    "fire_safety",
    "corner_visit",
    "safety_education",
)
TARGETS = ("enterprise", "site", "area", "school", "place")
EVENT_STATES = ("published", "closed", "cancelled")
REQUEST_STATES = ("waiting", "scheduled", "declined")
MAX_PHOTOS = 3


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def new_signin_token() -> str:
    return secrets.token_urlsafe(18)


class OutreachCorner(db.Model):
    """A 心防体验区: a place (a site or free text) open at fixed local hours."""

    __tablename__ = "outreach_corner"
    __table_args__ = (CheckConstraint("closes > opens", name="hours"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"))
    place: Mapped[str | None] = mapped_column(String(200))
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)
    capacity: Mapped[int] = mapped_column(default=30)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # "unnested": an event's nullable corner joins its area as a plain LEFT OUTER
    # JOIN (SQLite materialised the nested "(corner JOIN area)" on every list).
    area: Mapped[Area] = relationship(lazy="joined", innerjoin="unnested")
    site: Mapped[Site | None] = relationship(lazy="raise_on_sql")


class OutreachEvent(db.Model):
    __tablename__ = "outreach_event"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(KINDS)})", name="kind"),
        CheckConstraint(f"target IN ({_in(TARGETS)})", name="target"),
        CheckConstraint(f"status IN ({_in(EVENT_STATES)})", name="status"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("planned_audience >= 0", name="planned_ge_zero"),
        CheckConstraint("hand_count >= 0 AND materials >= 0", name="counts_ge_zero"),
        CheckConstraint("target <> 'enterprise' OR enterprise_id IS NOT NULL", name="enterprise"),
        CheckConstraint("target <> 'site' OR site_id IS NOT NULL", name="site"),
        CheckConstraint("kind <> 'corner_visit' OR corner_id IS NOT NULL", name="corner"),
        # Coverage: last visit per target and kind, events per area and time.
        Index("ix_outreach_event_enterprise_kind_starts", "enterprise_id", "kind", "starts_at"),
        Index("ix_outreach_event_site_kind_starts", "site_id", "kind", "starts_at"),
        Index("ix_outreach_event_area_starts", "area_id", "starts_at"),
        Index("ix_outreach_event_corner_starts", "corner_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(120))
    target: Mapped[str] = mapped_column(String(12))
    # The area the event belongs to (scope): the target's area, or the one chosen.
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"))
    enterprise_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="RESTRICT")
    )
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="RESTRICT"))
    corner_id: Mapped[int | None] = mapped_column(
        ForeignKey("outreach_corner.id", ondelete="RESTRICT")
    )
    place: Mapped[str | None] = mapped_column(String(200))  # school or free-text place
    starts_at: Mapped[datetime]  # naive UTC
    ends_at: Mapped[datetime]
    organiser_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="RESTRICT"), index=True
    )
    speakers: Mapped[str | None] = mapped_column(String(200))
    planned_audience: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(12), default="published")
    signin_token: Mapped[str] = mapped_column(String(40), unique=True, default=new_signin_token)
    duty_id: Mapped[int | None] = mapped_column(
        ForeignKey("duty_task.id", ondelete="SET NULL"), index=True
    )
    publisher_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Closing: sign-ins counted at that moment plus people counted by hand.
    closed_at: Mapped[datetime | None]
    signins_counted: Mapped[int] = mapped_column(default=0)
    hand_count: Mapped[int] = mapped_column(default=0)
    attendance: Mapped[int] = mapped_column(default=0)
    materials: Mapped[int] = mapped_column(default=0)
    notes: Mapped[str | None] = mapped_column(Text)

    area: Mapped[Area] = relationship(lazy="joined", innerjoin=True)
    organiser: Mapped[Organization] = relationship(
        foreign_keys=[organiser_id], lazy="joined", innerjoin=True
    )
    enterprise: Mapped[Organization | None] = relationship(
        foreign_keys=[enterprise_id], lazy="joined"
    )
    site: Mapped[Site | None] = relationship(lazy="joined")
    corner: Mapped[OutreachCorner | None] = relationship(lazy="joined")
    duty: Mapped[DutyTask | None] = relationship(lazy="raise_on_sql")
    publisher: Mapped[User | None] = relationship(lazy="raise_on_sql")
    photos: Mapped[list[OutreachPhoto]] = relationship(
        lazy="raise_on_sql", order_by="OutreachPhoto.position", cascade="all, delete-orphan"
    )

    @property
    def target_name(self) -> str:
        if self.target == "enterprise" and self.enterprise is not None:
            return self.enterprise.name
        if self.target == "site" and self.site is not None:
            return self.site.name
        if self.target == "area":
            return self.area.name
        return self.place or ""


class OutreachPhoto(db.Model):
    __tablename__ = "outreach_photo"
    __table_args__ = (
        UniqueConstraint("event_id", "position"),
        CheckConstraint(f"position BETWEEN 1 AND {MAX_PHOTOS}", name="position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outreach_event.id", ondelete="CASCADE"))
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(80))  # core.uploads stored name


class OutreachSignin(db.Model):
    """One attendee's sign-in: no account, no phone number, never an ID number.
    `device` is the random id of the phone's cookie, `nonce` the one the sign-in
    page rendered; either seen again answers with this row."""

    __tablename__ = "outreach_signin"
    __table_args__ = (
        UniqueConstraint("event_id", "nonce"),
        UniqueConstraint("event_id", "device"),
        CheckConstraint("quiz_correct IS NULL OR quiz_correct BETWEEN 0 AND 5", name="quiz"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outreach_event.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(64))
    device: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(EncryptedString(200))
    employer: Mapped[str | None] = mapped_column(String(120))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    quiz_correct: Mapped[int | None]
    quiz_at: Mapped[datetime | None]


class VisitRequest(db.Model):
    """An enterprise or property company asks for a session at its premises."""

    __tablename__ = "outreach_request"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(KINDS)})", name="kind"),
        CheckConstraint(f"status IN ({_in(REQUEST_STATES)})", name="status"),
        CheckConstraint("preferred_to >= preferred_from", name="dates"),
        CheckConstraint("audience >= 1", name="audience"),
        Index("ix_outreach_request_status_area", "status", "area_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"))
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"))
    preferred_from: Mapped[date] = mapped_column(Date)
    preferred_to: Mapped[date] = mapped_column(Date)
    audience: Mapped[int]
    note: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12), default="waiting")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(String(255))
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("outreach_event.id", ondelete="SET NULL")
    )

    organization: Mapped[Organization] = relationship(lazy="joined", innerjoin=True)
    site: Mapped[Site | None] = relationship(lazy="joined")
    area: Mapped[Area] = relationship(lazy="joined", innerjoin=True)


# Coverage ranks the enterprises never visited by their employees registered as
# residents (outreach.queries.employees_registered): one range of this index per
# enterprise, the active residences naming it as employer, without reading a row.
# The residents' table carries it for this feature only; the WHERE here and the
# query's conditions must stay the same for the planner to use it.
_ACTIVE_EMPLOYED = "status = 'verified' AND move_out IS NULL AND employer IS NOT NULL"
Index(
    "ix_residence_employer_active",
    Residence.employer,
    sqlite_where=db.text(_ACTIVE_EMPLOYED),
    postgresql_where=db.text(_ACTIVE_EMPLOYED),
)
