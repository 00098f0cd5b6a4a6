"""Commands of the duty (registered into core.commands); `flask worker` runs the same
job on its own schedule (duty.jobs)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from community.core.commands import register_command
from community.duty import jobs
from community.extensions import db


@register_command
@click.command("close-duties")
@with_appcontext
def close_duties() -> None:
    """Claims nobody checked into by a duty's end become no-shows; duties past their
    end become done. Safe to run twice (`flask worker` runs it every 15 minutes)."""
    click.echo(jobs.close_duties(db.session))
