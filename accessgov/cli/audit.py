"""accessgov audit log / verify."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from accessgov.cli.app import App
from accessgov.cli.options import emit_document, output_options
from accessgov.cli.params import WholeNumber
from accessgov.errors import ExitCode

if TYPE_CHECKING:
    from accessgov.audit.verification import VerifyReport

LOG_COLUMNS = ("seq", "at", "actor", "action", "subject", "details")
# Hidden from the table on a narrow terminal, first named first; the details wrap instead.
LOG_DROPPABLE_COLUMNS = ("subject",)


@click.group()
def audit() -> None:
    """The tamper-evident audit log of every change."""


@audit.command("log")
@click.option("--limit", type=WholeNumber(minimum=1, at_most=True),
              callback=lambda _c, _p, value: _all(value),
              help="Only the last N events.")
@click.option("--subject", help="Only events about this id (person, account, grant...).")
@click.option("--action", help="Only this action or family, e.g. grant or grant.revoke.")
@output_options
@click.pass_obj
def log(app: App, limit: int | None, subject: str | None, action: str | None, fmt: str,
        output_file: str | None) -> None:
    """Show audit events, oldest first."""
    from accessgov.audit.chain import events
    from accessgov.reports.document import Document, Rows
    from accessgov.reports.text import key_values

    rows = events(app.register, limit=limit, subject=subject, action=action)
    # The table shows the details as key=value pairs; JSON and CSV keep them as JSON.
    emit_document(Document(rows=Rows(columns=LOG_COLUMNS, records=rows,
                                     droppable=LOG_DROPPABLE_COLUMNS,
                                     table_cells={"details": key_values})), fmt, output_file)


@audit.command("verify")
@click.option("--anchor", type=click.Path(exists=True, dir_okay=False),
              help="A head exported earlier (audit head): detects truncation too.")
@output_options
@click.pass_obj
def verify(app: App, anchor: str | None, fmt: str, output_file: str | None) -> None:
    """Recompute the audit chain; exit 1 naming the first bad event if any was tampered with.

    Also exits 1 when the register is older than the chain head the secret store recorded
    (restored from a copy), or when events are dated before the event before them or in the
    future (a clock set back or ahead); an approver's acknowledged step back is listed.
    """
    from accessgov.reports.document import Document

    report = verified(app, anchor)
    emit_document(Document(record=report.as_dict(), text=report.sentence() + "\n"), fmt,
                  output_file)
    if not report.ok:
        click.get_current_context().exit(ExitCode.FINDINGS)


def verified(app: App, anchor: str | None = None) -> VerifyReport:
    """The register checked as 'audit verify' checks it (signatures proven by an earlier
    verify on this machine are not checked again while the log still holds them); the
    evidence bundle's export and check rest on it too."""
    import platformdirs

    from accessgov.audit import proven
    from accessgov.audit.verification import verify_register

    workspace = app.workspace
    assert app.db_path is not None
    record = proven.record_file(platformdirs.user_state_path("accessgov", appauthor=False),
                                app.db_path)
    report = verify_register(workspace.register, workspace.trust, anchor,
                             now=workspace.now(check_clock=False),
                             head_record=workspace.head_record, proven=proven.load(record))
    if report.ok and report.verdict.proven is not None:
        proven.save(record, report.verdict.proven)
    return report


@audit.command("head")
@click.option("-o", "--output", "output_file", type=click.Path(dir_okay=False),
              help="Write the anchor to this file.")
@click.pass_obj
def head(app: App, output_file: str | None) -> None:
    """Print the chain's current head as an anchor for a later 'audit verify --anchor'."""
    from accessgov.audit.verification import current_head
    from accessgov.reports.document import Document

    emit_document(Document(payload=current_head(app.register)), "json", output_file)


def _all(limit: int | None) -> int | None:
    """A limit larger than any log (and than SQLite's integers) means every event."""
    return None if limit is None or limit > 2**62 else limit

