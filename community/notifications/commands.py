"""Commands of the notifications (registered into core.commands): the features'
reminders and the outbox's delivery, which `flask worker` also runs on its own
schedule (notifications.jobs)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from community.core.commands import register_command
from community.core.timeutil import utcnow
from community.extensions import db
from community.notifications import jobs
from community.notifications.delivery import SenderNotConfigured


@register_command
@click.command("send-reminders")
@with_appcontext
def send_reminders() -> None:
    """Run the features' reminders (community.core.reminders), then the outbox: one
    message per new notice, the daily digests, and delivery of what is due (safe to
    run twice; `flask worker` runs it every few minutes)."""
    try:
        lines = jobs.send_reminders(db.session, utcnow())
    except SenderNotConfigured as exc:  # a message, not a traceback
        raise click.ClickException(str(exc)) from None
    for line in lines:
        click.echo(line)


@register_command
@click.command("send-outbox")
@with_appcontext
def send_outbox() -> None:
    """Deliver the outbox messages that are due (never one twice)."""
    try:
        lines = jobs.send_outbox(db.session, utcnow())
    except SenderNotConfigured as exc:
        raise click.ClickException(str(exc)) from None
    for line in lines:
        click.echo(line)
