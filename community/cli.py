"""Flask commands of the interface contract (see README) that span several
features: the demo data, the dashboard's counters, purging what is kept only for a
while, the backup. A feature's own commands live in its `commands.py` (registered
into core.commands); `register_cli` adds both kinds at the top level of `app.cli`."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import shutil
import sqlite3
import subprocess  # nosec B404 # pg_dump and pg_restore only, with argument lists
import tarfile
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
    moved-out residents' personal data, mediation parties' personal data
    MEDIATION_PARTY_RETENTION_DAYS after their case closed, route positions older
    than TRACK_RETENTION_DAYS, import files older than IMPORT_RETENTION_HOURS and the
    names attendees gave at outreach events ended OUTREACH_NAME_RETENTION_DAYS ago.
    Commits. What `flask purge-expired` and the worker's job run; lines for the log."""
    from community.core.once import purge_expired as purge_tokens
    from community.duty.services.tracks import purge_tracks
    from community.mediation.services import purge_expired_parties
    from community.outreach.services import purge_signin_names
    from community.residents.imports import purge_import_files
    from community.residents.services import purge_expired_residents

    tokens = purge_tokens(session)
    people = purge_expired_residents(session)
    parties = purge_expired_parties(session)
    tracks = purge_tracks(session, now)
    names = purge_signin_names(session, now)
    files = purge_import_files()  # before the commit: with STORAGE_BACKEND=database
    session.commit()  # its deletes are rows of this session
    config = current_app.config
    return [
        f"submission tokens deleted: {tokens}",
        f"moved-out residents erased (after {config['RESIDENT_RETENTION_DAYS']} days): {people}",
        "mediation cases whose parties were erased (closed more than "
        f"{config['MEDIATION_PARTY_RETENTION_DAYS']} days ago): {parties}",
        f"import files deleted (after {config['IMPORT_RETENTION_HOURS']} hours): {files}",
        f"route positions deleted (after {config['TRACK_RETENTION_DAYS']} days): {tracks}",
        f"outreach sign-in names erased (after {config['OUTREACH_NAME_RETENTION_DAYS']} days): "
        f"{names}",
    ]


@click.command("purge-expired")
@with_appcontext
def purge_expired() -> None:
    """Delete what is kept only for a while: one-time form tokens older than a day,
    moved-out residents' and closed mediation cases' parties' personal data, and
    import files older than IMPORT_RETENTION_HOURS."""
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


# Backups: `flask backup PATH` writes one tar.gz archive holding
#   database.sqlite or database.pgdump  the database as its own tool copies it
#                                       (SQLite's backup API; pg_dump's custom format,
#                                       from the snapshot the row counts were taken in)
#   files/<kind>/<key>                  the stored files of the local backend (with
#                                       STORAGE_BACKEND=database they are rows of the
#                                       database, so already in its copy)
#   manifest.json (last)                format, database kind, migration revision, the
#                                       row count of every table, each file's size,
#                                       time and SHA-256, and a check value of
#                                       COMMUNITY_DATA_KEY (an HMAC of a fixed text:
#                                       it tells whether a key is the right one, and
#                                       gives the key away no more than a hash would).
# The key itself is never in it. `flask restore PATH` loads such an archive into an
# empty database and empty storage, then compares the row counts and file hashes.
# The database is copied before the files: a file written meanwhile is one more
# (harmless) file, never a row naming a missing file unless it was deleted meanwhile.

BACKUP_FORMAT = 1
MANIFEST = "manifest.json"
DATA_KEY_WARNING = (
    "warning: COMMUNITY_DATA_KEY is not in this backup. Without it the personal data "
    "in it (ID numbers, phones) cannot be read: keep the key apart from the backups, "
    "somewhere as safe."
)


def _data_key_check(config) -> str | None:
    raw = config.get("COMMUNITY_DATA_KEY")
    if not raw:
        return None
    mac = hmac.new(raw.encode(), b"community backup key check", hashlib.sha256)
    return mac.hexdigest()[:16]


def _database_url():
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _libpq(url) -> tuple[str, dict]:
    """The database as a libpq URI (for pg_dump/pg_restore; the password goes in the
    environment, never on the command line) and that environment."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    uri = url.set(drivername="postgresql", password=None)
    return uri.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        _fail(
            f"{name} is not installed: install the PostgreSQL client tools of the "
            "server's version (Debian: apt-get install postgresql-client)"
        )
    return found  # type: ignore[return-value]


def _table_counts(conn) -> dict[str, int]:
    """Rows of every table (SQLite's own tables left out), by name."""
    from sqlalchemy import func, inspect, select, table

    return {
        name: conn.execute(select(func.count()).select_from(table(name))).scalar_one()
        for name in sorted(inspect(conn).get_table_names())
    }


def _revision(counts: dict[str, int], conn) -> str | None:
    from sqlalchemy import text

    if "alembic_version" not in counts:
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _copy_sqlite(url, target: str) -> tuple[dict[str, int], str | None]:
    from sqlalchemy import create_engine

    if not url.database or url.database == ":memory:":
        _fail("an in-memory database cannot be backed up")
    if not os.path.exists(url.database):
        _fail(f"no database file at {url.database}")
    source, copy = sqlite3.connect(url.database), sqlite3.connect(target)
    try:
        with copy:
            source.backup(copy)
    finally:
        copy.close()
        source.close()
    engine = create_engine(f"sqlite:///{target}")
    with engine.connect() as conn:
        counts = _table_counts(conn)
        revision = _revision(counts, conn)
    engine.dispose()
    return counts, revision


def _copy_postgres(url, target: str) -> tuple[dict[str, int], str | None]:
    """pg_dump of the snapshot in which the rows were counted (an exported snapshot
    of a REPEATABLE READ transaction held open while pg_dump runs)."""
    from sqlalchemy import text

    pg_dump = _tool("pg_dump")
    uri, env = _libpq(url)
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            counts = _table_counts(conn)
            revision = _revision(counts, conn)
            cmd = [pg_dump, "--format=custom", "--no-password", f"--snapshot={snapshot}"]
            done = subprocess.run(  # nosec B603 # the client tool found by which(), no shell
                [*cmd, "--file", target, "--dbname", uri],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
    if done.returncode != 0:
        _fail(f"pg_dump failed: {done.stderr.strip()}")
    return counts, revision


class _Digest:
    """A binary stream read through, counting and hashing what passes."""

    def __init__(self, stream):
        self.stream, self.sha, self.size = stream, hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        data = self.stream.read(n)
        self.sha.update(data)
        self.size += len(data)
        return data


def _add_files(archive: tarfile.TarFile) -> list[dict]:
    """Every file of the local backend into the archive, with its entry for the
    manifest."""
    from community.core import storage

    local = storage.backend("local")
    entries = []
    for info in storage.all_files(local):
        member = tarfile.TarInfo(f"files/{info.kind}/{info.key}")
        member.size, member.mode = info.size, 0o600
        member.mtime = info.modified.replace(tzinfo=UTC).timestamp()
        with local.open(info.kind, info.key) as f:
            digest = _Digest(f)
            archive.addfile(member, digest)
        entries.append(
            {
                "kind": info.kind,
                "key": info.key,
                "size": info.size,
                "modified": info.modified.isoformat(),
                "sha256": digest.sha.hexdigest(),
            }
        )
    return entries


def write_backup(path: str) -> dict:
    """Write the archive to `path` (replacing it only once complete; readable by its
    owner only); returns its manifest."""
    config = current_app.config
    url = _database_url()
    kind = url.get_backend_name()
    if kind not in ("sqlite", "postgresql"):
        _fail(f"backup does not support {kind}")
    folder = os.path.dirname(os.path.abspath(path))
    with tempfile.TemporaryDirectory(dir=folder, prefix=".backup-") as work:
        copy = os.path.join(work, "database")
        copier = _copy_sqlite if kind == "sqlite" else _copy_postgres
        counts, revision = copier(url, copy)
        partial = os.path.join(work, "archive.tar.gz")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            name = "database.sqlite" if kind == "sqlite" else "database.pgdump"
            archive.add(copy, arcname=name)
            in_database = config.get("STORAGE_BACKEND") == "database"
            manifest = {
                "format": BACKUP_FORMAT,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "database": kind,
                "revision": revision,
                "tables": counts,
                "storage": "database" if in_database else "local",
                "files": [] if in_database else _add_files(archive),
                "data_key_check": _data_key_check(config),
            }
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            member = tarfile.TarInfo(MANIFEST)
            member.size, member.mode, member.mtime = len(data), 0o600, time.time()
            archive.addfile(member, io.BytesIO(data))
        os.replace(partial, path)
    return manifest


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def backup(path: str) -> None:
    """Write the database and the stored files into one archive at PATH (tar.gz).
    COMMUNITY_DATA_KEY is not in it: keep the key apart."""
    manifest = write_backup(path)
    rows = sum(manifest["tables"].values())
    click.echo(f"backup written to {path}")
    click.echo(
        f"  database: {manifest['database']}, {len(manifest['tables'])} tables, "
        f"{rows} rows (migration {manifest['revision']})"
    )
    if manifest["storage"] == "database":
        click.echo("  files: in the database (STORAGE_BACKEND=database), so in its copy")
    else:
        total = sum(f["size"] for f in manifest["files"])
        count = len(manifest["files"])
        click.echo(f"  files: {count} ({_size(total)}) from UPLOAD_DIR and IMPORT_DIR")
    click.echo(DATA_KEY_WARNING)


def _read_manifest(archive: tarfile.TarFile, path: str) -> dict:
    try:
        member = archive.getmember(MANIFEST)
        manifest = json.load(archive.extractfile(member))  # type: ignore[arg-type]
    except (KeyError, ValueError, TypeError):
        _fail(f"{path} is not an archive written by `flask backup` (no manifest)")
    if not isinstance(manifest, dict) or manifest.get("format") != BACKUP_FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        _fail(f"{path}: unknown backup format {found!r}")
    return manifest


def _check_target(manifest: dict, url) -> None:
    """Refuse before anything is written: another kind of database, a database with
    tables, local storage holding files, a file of an unknown kind or key."""
    from sqlalchemy import inspect

    from community.core import storage

    kind = url.get_backend_name()
    if manifest["database"] != kind:
        _fail(
            f"this backup is of a {manifest['database']} database and DATABASE_URL names a "
            f"{kind} one: restore into the same kind of database"
        )
    tables = inspect(db.engine).get_table_names()
    if tables:
        _fail(
            f"the database is not empty ({len(tables)} tables, e.g. {sorted(tables)[0]}): "
            "restore only into a new, empty database. Create one, point DATABASE_URL at "
            "it and run restore again; nothing was changed"
        )
    for entry in manifest["files"]:
        if entry["kind"] not in storage.kinds() or not storage.is_key(entry["key"]):
            _fail(f"the backup holds an unknown file {entry['kind']}/{entry['key']}")
    if manifest["files"] and storage.backend().name == "local":
        present = next(storage.all_files(storage.backend("local")), None)
        if present is not None:
            _fail(
                f"the file storage is not empty ({present.kind}/{present.key} exists): "
                "restore only into empty UPLOAD_DIR and IMPORT_DIR folders; nothing was changed"
            )


def _restore_sqlite(url, copy: str) -> None:
    Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    source, target = sqlite3.connect(copy), sqlite3.connect(url.database)
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()


def _restore_postgres(url, copy: str) -> None:
    pg_restore = _tool("pg_restore")
    uri, env = _libpq(url)
    cmd = [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    done = subprocess.run(  # nosec B603 # the client tool found by which(), no shell
        [*cmd, "--no-password", "--dbname", uri, copy],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        _fail(f"pg_restore failed (nothing was loaded): {done.stderr.strip()}")


def _restore_files(archive: tarfile.TarFile, manifest: dict) -> int:
    """The archive's files into the configured storage backend, each checked against
    its size and SHA-256; commits when that backend is the database."""
    from community.core import storage

    target = storage.backend()
    for entry in manifest["files"]:
        stream = archive.extractfile(f"files/{entry['kind']}/{entry['key']}")
        if stream is None:
            _fail(f"the backup lacks the file {entry['kind']}/{entry['key']}")
        modified = datetime.fromisoformat(entry["modified"])
        digest = _Digest(stream)
        with target.create(entry["kind"], entry["key"], modified) as out:
            shutil.copyfileobj(digest, out, 256 * 1024)
        if (digest.size, digest.sha.hexdigest()) != (entry["size"], entry["sha256"]):
            _fail(f"the file {entry['kind']}/{entry['key']} in the backup is damaged")
    db.session.commit()
    return len(manifest["files"])


def read_backup(path: str) -> tuple[dict, list[str]]:
    """Load the archive at `path` into the configured (empty) database and storage;
    returns its manifest and warnings for the operator. Fails (ClickException) before
    writing anything when the target is not empty or the archive is not a backup."""
    url = _database_url()
    try:
        archive = tarfile.open(path, "r:*")
    except (OSError, tarfile.TarError) as exc:
        _fail(f"cannot read {path}: {exc}")
    with archive, tempfile.TemporaryDirectory(prefix="community-restore-") as work:
        manifest = _read_manifest(archive, path)
        _check_target(manifest, url)
        name = "database.sqlite" if manifest["database"] == "sqlite" else "database.pgdump"
        stream = archive.extractfile(name)
        if stream is None:
            _fail(f"{path} holds no {name}")
        copy = os.path.join(work, name)
        with open(copy, "wb") as out:
            shutil.copyfileobj(stream, out, 1024 * 1024)
        db.session.remove()
        db.engine.dispose()
        (_restore_sqlite if manifest["database"] == "sqlite" else _restore_postgres)(url, copy)
        with db.engine.connect() as conn:
            counts = _table_counts(conn)
        if counts != manifest["tables"]:
            differ = sorted(
                n
                for n in set(counts) | set(manifest["tables"])
                if counts.get(n) != manifest["tables"].get(n)
            )
            _fail(f"the restored row counts differ from the backup's in: {', '.join(differ)}")
        _restore_files(archive, manifest)
    warnings = []
    check = _data_key_check(current_app.config)
    if check is None:
        warnings.append(
            "warning: COMMUNITY_DATA_KEY is not set: set the key in use when the backup "
            "was made, or the personal data cannot be read"
        )
    elif manifest.get("data_key_check") and check != manifest["data_key_check"]:
        warnings.append(
            "warning: COMMUNITY_DATA_KEY is not the key in use when the backup was made: "
            "the personal data cannot be read until that key is set"
        )
    configured = current_app.config.get("STORAGE_BACKEND") or "local"
    if manifest["storage"] == "database" and configured != "database":
        warnings.append(
            "warning: the backup's files are in the database: set STORAGE_BACKEND=database"
        )
    return manifest, warnings


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def restore(path: str) -> None:
    """Load an archive written by `flask backup` into an empty database (DATABASE_URL)
    and empty file storage; the row counts and file hashes are checked."""
    manifest, warnings = read_backup(path)
    rows = sum(manifest["tables"].values())
    click.echo(
        f"restored from {path} (written {manifest['created_at']}): "
        f"{len(manifest['tables'])} tables, {rows} rows, {len(manifest['files'])} files; "
        "row counts and files match the backup"
    )
    click.echo(
        f"the database is at migration {manifest['revision']}: run `flask --app app db upgrade` "
        "when this release is newer than the backup"
    )
    for line in warnings:
        click.echo(line)


def register_cli(app: Flask) -> None:
    """Add this module's commands and every feature's registered ones to `app.cli`."""
    commands = (seed_demo, rebuild_rollups, purge_expired, backup, restore)
    for command in (*commands, *registered_commands()):
        app.cli.add_command(command)
