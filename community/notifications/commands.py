"""Commands of the notifications (registered into core.commands), run by cron:
the features' reminders and the outbox's delivery."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from community.core.commands import register_command
from community.core.reminders import run_reminders
from community.core.timeutil import utcnow
from community.extensions import db
from community.notifications import outbox


@register_command
@click.command("send-reminders")
@with_appcontext
def send_reminders() -> None:
    """Run by cron every few minutes (safe to run twice): the features' reminders
    (community.core.reminders), then the outbox: one message per new notice, the
    daily digests, and delivery of what is due."""
    now = utcnow()
    counts = run_reminders(db.session, now)
    queued = outbox.queue_notices(db.session, now)
    digests = outbox.queue_digests(db.session, now)
    db.session.commit()
    for name, count in counts.items():
        click.echo(f"reminder {name}: {count} notices")
    click.echo(f"outbox: {queued} messages and {digests} digests queued")
    sent, failed = outbox.deliver_due(db.session, now)
    click.echo(f"outbox: {sent} sent, {failed} failed (retried later)")


@register_command
@click.command("send-outbox")
@with_appcontext
def send_outbox() -> None:
    """Deliver the outbox messages that are due (never one twice)."""
    sent, failed = outbox.deliver_due(db.session, utcnow())
    click.echo(f"outbox: {sent} sent, {failed} failed (retried later)")
