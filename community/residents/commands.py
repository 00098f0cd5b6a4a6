"""Commands of the residents (registered into core.commands): the spreadsheet
import and the building's register, with an acting user's rights as on the web."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from community.accounts.models import User
from community.accounts.permissions import first_admin
from community.core.commands import register_command
from community.extensions import db
from community.places.queries import get_building
from community.residents import exports
from community.residents.imports import ImportRefused, import_file, max_bytes


def _user_named(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user is called {username}")
    return user


@register_command
@click.command("import-residents")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--as",
    "username",
    default=None,
    help="The acting user (landlord, property manager, enterprise or police); "
    "default: the first administrator account.",
)
@with_appcontext
def import_residents(file: str, username: str | None) -> None:
    """Import residences from FILE (.csv in UTF-8 or GB18030, or .xlsx) with the header
    site_id,building,room,name,id_number,phone,move_in,hometown,employer (or the
    Chinese names, in any order: residents/imports/columns.py).
    Rows are reported with the acting user's rights and channel; exit code 1
    when some rows were refused (each printed as `line N: reason`)."""
    if username:
        user = _user_named(username)
    else:
        user = first_admin(db.session)
        if user is None:
            raise click.ClickException(
                "no administrator account: name the acting user with --as USERNAME"
            )
    path = Path(file)
    if path.stat().st_size > max_bytes():
        raise click.ClickException(
            f"the file is larger than {max_bytes() // (1024 * 1024)} MB: nothing imported"
        )
    try:
        result = import_file(db.session, user, path)
    except ImportRefused as exc:
        db.session.rollback()
        raise click.ClickException(f"{exc.message} Nothing imported.") from None
    db.session.commit()
    click.echo(
        f"rows: {result.total}, imported: {result.imported}, "
        f"already reported: {result.already}, refused: {result.refused}"
    )
    if result.ignored:
        click.echo(f"columns not imported: {'; '.join(result.ignored)}")
    for line, reason in result.errors:
        click.echo(f"line {line}: {reason}")
    if result.refused:
        raise SystemExit(1)


@register_command
@click.command("export-ledger")
@click.option("--building", "building_id", type=int, required=True)
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), required=True)
@click.option("--out", "out", default=None, help="Output file (default: standard output).")
@click.option(
    "--as",
    "username",
    default=None,
    help="Export as this user: a police account of the area gets full ID numbers "
    "(audited); anyone else, and the default, gets them masked.",
)
@with_appcontext
def export_ledger(building_id: int, fmt: str, out: str | None, username: str | None) -> None:
    """Write the building's register (一幢一册) as xlsx or csv."""
    building = get_building(db.session, building_id)
    if building is None:
        raise click.ClickException(f"no building {building_id}")
    user = _user_named(username) if username else None
    unmasked = user is not None and exports.unmasked_for(user, building.site)
    exports.record_export(db.session, user, building, fmt, unmasked)
    db.session.commit()
    rows = exports.ledger_rows(db.session, site=building.site, building=building, unmasked=unmasked)
    if fmt == "csv":
        target = open(out, "w", encoding="utf-8", newline="") if out else sys.stdout
        try:
            for piece in exports.csv_chunks(rows):
                target.write(piece)
        finally:
            if out:
                target.close()
    else:
        if not out:
            raise click.ClickException("xlsx needs --out PATH")
        with open(out, "wb") as f:
            exports.write_xlsx(rows, f)
    if out:
        click.echo(f"register of building {building.id} written to {out}", err=True)
