"""Commands of the accounts (registered into core.commands): areas, organizations
and users for a new installation, before anyone can log in to create them."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from community.accounts import services
from community.accounts.models import Organization
from community.core.commands import register_command
from community.core.errors import RuleViolation
from community.extensions import db


@register_command
@click.command("create-area")
@click.argument("name")
@click.option("--level", type=click.Choice(["district", "street", "community"]), required=True)
@click.option("--parent", "parent_name", default=None, help="Name of the parent area.")
@with_appcontext
def create_area(name: str, level: str, parent_name: str | None) -> None:
    """Create an area of the district > street > community tree."""
    try:
        parent = services.get_area_by_name(db.session, parent_name) if parent_name else None
        area = services.create_area(db.session, name, level, parent)
    except RuleViolation as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"area {area.id} {area.name} ({area.level})")


@register_command
@click.command("create-org")
@click.argument("name")
@click.option("--kind", required=True, help="police_station, community_office, ...")
@click.option("--area", "area_name", required=True)
@with_appcontext
def create_org(name: str, kind: str, area_name: str) -> None:
    """Create an organization in an area."""
    try:
        area = services.get_area_by_name(db.session, area_name)
        org = services.create_organization(db.session, name, kind, area)
    except RuleViolation as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"organization {org.id} {org.name} ({org.kind})")


def _password_policy(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """The length rule of services.create_user, checked as the value comes in: a
    prompted password that is too short is asked for again (click re-prompts on
    BadParameter), a given one is refused before anything is written."""
    if value is not None and len(value) < services.MIN_PASSWORD_LENGTH:
        try:
            services.hash_password(value)  # raises the rule's message, hashes nothing
        except RuleViolation as exc:
            raise click.BadParameter(str(exc.message)) from None
    return value


@register_command
@click.command("create-user")
@click.argument("username")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    callback=_password_policy,
    help="Asked for (hidden, twice) when left out: a password on the command line "
    "stays in the shell's history.",
)
@click.option("--role", required=True)
@click.option("--org", "org_name", default=None)
@click.option("--area", "area_name", default=None)
@click.option("--name", "display_name", default=None)
@with_appcontext
def create_user(
    username: str,
    password: str,
    role: str,
    org_name: str | None,
    area_name: str | None,
    display_name: str | None,
) -> None:
    """Create a user holding ROLE (in an organization, or in an area). Without
    --password, the password is prompted for (hidden, with confirmation)."""
    try:
        org = None
        if org_name:
            org = db.session.scalar(select(Organization).where(Organization.name == org_name))
            if org is None:
                raise RuleViolation("org", f"no organization is called {org_name}")
        area = services.get_area_by_name(db.session, area_name) if area_name else None
        user = services.create_user(db.session, username, password, display_name)
        services.add_membership(db.session, None, user, role, org, area)
    except RuleViolation as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from None
    db.session.commit()
    click.echo(f"user {user.id} {user.username} ({role})")
