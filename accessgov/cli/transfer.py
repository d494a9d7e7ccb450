"""accessgov import / export: the charity's spreadsheet in, the whole register out."""

from __future__ import annotations

import sys
from pathlib import Path
from types import TracebackType
from typing import Any

import click

from accessgov.cli.app import App
from accessgov.cli.options import board_minute_option, emit_document, otp_option
from accessgov.common.words import count

KINDS = ("people", "accounts", "delegations", "grants")
DATE_FORMATS = ("dd/mm/yyyy", "mm/dd/yyyy")  # as accessgov.transfer.reading has them
SHOWN_CHANGES = 200  # a dry run's table lists this many rows; JSON lists them all


class _Progress:
    """A progress bar on stderr for a long import, only on a terminal, opened at the first
    row (after any code prompt), so nothing is drawn when the output is piped."""

    def __init__(self, file: Path) -> None:
        self.length = _estimate_rows(file)
        self.bar: Any = None

    def __call__(self, rows: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=self.length, label="Importing",
                                         file=sys.stderr, show_pos=True, show_percent=True)
            self.bar.__enter__()
        self.bar.update(rows)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.bar is None:
            return
        if kind is None and self.bar.pos < self.length:
            self.bar.update(self.length - self.bar.pos)  # the estimate counted blank lines
        self.bar.__exit__(kind, error, trace)


def _estimate_rows(file: Path) -> int:
    """About how many rows: the lines after a CSV's header (a JSON file's lines, roughly),
    counted no further than an import reads (a device or a pipe may have no end)."""
    from accessgov.transfer.limits import MAX_FILE_BYTES

    lines = 0
    try:
        with file.open("rb") as handle:
            for _ in range(MAX_FILE_BYTES >> 20):
                chunk = handle.read(1 << 20)
                if not chunk:
                    break
                lines += chunk.count(b"\n")
    except OSError:
        return 1
    return max(lines - 1, 1)


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(KINDS),
              help="What the file holds (needed for CSV and JSON lists; a file written by "
                   "'accessgov export' holds every kind).")
@click.option("--dry-run", is_flag=True,
              help="Check the file and show what would change; write nothing.")
@board_minute_option
@click.option("--date-format", type=click.Choice(DATE_FORMATS), default=DATE_FORMATS[0],
              show_default=True, help="How the file writes dates such as 31/12/2026 (ISO "
                                      "dates, 2026-12-31, are read whatever this says).")
@click.option("--update", is_flag=True,
              help="People already in the register take the file's name, email, title, "
                   "manager and start date (each change audited).")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table",
              show_default=True, help="How to show the report.")
@otp_option
@click.pass_obj
def import_(app: App, file: Path, kind: str | None, dry_run: bool, board_minute: str | None,
            date_format: str, update: bool, fmt: str, otp: str | None) -> None:
    """Import people, accounts, delegations or grants from a CSV or JSON file.

    CSV is UTF-8 (with or without a byte-order mark), its first row naming the columns of
    schemas/import-<kind>.schema.json. All rows or none: every bad row is reported with its
    row number, column and reason, and then nothing is imported. The CEO or a trustee
    imports; only the CEO imports delegations. You approve the grants you import (with your
    MFA, under the rules of grant add); the approver, authority and date a row names are kept
    as "recorded as approved by X on D (imported by you)" until X confirms them with
    'accessgov grant confirm'.

    'accessgov import template --kind K' prints a CSV to fill in: the columns (titles such
    as "Job title" or "Line manager" are understood too) and an example row. UTF-8,
    Windows-1252 and UTF-16 files, separated by commas, semicolons or tabs, are read.

    A file is refused whole beyond 256 MB, 1,000,000 rows, 100 columns, 10,000 characters
    in a cell, JSON nested more than 32 deep, or a JSON number of more than 20 characters.
    Ids such as G-0001 have 4 to 9 digits.
    """
    if str(file) == "template" and not file.exists():
        if kind is None:
            raise click.UsageError("say which template with --kind people, accounts, "
                                   "delegations or grants")
        from accessgov.transfer.template import template

        click.echo(template(kind), nl=False)
        return
    from accessgov.transfer.importing import ImportRefused, ImportRejected

    try:
        if dry_run:
            report = _plan(app, file, kind, board_minute, date_format, update)
        else:
            from accessgov.transfer.importing import import_file

            with _Progress(file) as progress:
                report = app.change(
                    lambda op: import_file(op, file, kind, board_minute=board_minute,
                                           progress=progress if sys.stderr.isatty() else None,
                                           date_format=date_format, update=update),
                    otp=otp)
    except (ImportRejected, ImportRefused) as failure:
        _show(failure.report.as_dict(), fmt)
        raise
    _show(report.as_dict(), fmt)


def _plan(app: App, file: Path, kind: str | None, board_minute: str | None,
          date_format: str, update: bool) -> Any:
    """A dry run: the same checks on the register as it is, with no transaction."""
    from accessgov.transfer.importing import plan

    operator_id = app.workspace.operator_id(app.operator)
    return plan(app.register, file, kind, operator_id, board_minute, app.clock(),
                date_format=date_format, update=update)


def _show(report: dict[str, Any], fmt: str) -> None:
    """The import's report: JSON whole; on a terminal, the summary line and the problems (or,
    for a dry run, the changes), the first of them only."""
    from accessgov.reports.document import Document, Rows

    rows: Rows | None = None
    more: tuple[str, ...] = ()
    if report["problems"]:
        rows = Rows(columns=("row", "kind", "column", "reason"), records=report["problems"])
        if report["more_problems"]:
            more = (f"... and {count(report['more_problems'], 'more problem')}.",)
    elif report["dry_run"] and report["changes"]:
        rows = Rows(columns=("row", "kind", "id", "action"),
                    records=report["changes"][:SHOWN_CHANGES])
        if len(report["changes"]) > SHOWN_CHANGES:
            more = (f"... and {len(report['changes']) - SHOWN_CHANGES} more rows "
                    "(--format json lists them all).",)
    emit_document(Document(payload=report, before=(_summary(report),), rows=rows, after=more),
                  fmt, None)


def _summary(report: dict[str, Any]) -> str:
    counts = "; ".join(f"{kind}: {report['added'][kind]} to add, "
                       + (f"{report['updated'][kind]} to update, "
                          if report["updated"][kind] else "")
                       + f"{report['unchanged'][kind]} already there"
                       for kind in report["kinds"])
    if report["problems_total"]:
        verdict = "Nothing was imported."
    elif report["dry_run"]:
        verdict = "Dry run: nothing was written."
    else:
        verdict = "Imported."
        counts = counts.replace("to add", "added").replace("to update", "updated")
    return f"{report['file']}: {count(report['rows'], 'row')} read ({counts}). {verdict}"


@click.command("export")
@click.option("-o", "--output", "output_file", type=click.Path(dir_okay=False),
              help="Write to this file (created private, 0600).")
@click.pass_obj
def export(app: App, output_file: str | None) -> None:
    """Export the whole register except secrets, as JSON that 'accessgov import' reads.

    People, accounts, delegations and grants with their approvals; no secrets, credentials,
    MFA, sessions or audit log (see schemas/export.schema.json).
    """
    from accessgov.reports.document import Document
    from accessgov.transfer.exporting import export_register

    emit_document(Document(payload=export_register(app.register, app.today())), "json",
                  output_file)
