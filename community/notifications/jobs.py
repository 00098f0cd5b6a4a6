"""The notifications' periodic jobs (core.jobs, run by `flask worker`), and what the
commands `flask send-reminders` and `flask send-outbox` run: the same functions."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from community.core.jobs import register_periodic
from community.core.reminders import run_reminders
from community.notifications import outbox


def send_reminders(session: Session, now: datetime) -> list[str]:
    """The features' reminders (community.core.reminders), then the outbox: one
    message per new notice, the daily digests, and delivery of what is due. Safe to
    run twice (each notice and message has its key). Commits. Lines for the log."""
    counts = run_reminders(session, now)
    queued = outbox.queue_notices(session, now)
    digests = outbox.queue_digests(session, now)
    session.commit()
    lines = [f"reminder {name}: {count} notices" for name, count in counts.items()]
    lines.append(f"outbox: {queued} messages and {digests} digests queued")
    return lines + send_outbox(session, now)


def send_outbox(session: Session, now: datetime) -> list[str]:
    """Deliver the outbox messages that are due (never one twice). Commits."""
    sent, failed = outbox.deliver_due(session, now)
    return [f"outbox: {sent} sent, {failed} failed (retried later)"]


register_periodic(
    "send-reminders",
    lambda session, now: "; ".join(send_reminders(session, now)),
    every=timedelta(minutes=5),
    label=_l("Reminders and the outbox's queue"),
)
register_periodic(
    "send-outbox",
    lambda session, now: "; ".join(send_outbox(session, now)),
    every=timedelta(minutes=1),
    label=_l("Outbox delivery"),
)
