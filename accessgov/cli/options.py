"""Click options shared by many commands (as sqlite-utils' output_options)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from accessgov.cli.app import App
from accessgov.common import validate
from accessgov.errors import InputError
from accessgov.reports import LIST_FORMATS
from accessgov.reports.files import write_private
from accessgov.reports.text import visible

if TYPE_CHECKING:
    from accessgov.reports.document import Document

F = TypeVar("F", bound=Callable[..., Any])


def output_options(function: F) -> F:
    """--format table|json|csv and -o FILE."""
    function = click.option("-o", "--output", "output_file", type=click.Path(dir_okay=False),
                            help="Write to this file (created private, 0600).")(function)
    function = click.option("--format", "fmt", type=click.Choice(LIST_FORMATS),
                            default="table", show_default=True, help="Output format.")(function)
    return function


def otp_option(function: F) -> F:
    """--otp CODE (a one-shot TOTP code instead of a session) and --as PERSON after the verb."""
    function = click.option(
        "--otp", metavar="CODE",
        help="Your current authenticator code (instead of an open session; asked for on a "
             "terminal when needed).",
    )(function)
    return as_option(function)


def as_option(function: F) -> F:
    """--as PERSON after the verb, as well as before it."""
    return click.option(
        "--as", "operator", metavar="PERSON", expose_value=False, callback=_set_operator,
        help="Who is acting (same as the global --as).",
    )(function)


def board_minute_option(function: F) -> F:
    """--board-minute REF: the minute of the Board meeting that decided this."""
    return click.option("--board-minute", metavar="REF",
                        help="The board minute that decided this, e.g. 'BM 2026/11 item 4'."
                        )(function)


def _set_operator(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.find_object(App).operator = value  # type: ignore[union-attr]


def emit(text: str, output_file: str | None) -> None:
    """Print, or write privately to -o FILE and say where."""
    if output_file:
        write_private(output_file, text)
        click.echo(visible(f"Wrote {output_file}"), err=True)
    else:
        click.echo(text, nl=False)


def table_width(output_file: str | None) -> int | None:
    """The width to fit a table to: the terminal's, or None (no limit) when there is none.

    A table is fitted when stdout is a terminal, or COLUMNS says how wide the reader's is
    (shutil reads it first). Written to a file with -o, or piped with COLUMNS unset, a table
    keeps every column: squeezing it to a width nobody will read it at would only lose data.
    """
    if output_file:
        return None
    columns = os.environ.get("COLUMNS", "")
    if (validate.digits(columns) and int(columns) > 0) or sys.stdout.isatty():
        import shutil

        return shutil.get_terminal_size().columns
    return None


def emit_document(document: Document, fmt: str, output_file: str | None) -> None:
    """Draw `document` in `fmt` (reports.rendering's table) for this reader, and print it or
    write it privately to -o FILE: tables fit the terminal and show local times if asked."""
    from accessgov.reports.document import View
    from accessgov.reports.rendering import render

    app = click.get_current_context().find_object(App)
    view = View(width=lambda: table_width(output_file),
                local_time=app is not None and app.local_time)
    emit(render(document, fmt, view), output_file)


def done(message: str) -> None:
    """A one-line confirmation of a change, on stdout (what it echoes of the user's input is
    shown with its control characters escaped: it cannot fake a second line)."""
    click.echo(visible(message))


def secret_input(app: App, label: str) -> str:
    """A secret typed at a hidden prompt on a terminal, else the first line of standard input
    (never an option's value: it would show in `ps` and the shell's history)."""
    if app.interactive():
        return str(click.prompt(label, hide_input=True, err=True))
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise InputError(f"{label[0].lower()}{label[1:]} is needed on standard input")
    return line
