"""accessgov todo [list] / done: the platform removals still to make."""

from __future__ import annotations

import click

from accessgov.cli.app import App
from accessgov.cli.options import done, emit_document, otp_option, output_options
from accessgov.cli.params import GRANT_ID
from accessgov.common.words import count

TABLE_COLUMNS = ("grant_id", "account", "person", "role", "ended", "ended_on", "action")


@click.group(invoke_without_command=True)
@click.pass_context
def todo(ctx: click.Context) -> None:
    """Grants that ended in the register but not yet on the platform: who to remove where.

    A revoked or expired grant, or one a review revoked, stays here with the platform's steps
    until an approver for the account ticks it with 'accessgov todo done GRANT'. A leaver's
    grants are on their offboarding checklist instead.
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_)


@todo.command("list")
@click.option("--account", "account_id", metavar="ACCOUNT", help="Only this account.")
@output_options
@click.pass_obj
def list_(app: App, account_id: str | None = None, fmt: str = "table",
          output_file: str | None = None) -> None:
    """List the platform removals nobody has ticked, oldest first."""
    from accessgov.governance.removals import COLUMNS
    from accessgov.governance.removals import todo as items
    from accessgov.reports.document import Document, Rows

    rows = items(app.register, app.today(), account=account_id)
    emit_document(Document(rows=Rows(
        columns=COLUMNS, records=rows, table_columns=TABLE_COLUMNS,
        droppable=("ended_on", "role", "person"),
        empty="Nothing to do: every grant that ended has been removed on its platform.")),
        fmt, output_file)


@todo.command("done")
@click.argument("grant_ids", nargs=-1, required=True, metavar="GRANT...", type=GRANT_ID)
@click.option("--note", help="What was done on the platform.")
@otp_option
@click.pass_obj
def done_(app: App, grant_ids: tuple[str, ...], note: str | None, otp: str | None) -> None:
    """Tick removals once the people are off the platform (an approver for the account)."""
    from accessgov.governance.removals import tick

    ticked = app.change(lambda op: tick(op, list(grant_ids), note), otp=otp)
    done(f"Ticked {count(len(ticked), 'removal')}: {', '.join(ticked)}.")
