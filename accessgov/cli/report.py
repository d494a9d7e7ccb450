"""accessgov report access; and the options every report and export shares."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from accessgov.cli.app import App
from accessgov.cli.options import emit_document
from accessgov.errors import InputError

F = TypeVar("F", bound=Callable[..., Any])
FORMATS = ("table", "json", "csv", "md", "html")


def format_option(choices: Sequence[str], default: str = "table") -> Callable[[F], F]:
    """--format with the formats this report offers."""
    return click.option("--format", "fmt", type=click.Choice(choices), default=default,
                        show_default=True, help="Output format.")


def output_file_option(function: F) -> F:
    """-o FILE."""
    return click.option("-o", "--output", "output_file", type=click.Path(dir_okay=False),
                        help="Write to this file (created private, 0600).")(function)


def require_folder(output_file: str | None) -> None:
    """Refuse an -o FILE whose folder does not exist before any work is done."""
    if output_file is None:
        return
    folder = Path(output_file).expanduser().parent
    if not folder.is_dir():
        raise InputError(f"cannot write {output_file}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise InputError(f"cannot write {output_file}: the folder {folder} is not writable")


@click.group()
def report() -> None:
    """Reports for the CEO and the Board."""


@report.command("access")
@click.option("--person", "person_id", metavar="PERSON",
              help="Everything this person can reach, instead of the whole matrix.")
@click.option("--account", "account_id", metavar="ACCOUNT", help="Only this account.")
@format_option(FORMATS)
@output_file_option
@click.pass_obj
def access(app: App, person_id: str | None, account_id: str | None, fmt: str,
           output_file: str | None) -> None:
    """The access matrix: who can reach each official account, and on whose approval.

    One row per live grant (role, approved by whom, when and under what authority, the MFA
    of the account and of the person, the current credential versions they could know, the
    end date), one for each person who could know an account's current credential without a
    grant on it, and one for each account nobody holds. With --person: everything that one
    person can reach (grants, accounts they own, oversee or recover, and every credential
    version they could know). CSV starts with a byte-order mark, for spreadsheets.
    """
    from accessgov.common.timeutil import iso
    from accessgov.governance import access_report
    from accessgov.reports.document import Document, Rows

    require_folder(output_file)
    today = app.today()
    columns = access_report.COLUMNS
    values: Iterable[Sequence[Any]]
    if person_id:
        reach = access_report.reach_of(app.register, today, person_id, account=account_id)
        values = [tuple(row[column] for column in columns) for row in reach]
        name = access_report.person_name(app.register, person_id)
        # Markdown titles hold only ids (checked slugs); HTML escapes the name.
        title, html_title = f"Everything {person_id} can reach", \
            f"Everything {name} ({person_id}) can reach"
        description = ("Their live grants, the accounts they own, oversee or recover, and "
                       "every credential version they could know.")
    else:
        # Read row by row, as value tuples: the matrix of a big register has 100,000 rows.
        values = access_report.matrix_rows(app.register, today, account=account_id)
        title = html_title = "Access to the official accounts"
        description = ("Every active account, who holds which role on it and on whose "
                       "approval, and who could know its current credentials.")
    rows = Rows(columns=columns, values=values, heading="Access", bom=True,
                table_columns=access_report.TABLE_COLUMNS, empty="Nothing to show.",
                droppable=("approval_note", "authority", "expires", "person_mfa", "account_mfa",
                           "approved_by"))
    emit_document(Document(title=title, html_title=html_title, description=description,
                           organisation=app.register.setting("org") or "",
                           generated_at=iso(app.clock()), rows=rows), fmt, output_file)
