"""The command line's tree, as tests walk it: every command with its path."""

from __future__ import annotations

from collections.abc import Iterator

import click

from accessgov.cli import cli


def walk(command: click.Command = cli, path: tuple[str, ...] = ()
         ) -> Iterator[tuple[list[str], click.Command]]:
    """Every command and group below `command` (itself first), with its path of names."""
    yield list(path), command
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, name
            yield from walk(sub, (*path, name))


def leaves() -> Iterator[tuple[list[str], click.Command]]:
    """Every command that runs (not a group), with its path."""
    return ((path, command) for path, command in walk()
            if not isinstance(command, click.Group))
