"""Flask commands contributed by the features (`flask close-duties`, ...), a registry
like the navigation entries: a feature's `commands.py` defines plain click commands,
registers each at import time and is imported by the feature's `__init__`:

    # community/duty/commands.py
    @register_command
    @click.command("close-duties")
    @with_appcontext
    def close_duties() -> None:
        ...

create_app adds every registered command to `app.cli` (community.cli.register_cli)
at the top level: the command names are part of the interface contract, and a
blueprint's own `bp.cli` would put them under its name (`flask duty close-duties`).
A command needs `flask.cli.with_appcontext` (the test runner invokes `app.cli`,
which pushes no context of its own) and commits once, at its end. Commands that
span several features (seed-demo, backup, purge-expired) live in community/cli.py.
"""

from __future__ import annotations

import click

_COMMANDS: dict[str, click.Command] = {}


def register_command(command: click.Command) -> click.Command:
    """Add `command` (usable as a decorator); its name is a top-level `flask` command."""
    name = command.name or ""
    if name in _COMMANDS and _COMMANDS[name] is not command:
        raise KeyError(f"command {name!r} already registered")
    _COMMANDS[name] = command
    return command


def registered_commands() -> list[click.Command]:
    """Every registered command, by name."""
    return [_COMMANDS[name] for name in sorted(_COMMANDS)]
