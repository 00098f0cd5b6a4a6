"""Commands of the duty (registered into core.commands), run by cron."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from community.core.commands import register_command
from community.duty.services import close_duties as close
from community.extensions import db


@register_command
@click.command("close-duties")
@with_appcontext
def close_duties() -> None:
    """Claims nobody checked into by a duty's end become no-shows; duties past their
    end become done. Safe to run twice (run it from cron, e.g. every 15 minutes)."""
    no_shows, done = close(db.session)
    db.session.commit()
    click.echo(f"no-shows: {no_shows}; duties done: {done}")
