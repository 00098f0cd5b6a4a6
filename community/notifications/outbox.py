"""The outbox: notices carried to an SMS (or e-mail) sender.

`queue_notices` gives each new unread notice one message, `queue_digests` gives a
user who chose the daily digest (User.notify_digest) one message a day summarising
their unread notices instead. Bodies are rendered in the recipient's language when
queued, and kept as its kind and params too (what an SMS provider fills its
registered template with; params cleaned by delivery.outbound_params). Each message
has a unique idempotency key, so queuing twice stores once.

`deliver_due` sends what is due through the sender `load_sender` picks: NOTIFY_SENDER
(a dotted path to `fn(delivery: Delivery) -> None`, raising on failure) when set,
else SMS_PROVIDER: `log` (the default, `log_sender`, which logs ids and lengths,
never an address or a body) or `aliyun` (notifications.aliyun). A sender's SendError
is stored as the row's last_error (its text is safe to keep); any other exception by
its class name only. A row is claimed first by one
conditional UPDATE (attempts + 1, next attempt pushed past a lease) committed
before the sender runs, so two runners never send the same row; a failure is
retried with exponential backoff (RETRY_BASE x 2^(attempts-1), at most
RETRY_MAX) up to OUTBOX_MAX_ATTEMPTS; a success sets sent_at and the row is never
sent again. A runner that dies between the sender's success and the sent_at
commit leaves the row claimed: it is sent again after the lease, with the same
idempotency key for a provider that deduplicates (at-least-once, by nature).

This module commits (through `commit`, the session's commit by default): a claim
must be visible to other runners before anything is sent. It runs from the CLI
(`flask send-outbox`, `flask send-reminders`), never inside a request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.utils import import_string

from community.accounts.models import User
from community.core.models import Notification
from community.core.notify import message
from community.notifications.delivery import (
    Delivery,
    SenderNotConfigured,
    SendError,
    outbound_params,
)
from community.notifications.models import OutboxMessage

log = logging.getLogger("community")

RETRY_BASE = timedelta(minutes=1)
RETRY_MAX = timedelta(hours=6)
# A claimed row is not due again before this: longer than any sender may take.
LEASE = timedelta(minutes=10)
# Notices older than this are not queued any more (a run after a long pause does
# not send yesterday's news one by one).
QUEUE_WINDOW = timedelta(days=1)
DIGEST_LINES = 5
# The kind of a digest message (its one param: count, the unread notices).
DIGEST_KIND = "digest"
SMS_PROVIDERS = ("log", "aliyun")
# Delivery and SendError live in notifications.delivery (the senders' contract);
# outbox.Delivery and outbox.log_sender stay valid names (NOTIFY_SENDER paths).


def log_sender(delivery: Delivery) -> None:
    """The default sender: logs that a message would go out, without the address or
    the text."""
    log.info(
        "outbox: message %d to user %d via %s (%d characters, attempt %d)",
        delivery.id,
        delivery.user_id,
        delivery.channel,
        len(delivery.body),
        delivery.attempt,
    )


def load_sender() -> Callable[[Delivery], None]:
    """NOTIFY_SENDER's function when set, else the SMS_PROVIDER's sender (log by
    default). Raises SenderNotConfigured for an unknown provider or a provider's
    missing setting, before any message is claimed."""
    config = current_app.config
    if config.get("NOTIFY_SENDER"):
        return import_string(config["NOTIFY_SENDER"])
    provider = (config.get("SMS_PROVIDER") or "log").strip().lower()
    if provider == "log":
        return log_sender
    if provider == "aliyun":
        from community.notifications.aliyun import AliyunSms

        return AliyunSms.from_config(config)
    raise SenderNotConfigured(
        f"SMS_PROVIDER must be one of {', '.join(SMS_PROVIDERS)}, not {provider!r}"
    )


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt (1, 2, 4, ... minutes, capped)."""
    return min(RETRY_BASE * (2 ** max(attempts - 1, 0)), RETRY_MAX)


def _locale(user_locale: str | None) -> str:
    languages = current_app.config["LANGUAGES"]
    return user_locale if user_locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def _add(session: Session, row: OutboxMessage) -> bool:
    """Insert unless its key (or notice) is queued already, by us or a concurrent run."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def _reachable():
    """SQL condition on User: active, with a phone to send to, digest or not below."""
    return User.active.is_(True) & User.phone.is_not(None)


def queue_notices(session: Session, now: datetime) -> int:
    """One message per unread notice of the last QUEUE_WINDOW for users who did not
    choose the digest; returns how many were queued. Flushes."""
    queued = exists().where(OutboxMessage.notification_id == Notification.id)
    rows = session.execute(
        select(Notification, User.locale)
        .join(User, User.id == Notification.user_id)
        .where(
            Notification.created_at >= now - QUEUE_WINDOW,
            Notification.read_at.is_(None),
            User.notify_digest.is_(False),
            _reachable(),
            ~queued,
        )
        .order_by(Notification.id)
    ).all()
    added = 0
    for notice, locale in rows:
        params = outbound_params(notice.params)
        with force_locale(_locale(locale)):
            body = message(notice.kind, params)
        row = OutboxMessage(
            user_id=notice.user_id,
            notification_id=notice.id,
            channel="sms",
            body=body,
            kind=notice.kind,
            params=params,
            idempotency_key=f"notice:{notice.id}",
            next_attempt_at=now,
        )
        added += _add(session, row)
    session.flush()
    return added


def digest_window(now: datetime) -> tuple[datetime, datetime] | None:
    """[start, end) of the notices in today's digest: the day before today's digest
    hour (NOTIFY_DIGEST_HOUR, UTC; 0 is 08:00 in China). None before that hour."""
    hour = int(current_app.config.get("NOTIFY_DIGEST_HOUR", 0))
    end = datetime.combine(now.date(), time(hour))
    if now < end:
        return None
    return end - timedelta(days=1), end


def queue_digests(session: Session, now: datetime) -> int:
    """One message a day per digest user with unread notices from the digest window
    (key digest:<user>:<date>); returns how many were queued. Flushes."""
    window = digest_window(now)
    if window is None:
        return 0
    start, end = window
    day = end.date().isoformat()
    rows = session.execute(
        select(Notification, User.locale)
        .join(User, User.id == Notification.user_id)
        .where(
            Notification.created_at >= start,
            Notification.created_at < end,
            Notification.read_at.is_(None),
            User.notify_digest.is_(True),
            _reachable(),
        )
        .order_by(Notification.user_id, Notification.id.desc())
    ).all()
    by_user: dict[int, tuple[str | None, list[Notification]]] = {}
    for notice, locale in rows:
        by_user.setdefault(notice.user_id, (locale, []))[1].append(notice)
    keys = {f"digest:{uid}:{day}" for uid in by_user}
    done = (
        set(
            session.scalars(
                select(OutboxMessage.idempotency_key).where(OutboxMessage.idempotency_key.in_(keys))
            )
        )
        if keys
        else set()
    )
    added = 0
    for user_id, (locale, notices) in by_user.items():
        key = f"digest:{user_id}:{day}"
        if key in done:
            continue
        with force_locale(_locale(locale)):
            lines = [
                _("共治 Community: %(num)d unread notices.", num=len(notices)),
                *(f"· {message(n.kind, n.params)}" for n in notices[:DIGEST_LINES]),
            ]
            if len(notices) > DIGEST_LINES:
                lines.append(_("and %(num)d more.", num=len(notices) - DIGEST_LINES))
        row = OutboxMessage(
            user_id=user_id,
            channel="sms",
            body="\n".join(lines),
            kind=DIGEST_KIND,
            params={"count": len(notices)},
            idempotency_key=key,
            next_attempt_at=now,
        )
        added += _add(session, row)
    session.flush()
    return added


def _max_attempts() -> int:
    return int(current_app.config.get("OUTBOX_MAX_ATTEMPTS", 8))


def _due(now: datetime):
    return (
        OutboxMessage.sent_at.is_(None)
        & (OutboxMessage.next_attempt_at <= now)
        & (OutboxMessage.attempts < _max_attempts())
    )


def claim(session: Session, message_id: int, now: datetime) -> bool:
    """Take one due row for sending: one conditional UPDATE (attempts + 1, not due
    again before now + LEASE). True when this caller got it; a second caller (even
    a concurrent one) gets False. Does not commit."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, _due(now))
        .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def deliver_due(
    session: Session,
    now: datetime,
    *,
    sender: Callable[[Delivery], None] | None = None,
    limit: int = 200,
    commit: Callable[[], None] | None = None,
) -> tuple[int, int]:
    """Send up to `limit` due messages; returns (sent, failed). Commits after each
    claim and each outcome (see the module doc)."""
    sender = sender or load_sender()
    commit = commit or session.commit
    ids = list(
        session.scalars(
            select(OutboxMessage.id)
            .where(_due(now))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
    )
    commit()  # end the read: each claim below starts its transaction with its UPDATE
    sent = failed = 0
    for message_id in ids:
        if not claim(session, message_id, now):
            commit()
            continue
        row = session.execute(
            select(OutboxMessage, User.phone)
            .join(User, User.id == OutboxMessage.user_id)
            .where(OutboxMessage.id == message_id)
            .execution_options(populate_existing=True)
        ).one()
        msg, phone = row
        delivery = Delivery(
            id=msg.id,
            user_id=msg.user_id,
            channel=msg.channel,
            body=msg.body,
            key=msg.idempotency_key,
            attempt=msg.attempts,
            to=phone,
            kind=msg.kind,
            params=msg.params,
        )
        commit()
        try:
            sender(delivery)
        except Exception as exc:  # noqa: BLE001 - any sender failure is retried
            failed += 1
            error = str(exc) if isinstance(exc, SendError) else type(exc).__name__
            log.warning(
                "outbox: message %d failed (attempt %d): %s",
                delivery.id,
                delivery.attempt,
                error,
            )
            values = {
                "next_attempt_at": now + backoff(delivery.attempt),
                "last_error": error[:200],
            }
        else:
            sent += 1
            values = {"sent_at": now, "last_error": None}
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == delivery.id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        commit()
    return sent, failed
