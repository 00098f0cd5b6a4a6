"""Feature-agnostic tables: the append-only audit log, one-time submission tokens,
notices, and the files of the database storage backend (core.storage)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from community.core.timeutil import utcnow
from community.extensions import db


class AuditEvent(db.Model):
    """Append-only: the app has no update or delete path, and database triggers
    (migration 0011_audit_outbox, PostgreSQL and SQLite) refuse UPDATE and DELETE.
    Hence `actor_id` is ON DELETE RESTRICT: users are disabled, never deleted (a
    delete would have to rewrite their events)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_actor_id", "actor_id", "id"),
        Index("ix_audit_event_object", "object_type", "object_id", "id"),
        Index("ix_audit_event_action", "action", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    # The client's address when the event came from a request (None from the CLI).
    address: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[int | None] = mapped_column(Integer)
    # A summary of what changed; never personal data in clear text.
    detail: Mapped[dict | None] = mapped_column(JSON)


class SubmissionToken(db.Model):
    """A form's one-time token and the answer given to its first submission."""

    __tablename__ = "submission_token"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    status: Mapped[int | None] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(500))
    body: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[dict | None] = mapped_column(JSON)


class Notification(db.Model):
    """One in-app notice for one user. The text is rendered at read time from `kind`
    (a message registered in core.notify) and `params`, so it follows the reader's
    language; `params` never holds personal data (names of places and duties only)."""

    __tablename__ = "notification"
    __table_args__ = (
        # notify(..., key=...) is idempotent per (user, key): a reminder run twice
        # or a retried request does not notify twice.
        Index(
            "uq_notification_user_key",
            "user_id",
            "dedupe_key",
            unique=True,
            sqlite_where=text("dedupe_key IS NOT NULL"),
            postgresql_where=text("dedupe_key IS NOT NULL"),
        ),
        Index("ix_notification_user_unread", "user_id", "read_at", "id"),
        # The outbox fan-out reads the notices of the last day (notifications.outbox).
        Index("ix_notification_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict | None] = mapped_column(JSON)
    link: Mapped[str | None] = mapped_column(String(300))
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(default=None)


class StoredFile(db.Model):
    """A file kept by the database storage backend (core.storage, STORAGE_BACKEND=
    database): its kind (photos, imports), its key (the name a row of the app records,
    unique per kind), its size and when it was last written (the purges compare it);
    the bytes are in StoredFileChunk rows of core.storage.CHUNK_SIZE."""

    __tablename__ = "stored_file"
    __table_args__ = (
        UniqueConstraint("kind", "key"),
        # The purges list a kind's files written before a moment.
        Index("ix_stored_file_kind_updated_at", "kind", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class StoredFileChunk(db.Model):
    """One piece of a StoredFile, in order of `seq` from 0; every piece but the last
    holds exactly core.storage.CHUNK_SIZE bytes, so an offset finds its piece."""

    __tablename__ = "stored_file_chunk"

    file_id: Mapped[int] = mapped_column(
        ForeignKey("stored_file.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class DataVersion(db.Model):
    """One row: a token replaced by a new random number in every transaction that
    writes (core.writes), so a per-process cache keyed by it (the navigation of
    each user, core.nav) is never served after a change, by whoever made it. Random,
    not a counter: a rolled-back transaction's value is never issued again."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[int] = mapped_column(BigInteger)
