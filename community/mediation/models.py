"""Mediation (金牌调解): team members, rooms, cases with their parties and assigned
mediators, sessions booked in rooms, and the case's timeline.

The guarantee that a room and a mediator are never double-booked lives in the
database (migration 0024_mediation): on PostgreSQL two exclusion constraints
(btree_gist, `tsrange(starts_at, ends_at) &&` per room and per mediator, for
sessions not cancelled); on SQLite BEFORE INSERT/UPDATE triggers that abort on an
overlap (SQLite serialises writers, so the trigger's check cannot race). The
service (services.sessions.book_session) turns the refusal into a 409 naming the
booking in the way. Coupled: a batch_alter_table of mediation_session must create
the triggers again (migration 0024's SQLITE_TRIGGERS).
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
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
from community.extensions import db
from community.places.models import Site

POSITIONS = ("lead", "mediator")
CATEGORIES = ("professional", "social", "part_time")
ROOM_KINDS = ("flagship", "outstation")
CASE_KINDS = ("rent", "neighbour", "wages", "property", "traffic", "family", "consumer", "other")
SOURCES = ("police", "visit", "submitted", "screening")
RISKS = ("low", "medium", "high")
# Order of risks, highest first wherever cases are listed (core.reviews' `urgent`).
RISK_RANK = {"high": 3, "medium": 2, "low": 1}
CASE_STATES = ("new", "accepted", "concluded", "closed")
OUTCOMES = ("agreement", "referred", "withdrawn")
REFERRALS = ("court", "arbitration", "police")
PARTY_ROLES = ("applicant", "respondent")
SESSION_STATES = ("booked", "held", "cancelled")


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class MediationMember(db.Model):
    """A member of a mediation team: its lead or a mediator, professional, social
    (老娘舅) or part-time. The user holds the `mediator` role in the team
    (accounts.Membership); this row says which position and category."""

    __tablename__ = "mediation_member"
    __table_args__ = (
        UniqueConstraint("team_id", "user_id"),
        CheckConstraint(f"position IN ({_in(POSITIONS)})", name="position"),
        CheckConstraint(f"category IN ({_in(CATEGORIES)})", name="category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    position: Mapped[str] = mapped_column(String(12))
    category: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    team: Mapped[Organization] = relationship(lazy="joined")
    user: Mapped[User] = relationship(lazy="joined")


class MediationRoom(db.Model):
    """A mediation room: the flagship at the station or an outstation at a police
    post, open every day from `opens` to `closes` (local wall-clock time)."""

    __tablename__ = "mediation_room"
    __table_args__ = (
        UniqueConstraint("area_id", "name"),
        CheckConstraint(f"kind IN ({_in(ROOM_KINDS)})", name="kind"),
        CheckConstraint("closes > opens", name="hours"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"), index=True)
    address: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(12))
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    area: Mapped[Area] = relationship(lazy="joined", innerjoin=True)


class MediationCase(db.Model):
    """A dispute case, from intake to closing. `status` moves only by conditional
    UPDATEs (services); `last_actor_id` names who moved it last (the 409 of the
    one who came second names them)."""

    __tablename__ = "mediation_case"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(CASE_KINDS)})", name="kind"),
        CheckConstraint(f"source IN ({_in(SOURCES)})", name="source"),
        CheckConstraint(f"risk IN ({_in(RISKS)})", name="risk"),
        CheckConstraint("risk_rank BETWEEN 1 AND 3", name="risk_rank"),
        CheckConstraint(f"status IN ({_in(CASE_STATES)})", name="status"),
        CheckConstraint(f"outcome IS NULL OR outcome IN ({_in(OUTCOMES)})", name="outcome"),
        CheckConstraint(f"referral IS NULL OR referral IN ({_in(REFERRALS)})", name="referral"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount"),
        # Closing needs the outcome, who and when: figures are never built on blanks.
        CheckConstraint(
            "status <> 'closed' OR (outcome IS NOT NULL AND closed_by_id IS NOT NULL "
            "AND closed_at IS NOT NULL)",
            name="closed_complete",
        ),
        CheckConstraint(
            "status NOT IN ('concluded', 'closed') OR outcome IS NOT NULL", name="concluded_outcome"
        ),
        CheckConstraint(
            "outcome <> 'agreement' OR (terms IS NOT NULL AND followup_due IS NOT NULL)",
            name="agreement_terms",
        ),
        Index("ix_mediation_case_area_status", "area_id", "status", "risk_rank"),
        Index("ix_mediation_case_team_status", "team_id", "status", "risk_rank"),
        Index("ix_mediation_case_opened_at", "opened_at"),
        # Migration 0029: the open backlog across scopes, the figures' months (cases
        # are written in time order) and the high-risk cases still open
        # (tests/mediation/test_scale_plans.py).
        Index("ix_mediation_case_status", "status", "risk_rank", "opened_at"),
        Index("ix_mediation_case_concluded_at", "concluded_at"),
        Index("ix_mediation_case_followup_at", "followup_at"),
        Index("ix_mediation_case_risk_closed", "risk_rank", "closed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"))
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("site.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(12))
    summary: Mapped[str] = mapped_column(Text)
    amount: Mapped[int | None]  # yuan in dispute
    risk: Mapped[str] = mapped_column(String(8))
    risk_rank: Mapped[int]
    status: Mapped[str] = mapped_column(String(12), default="new")
    opened_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    accept_due: Mapped[date] = mapped_column(Date)
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    conclude_due: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(12))
    terms: Mapped[str | None] = mapped_column(Text)
    settled_amount: Mapped[int | None]
    payment_schedule: Mapped[str | None] = mapped_column(String(500))
    referral: Mapped[str | None] = mapped_column(String(12))
    outcome_reason: Mapped[str | None] = mapped_column(String(500))
    concluded_at: Mapped[datetime | None]
    concluded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    followup_due: Mapped[date | None] = mapped_column(Date)
    followup_at: Mapped[datetime | None]
    followup_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    followup_performed: Mapped[bool | None]
    followup_satisfied: Mapped[bool | None]
    followup_note: Mapped[str | None] = mapped_column(String(500))
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Set by the worker's overdue job (services.mark_overdue) once it notified.
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    last_actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    team: Mapped[Organization] = relationship(lazy="joined", innerjoin=True)
    area: Mapped[Area] = relationship(lazy="joined", innerjoin=True)
    site: Mapped[Site | None] = relationship(lazy="raise_on_sql")
    last_actor: Mapped[User | None] = relationship(
        foreign_keys=[last_actor_id], lazy="raise_on_sql"
    )
    parties: Mapped[list[CaseParty]] = relationship(
        back_populates="case", lazy="raise_on_sql", order_by="CaseParty.position"
    )
    mediators: Mapped[list[CaseMediator]] = relationship(
        back_populates="case", lazy="raise_on_sql", order_by="CaseMediator.id"
    )


class CaseParty(db.Model):
    """A party: name, phone and the optional identity document encrypted at rest
    (core.crypto), with keyed hashes to find them (phone, document, name prefixes:
    CasePartyKey)."""

    __tablename__ = "case_party"
    __table_args__ = (
        UniqueConstraint("case_id", "position"),
        CheckConstraint(f"role IN ({_in(PARTY_ROLES)})", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mediation_case.id", ondelete="CASCADE"))
    position: Mapped[int]
    role: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(EncryptedString(200))
    phone: Mapped[str] = mapped_column(EncryptedString(200))
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    document_type: Mapped[str | None] = mapped_column(String(24))
    id_number: Mapped[str | None] = mapped_column(EncryptedString(200))
    id_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    organization: Mapped[str | None] = mapped_column(String(120))

    case: Mapped[MediationCase] = relationship(back_populates="parties", lazy="raise_on_sql")


class CasePartyKey(db.Model):
    """Keyed hashes of a party's name and its prefixes (张, 张三, ...): the search by
    name prefix without decrypting names."""

    __tablename__ = "case_party_key"
    __table_args__ = (Index("ix_case_party_key_hash", "hash", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("case_party.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("mediation_case.id", ondelete="CASCADE"))
    hash: Mapped[str] = mapped_column(String(64))


class CaseMediator(db.Model):
    """A mediator assigned to a case (one of them its lead mediator). `conflict`
    says what the conflict check (回避) found; `confirm_reason` is the team lead's
    reason for assigning them anyway."""

    __tablename__ = "case_mediator"
    __table_args__ = (
        UniqueConstraint("case_id", "user_id"),
        Index(
            "uq_case_mediator_one_lead",
            "case_id",
            unique=True,
            sqlite_where=db.text("is_lead"),
            postgresql_where=db.text("is_lead"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mediation_case.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    is_lead: Mapped[bool] = mapped_column(Boolean, default=False)
    conflict: Mapped[str | None] = mapped_column(String(300))
    confirm_reason: Mapped[str | None] = mapped_column(String(255))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[MediationCase] = relationship(back_populates="mediators", lazy="raise_on_sql")
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")


class MediationSession(db.Model):
    """A session of a case, booked in a room with one mediator from `starts_at` to
    `ends_at` (naive UTC). Never two live sessions of one room or one mediator that
    overlap: see the module docstring."""

    __tablename__ = "mediation_session"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(SESSION_STATES)})", name="status"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_mediation_session_room_starts", "room_id", "starts_at"),
        Index("ix_mediation_session_mediator_starts", "mediator_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("mediation_case.id", ondelete="CASCADE"), index=True
    )
    room_id: Mapped[int] = mapped_column(ForeignKey("mediation_room.id", ondelete="RESTRICT"))
    mediator_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default="booked")
    notes: Mapped[str | None] = mapped_column(Text)
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[MediationCase] = relationship(lazy="raise_on_sql")
    room: Mapped[MediationRoom] = relationship(lazy="joined", innerjoin=True)
    mediator: Mapped[User] = relationship(foreign_keys=[mediator_id], lazy="joined")


class CaseEvent(db.Model):
    """One line of a case's timeline: intake, acceptance, an objection, a session
    booked or held, the outcome, the follow-up, closing, overdue."""

    __tablename__ = "case_event"
    __table_args__ = (Index("ix_case_event_case_at", "case_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mediation_case.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)

    actor: Mapped[User | None] = relationship(lazy="joined")
