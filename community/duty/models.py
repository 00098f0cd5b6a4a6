"""Duty (乐巡): tasks published by coordinators, volunteers' claims on them, and the
checkpoints visited on duty.

The guarantee (never more place-holding claims than places, never two live claims
of one volunteer on one task) lives in the database: `taken` is changed only by
conditional UPDATEs (services.claim_duty), CHECK (taken <= capacity) is the
backstop, and a partial unique index allows one live claim per (task, volunteer).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from community.accounts.models import Area, Organization, User
from community.core.crypto import EncryptedString
from community.core.timeutil import utcnow
from community.extensions import db
from community.places.models import Site

# "publicity": staffing of an outreach event whose kind none of the others fits
# (anti-drug, experience-corner visits, safety education).
KINDS = ("patrol", "fire_check", "legal_publicity", "mediation", "anti_fraud", "publicity")
TASK_STATES = ("published", "cancelled", "done")
CLAIM_STATES = (
    "claimed",
    "waiting",
    "cancelled",
    "on_duty",
    "reported",
    "approved",
    "rejected",
    "no_show",
)
# Claims that hold one of the task's places (counted in DutyTask.taken).
PLACE_STATES = ("claimed", "on_duty", "reported", "approved", "rejected", "no_show")
# Claims still in play before the duty: they can be cancelled.
OPEN_STATES = ("claimed", "waiting")


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class DutyTask(db.Model):
    __tablename__ = "duty_task"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(KINDS)})", name="kind"),
        CheckConstraint(f"status IN ({_in(TASK_STATES)})", name="status"),
        CheckConstraint("taken <= capacity", name="taken_le_capacity"),
        CheckConstraint("taken >= 0", name="taken_ge_zero"),
        CheckConstraint("capacity >= 1", name="capacity_positive"),
        CheckConstraint("points >= 0", name="points_ge_zero"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_duty_task_area_id_starts_at", "area_id", "starts_at"),
        Index("ix_duty_task_status_ends_at", "status", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    capacity: Mapped[int]
    taken: Mapped[int] = mapped_column(default=0)
    points: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(12), default="published")
    publisher_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Reserved for the members of one volunteer team (None: every volunteer of the area).
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL"), index=True
    )
    # Occurrences of a weekly repetition share one series id.
    series_id: Mapped[str | None] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]

    area: Mapped[Area] = relationship(lazy="joined", innerjoin=True)
    team: Mapped[Organization | None] = relationship(lazy="raise_on_sql")
    publisher: Mapped[User | None] = relationship(lazy="raise_on_sql")
    checkpoints: Mapped[list[DutyCheckpoint]] = relationship(
        back_populates="task",
        lazy="raise_on_sql",
        order_by="DutyCheckpoint.position",
        cascade="all, delete-orphan",
    )

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.taken, 0)

    @property
    def is_full(self) -> bool:
        return self.taken >= self.capacity


class DutyCheckpoint(db.Model):
    """One stop of a task's route, in order: free text, optionally at a site."""

    __tablename__ = "duty_checkpoint"
    __table_args__ = (UniqueConstraint("task_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("duty_task.id", ondelete="CASCADE"))
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"))
    # Where the checkpoint's place is (written `name @ lat,lon` when publishing): a
    # tick within NEAR_METRES of it is marked near, a farther one far.
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)

    task: Mapped[DutyTask] = relationship(back_populates="checkpoints", lazy="raise_on_sql")
    site: Mapped[Site | None] = relationship(lazy="raise_on_sql")


class DutyClaim(db.Model):
    __tablename__ = "duty_claim"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(CLAIM_STATES)})", name="status"),
        CheckConstraint("points_awarded >= 0", name="points_ge_zero"),
        # One live claim (anything but cancelled) per volunteer and task, whatever
        # the concurrency: the service's friendly check is not the guarantee.
        Index(
            "uq_duty_claim_task_id_volunteer_id_live",
            "task_id",
            "volunteer_id",
            unique=True,
            sqlite_where=sql_text("status <> 'cancelled'"),
            postgresql_where=sql_text("status <> 'cancelled'"),
        ),
        Index("ix_duty_claim_task_id_status", "task_id", "status", "claimed_at"),
        Index("ix_duty_claim_volunteer_id_status", "volunteer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("duty_task.id", ondelete="CASCADE"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(12))
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    checked_out_at: Mapped[datetime | None]
    report: Mapped[str | None] = mapped_column(Text)
    points_awarded: Mapped[int] = mapped_column(default=0)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    # The volunteer's answer to "record my route on this duty?" (None: not asked yet).
    track_consent: Mapped[bool | None] = mapped_column(Boolean)

    task: Mapped[DutyTask] = relationship(lazy="raise_on_sql")
    volunteer: Mapped[User] = relationship(foreign_keys=[volunteer_id], lazy="raise_on_sql")
    decided_by: Mapped[User | None] = relationship(
        foreign_keys=[decided_by_id], lazy="raise_on_sql"
    )
    visits: Mapped[list[CheckpointVisit]] = relationship(
        back_populates="claim", lazy="raise_on_sql", order_by="CheckpointVisit.visited_at"
    )

    @property
    def holds_place(self) -> bool:
        return self.status in PLACE_STATES


class CheckpointVisit(db.Model):
    __tablename__ = "checkpoint_visit"
    __table_args__ = (UniqueConstraint("claim_id", "checkpoint_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("duty_claim.id", ondelete="CASCADE"))
    checkpoint_id: Mapped[int] = mapped_column(
        ForeignKey("duty_checkpoint.id", ondelete="CASCADE"), index=True
    )
    visited_at: Mapped[datetime] = mapped_column(default=utcnow)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    # Within NEAR_METRES of the checkpoint's place (None: no position on one side).
    near: Mapped[bool | None] = mapped_column(Boolean)
    # When the server got the tick (visited_at is the phone's time when made offline).
    received_at: Mapped[datetime | None]

    claim: Mapped[DutyClaim] = relationship(back_populates="visits", lazy="raise_on_sql")
    checkpoint: Mapped[DutyCheckpoint] = relationship(lazy="raise_on_sql")


# --- offline actions and tracks (issue 22) ----------------------------------------------

OFFLINE_ACTIONS = ("check_in", "visit", "check_out", "track")


class DutyOfflineAction(db.Model):
    """An on-duty step sent with a client-made idempotency key: the key is applied
    once per user. A resend with the same fingerprint gets `result` back (the first
    answer); the same key with other content is refused. Both clocks are kept: the
    phone's time of the action (`client_at`, as sent), the phone's clock when it sent
    it (`client_sent_at`), the GPS fix's own time, the server's receipt (`server_at`)
    and the time the step was applied at (`applied_at`, client time corrected for the
    phone's clock error); `flags` names what was off (clock_off, fix_time_off,
    time_clamped)."""

    __tablename__ = "duty_offline_action"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        CheckConstraint(f"action IN ({_in(OFFLINE_ACTIONS)})", name="action"),
        Index("ix_duty_offline_action_server_at", "server_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(12))
    claim_id: Mapped[int | None] = mapped_column(
        ForeignKey("duty_claim.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[int]
    result: Mapped[dict | None] = mapped_column(JSON)
    client_at: Mapped[datetime | None]
    client_sent_at: Mapped[datetime | None]
    fix_at: Mapped[datetime | None]
    applied_at: Mapped[datetime | None]
    server_at: Mapped[datetime] = mapped_column(default=utcnow)
    clock_skew_s: Mapped[int | None]
    flags: Mapped[str | None] = mapped_column(String(100))


class DutyTrackPoint(db.Model):
    """One thinned position of a volunteer on duty (with consent). The position is
    personal data: stored encrypted (core.crypto), kept TRACK_RETENTION_DAYS. A point
    is stored once per (claim, recorded_at): a replayed batch adds nothing."""

    __tablename__ = "duty_track_point"
    __table_args__ = (UniqueConstraint("claim_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("duty_claim.id", ondelete="CASCADE"))
    recorded_at: Mapped[datetime]
    position: Mapped[str] = mapped_column(EncryptedString(200))
    accuracy: Mapped[float | None] = mapped_column(Float)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
