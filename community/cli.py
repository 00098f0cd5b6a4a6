"""Flask commands of the interface contract (see README) that span several
features: the demo data, the dashboard's counters, purging what is kept only for a
while, the backup. A feature's own commands live in its `commands.py` (registered
into core.commands); `register_cli` adds both kinds at the top level of `app.cli`."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import lazy_gettext as _l
from sqlalchemy.engine import make_url

from community.core.commands import registered_commands
from community.core.jobs import register_periodic
from community.extensions import db


def _fail(message: str) -> None:
    raise click.ClickException(message)


@click.command("seed-demo")
@click.option("--json", "as_json", is_flag=True, help="Print the accounts as JSON.")
@click.option(
    "--residents",
    type=click.IntRange(min=0),
    default=0,
    help="Extra demo residence records (bulk inserts; 0 keeps `make run` fast).",
)
@click.option("--if-empty", is_flag=True, help="Do nothing (exit 0) when users exist.")
@with_appcontext
def seed_demo(as_json: bool, residents: int, if_empty: bool) -> None:
    """Fill an empty database with demo data and print the demo accounts."""
    from community.seed import DatabaseNotEmpty, seed

    try:
        result = seed(db.session)
    except DatabaseNotEmpty as exc:
        db.session.rollback()
        if if_empty:
            click.echo("The database already has users: no demo data added.")
            return
        _fail(str(exc))
    if residents:
        import time

        from community.residents.demo import bulk

        started = time.perf_counter()
        written = bulk(db.session, residents)
        db.session.commit()
        if not as_json:
            seconds = time.perf_counter() - started
            click.echo(f"{written} demo residences added in {seconds:.1f} s")
    from community.core.rollups import rebuild

    rebuild(db.session)  # the demo writes some rows in bulk, past the services
    db.session.commit()
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    click.echo("Demo accounts (passwords are new on every seed):")
    for acc in result["accounts"]:
        click.echo(
            f"  {acc['username']:<12} {acc['password']:<18} {acc['role']:<17} "
            f"{acc['org'] or acc['area'] or ''}"
        )


def rebuild_counters(session, now=None) -> str:
    """Recompute the dashboard's per-area counters from the base tables (safe to run
    twice). Commits. What `flask rebuild-rollups` and the worker's job run."""
    import time

    from community.core.rollups import rebuild

    started = time.perf_counter()
    written = rebuild(session)
    session.commit()
    return f"{written} counters rebuilt in {time.perf_counter() - started:.1f} s"


@click.command("rebuild-rollups")
@with_appcontext
def rebuild_rollups() -> None:
    """Recompute the dashboard's per-area counters from the base tables (safe to
    run twice; run it after a bulk load that bypassed the services)."""
    click.echo(rebuild_counters(db.session))


def purge_everything(session, now=None) -> list[str]:
    """Delete what is kept only for a while: one-time form tokens older than a day,
    moved-out residents' personal data, and import files older than
    IMPORT_RETENTION_HOURS. Commits. What `flask purge-expired` and the worker's job
    run; lines for the log."""
    from community.core.once import purge_expired as purge_tokens
    from community.residents.imports import purge_import_files
    from community.residents.services import purge_expired_residents

    tokens = purge_tokens(session)
    people = purge_expired_residents(session)
    session.commit()
    files = purge_import_files()
    config = current_app.config
    return [
        f"submission tokens deleted: {tokens}",
        f"moved-out residents erased (after {config['RESIDENT_RETENTION_DAYS']} days): {people}",
        f"import files deleted (after {config['IMPORT_RETENTION_HOURS']} hours): {files}",
    ]


@click.command("purge-expired")
@with_appcontext
def purge_expired() -> None:
    """Delete what is kept only for a while: one-time form tokens older than a day,
    moved-out residents' personal data, and import files older than
    IMPORT_RETENTION_HOURS."""
    for line in purge_everything(db.session):
        click.echo(line)


# The worker runs these two on its own schedule (core.jobs), as cron ran the commands.
register_periodic(
    "purge-expired",
    lambda session, now: "; ".join(purge_everything(session, now)),
    every=timedelta(hours=1),
    label=_l("Purging expired data and import files"),
)
register_periodic(
    "rebuild-rollups",
    rebuild_counters,
    every=timedelta(days=1),
    label=_l("Rebuilding the dashboard's counters"),
)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def backup(path: str) -> None:
    """Write a consistent copy of the database to PATH."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            _fail("an in-memory database cannot be backed up")
        source = sqlite3.connect(url.database)
        target = sqlite3.connect(path)
        with target:
            source.backup(target)
        target.close()
        source.close()
        click.echo(f"backup written to {path}")
        return
    if url.get_backend_name() == "postgresql":
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            _fail("pg_dump is not installed; install the PostgreSQL client tools to back up")
        env = dict(os.environ)
        if url.password:
            env["PGPASSWORD"] = url.password
        cmd = [pg_dump, "--format=custom", "--file", path, "--no-password"]
        if url.host:
            cmd += ["--host", url.host]
        if url.port:
            cmd += ["--port", str(url.port)]
        if url.username:
            cmd += ["--username", url.username]
        cmd.append(url.database or "")
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            _fail(f"pg_dump failed: {done.stderr.strip()}")
        click.echo(f"backup written to {path} (pg_dump custom format)")
        return
    _fail(f"backup does not support {url.get_backend_name()}")


def register_cli(app: Flask) -> None:
    """Add this module's commands and every feature's registered ones to `app.cli`."""
    for command in (seed_demo, rebuild_rollups, purge_expired, backup, *registered_commands()):
        app.cli.add_command(command)
