"""Residents: a person (identified by their ID number, kept encrypted) and their
residences — who lives in which room since when, reported by whom, and whether the
police verified it."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from community.accounts.models import User
from community.core.crypto import EncryptedString
from community.core.timeutil import utcnow
from community.extensions import db
from community.places.models import Room

CHANNELS = ("landlord", "property_manager", "enterprise", "self_declared", "police")
RESIDENCE_STATES = ("pending", "verified", "rejected")
# What a tenant keeps to look the status up: no 0/O, 1/I/L, 2/Z, 5/S, 8/B.
REFERENCE_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
REFERENCE_LENGTH = 10


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


# Random bytes to reference characters for new_references: a byte below 250 (10 x 25)
# is a uniform pick of the alphabet (byte % 25); the few above are dropped.
_PICK = bytes(ord(REFERENCE_ALPHABET[b % len(REFERENCE_ALPHABET)]) for b in range(256))
_DROPPED = bytes(range(256 - 256 % len(REFERENCE_ALPHABET), 256))


def new_references(count: int) -> list[str]:
    """`count` references as new_reference makes them (uniform over the alphabet, from
    the system's CSPRNG), drawn from a few reads of random bytes: an import's chunk
    would otherwise ask for random bits ten times per row."""
    needed = count * REFERENCE_LENGTH
    text = b""
    while len(text) < needed:
        text += secrets.token_bytes(needed - len(text) + 64).translate(_PICK, _DROPPED)
    letters = text[:needed].decode("ascii")
    return [letters[i : i + REFERENCE_LENGTH] for i in range(0, needed, REFERENCE_LENGTH)]


class Person(db.Model):
    """One resident, as their ID number identifies them: the number encrypted at
    rest (core.crypto), `id_hash` (HMAC of the normalized number) to find the same
    person again without decrypting anything, and the gender and birth date read
    from the number. Nothing a reporter says about them lives here: the name, phone
    and hometown are the facts of each report (Residence), so a report in one area
    never changes what another area's police and landlords see."""

    __tablename__ = "person"
    __table_args__ = (
        CheckConstraint("gender IN ('M', 'F')", name="gender"),
        CheckConstraint(
            "document_type IN ('id_card', 'residence_permit', 'permanent_residence', "
            "'hk_macao_permit', 'taiwan_permit', 'passport')",
            name="document_type",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The identity document (residents/documents.py): its type and, for a passport
    # or a foreign permanent-resident card, the holder's country (ISO 3166 alpha-3).
    document_type: Mapped[str] = mapped_column(
        String(24), default="id_card", server_default="id_card"
    )
    nationality: Mapped[str | None] = mapped_column(String(3))
    id_number: Mapped[str] = mapped_column(EncryptedString(120))
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    gender: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Residence(db.Model):
    """A person living in a room from `move_in` (to `move_out`), as reported through
    one channel, with the facts that report gave (name, phone — encrypted —,
    hometown, employer); pending until the police verify (or reject) it.

    Verifying a residence ends the person's other active residences that the same
    officer polices; one in another officer's area stays until its own police
    record the move-out (they get a notice: services._end_previous). Two
    verifications of one person take turns on the person row (services._decide)."""

    __tablename__ = "residence"
    __table_args__ = (
        CheckConstraint(
            "channel IN ('landlord', 'property_manager', 'enterprise', 'self_declared', 'police')",
            name="channel",
        ),
        CheckConstraint("status IN ('pending', 'verified', 'rejected')", name="status"),
        CheckConstraint("move_out IS NULL OR move_out >= move_in", name="dates"),
        Index("ix_residence_status_reported_at", "status", "reported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id", ondelete="RESTRICT"), index=True)
    # What this report says of the person (a report elsewhere keeps its own).
    name: Mapped[str] = mapped_column(String(60), default="", server_default="")
    latin_name: Mapped[str | None] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(EncryptedString(120))
    hometown: Mapped[str | None] = mapped_column(String(60))
    move_in: Mapped[date] = mapped_column(Date)
    move_out: Mapped[date | None] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(20))
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    # NULL for a self-declaration (no account) and for a reporter's deleted account.
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    employer: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    # Why the police rejected it: free text shown to the tenant on the status page.
    reason: Mapped[str | None] = mapped_column(String(255))
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    verified_at: Mapped[datetime | None]
    reference: Mapped[str] = mapped_column(String(16), unique=True, default=new_reference)
    late: Mapped[bool] = mapped_column(Boolean, default=False)

    person: Mapped[Person] = relationship(lazy="raise_on_sql")
    room: Mapped[Room] = relationship(lazy="raise_on_sql")
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id], lazy="raise_on_sql")
    verified_by: Mapped[User | None] = relationship(
        foreign_keys=[verified_by_id], lazy="raise_on_sql"
    )

    @property
    def is_active(self) -> bool:
        return self.status == "verified" and self.move_out is None
