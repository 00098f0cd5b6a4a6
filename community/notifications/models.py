"""The outbox: messages waiting for an SMS or e-mail sender (notifications.outbox)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from community.core.timeutil import utcnow
from community.extensions import db

CHANNELS = ("sms", "email")


class OutboxMessage(db.Model):
    """One message to one user through one channel, rendered in the user's language
    when queued. `idempotency_key` is unique, so queuing the same message twice
    stores it once (a notice: "notice:<id>"; a digest: "digest:<user>:<date>"); the
    sender gets the key too, so a provider that deduplicates can do so. A row is
    claimed by a conditional UPDATE before it is sent (outbox.deliver_due).

    A message is kept twice: as `kind` and `params` (the notice's kind, or "digest";
    what an SMS provider fills its registered template with) and as `body`, rendered
    in the user's language (for e-mail and the log). `params` are cleaned when queued
    (delivery.outbound_params: no ID or phone numbers); the phone is not stored
    here, it is read from the user (encrypted there) when the message is sent."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint("channel IN ('sms', 'email')", name="channel"),
        Index("ix_outbox_message_due", "sent_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    # The notice this message carries (None for a digest); unique: one message per notice.
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification.id", ondelete="CASCADE"), unique=True
    )
    channel: Mapped[str] = mapped_column(String(10), default="sms")
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(String(40))
    params: Mapped[dict | None] = mapped_column(JSON)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # A SendError's text (a provider's code and message, a missing template), or
    # another exception's class name only: an error text could quote the address.
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
