"""Places: sites (rental apartments, houses, compounds, dormitories), buildings, rooms,
and landlords' membership in their community's landlord association."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from community.accounts.models import Area, Organization, User
from community.core.timeutil import local_date, utcnow
from community.extensions import db

SITE_KINDS = ("rental_apartment", "rental_house", "compound", "dormitory")
APPLICATION_STATES = ("pending", "approved", "declined")
MAX_PEOPLE = 500  # beds and head count of a room; the CHECK constraints below say the same


def new_qr_token() -> str:
    return secrets.token_urlsafe(18)


class Site(db.Model):
    __tablename__ = "site"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('rental_apartment', 'rental_house', 'compound', 'dormitory')", name="kind"
        ),
        CheckConstraint("stars IS NULL OR (stars BETWEEN 1 AND 5)", name="stars"),
        Index("ix_site_area_name", "area_id", "name"),
        # The inspections-due list reads its pages in order from these: never
        # inspected (due_on NULL) by name, then by due date. ix_site_due walks the
        # whole scope in that order (SQLite: area_id is the scope filter, read from
        # the index); ix_site_area_due serves each area of a scope on its own
        # (PostgreSQL merges the areas' first rows: places.queries.scoped_page).
        # Not on SQLite: it would take it for the site list instead of
        # ix_site_area_name, whose name order per area lets it stop after a page.
        Index("ix_site_due", "due_on", "name", "area_id"),
        Index("ix_site_area_due", "area_id", "due_on", "name").ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(30))
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"))
    address: Mapped[str] = mapped_column(String(255))
    landlord_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL"), index=True
    )
    association_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL"), index=True
    )
    # A dormitory's enterprise: its HR staff see the site (and report residences there).
    enterprise_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL"), index=True
    )
    # Random, unguessable; rotating it makes the printed QR codes stop working.
    qr_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_qr_token)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    # Figures kept up to date by the ratings services, so lists filter on this
    # table alone: admission date, last inspection, last incident, current stars.
    # active_history: the area counters (places.stored) need the old value of a
    # change even when the attribute was not loaded before it was set.
    admitted_on: Mapped[date | None] = mapped_column(index=True, active_history=True)
    last_inspected_on: Mapped[date | None]
    last_incident_on: Mapped[date | None]
    stars: Mapped[int | None] = mapped_column(index=True, active_history=True)
    last_assessed_month: Mapped[date | None]
    # Derived from the columns above by the rules (places.stored sets them at every
    # flush that changes a site; `refresh_stored` after a bulk load), so lists and
    # counters read dates instead of computing them per row: the next inspection's
    # due date (NULL: never inspected, due now) and its cadence in days
    # (inspections.queries.next_due_on, cadence_days), and the first day the 双无
    # badge shows (places.queries.shuangwu_from).
    due_on: Mapped[date | None]
    cadence_days: Mapped[int | None] = mapped_column(SmallInteger)
    shuangwu_on: Mapped[date | None] = mapped_column(active_history=True)
    # The rooms of its buildings, kept by places.stored in the flush that adds,
    # removes or moves a room (`refresh_room_counts` after a bulk load).
    room_count: Mapped[int] = mapped_column(default=0, server_default="0")

    # "unnested": loaded through a nullable relationship (an event's, a case's or a
    # request's site) the area joins as LEFT OUTER JOIN after the site's, not as a
    # nested "(site JOIN area)" that SQLite materialises, copying every site per query.
    area: Mapped[Area] = relationship(lazy="joined", innerjoin="unnested")
    landlord: Mapped[User | None] = relationship(foreign_keys=[landlord_id], lazy="raise_on_sql")
    company: Mapped[Organization | None] = relationship(
        foreign_keys=[company_id], lazy="raise_on_sql"
    )
    association: Mapped[Organization | None] = relationship(
        foreign_keys=[association_id], lazy="raise_on_sql"
    )
    enterprise: Mapped[Organization | None] = relationship(
        foreign_keys=[enterprise_id], lazy="raise_on_sql"
    )
    buildings: Mapped[list[Building]] = relationship(
        back_populates="site",
        lazy="raise_on_sql",
        order_by="Building.name",
        passive_deletes=True,
    )

    @property
    def is_admitted(self) -> bool:
        return self.admitted_on is not None

    def has_no_incidents_since(self, since: date) -> bool:
        """No crime/public-security case and no fire since `since`."""
        return self.last_incident_on is None or self.last_incident_on < since

    def known_since(self) -> date:
        """The first day the app knows the site's record from: its registration, or
        an earlier admission (a site admitted on paper before it was registered)."""
        registered = local_date(self.created_at)
        if self.admitted_on is not None and self.admitted_on < registered:
            return self.admitted_on
        return registered


# Outreach coverage lists the sites never visited largest first: read in this
# order, it stops after a page instead of sorting every site of the scope.
Index("ix_site_rooms", Site.room_count.desc(), Site.name, Site.id)


class Building(db.Model):
    __tablename__ = "building"
    __table_args__ = (UniqueConstraint("site_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    site: Mapped[Site] = relationship(back_populates="buildings", lazy="raise_on_sql")
    rooms: Mapped[list[Room]] = relationship(
        back_populates="building",
        lazy="raise_on_sql",
        order_by="Room.number",
        passive_deletes=True,
    )


class Room(db.Model):
    __tablename__ = "room"
    __table_args__ = (
        UniqueConstraint("building_id", "number"),
        CheckConstraint("beds >= 0 AND beds <= 500", name="beds"),
        CheckConstraint("occupants >= 0 AND occupants <= 500", name="occupants"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(
        ForeignKey("building.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(String(30))
    beds: Mapped[int] = mapped_column(default=0)
    # Head count of the people living in the room, and the day it was counted.
    occupants: Mapped[int] = mapped_column(default=0)
    counted_on: Mapped[date | None]

    building: Mapped[Building] = relationship(back_populates="rooms", lazy="raise_on_sql")


class AssociationApplication(db.Model):
    """A landlord's membership of the landlord association of a community."""

    __tablename__ = "association_application"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'declined')", name="status"),
        # One open (pending or approved) membership per landlord and association.
        Index(
            "uq_association_application_open",
            "association_id",
            "landlord_id",
            unique=True,
            sqlite_where=db.text("status IN ('pending', 'approved')"),
            postgresql_where=db.text("status IN ('pending', 'approved')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    association_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    landlord_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    note: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(String(255))

    association: Mapped[Organization] = relationship(
        foreign_keys=[association_id], lazy="joined", innerjoin=True
    )
    landlord: Mapped[User] = relationship(foreign_keys=[landlord_id], lazy="joined", innerjoin=True)
