"""accessgov offboard start / show / list / done / export."""

from __future__ import annotations

import click

from accessgov.cli.app import App
from accessgov.cli.options import (
    board_minute_option,
    done,
    emit_document,
    otp_option,
    output_options,
)
from accessgov.cli.params import WholeNumber

LIST_COLUMNS = ("case", "person", "name", "status", "leave_date", "started_by", "started_at",
                "items_total", "items_open", "closed_at")
TABLE_COLUMNS = ("case", "person", "name", "status", "leave_date", "items_total",
                 "items_open")
DROPPABLE_COLUMNS = ("name",)
EXPORT_FORMATS = ("csv", "json", "md", "html")


@click.group()
def offboard() -> None:
    """Someone leaves: revoke their access and work through the exact checklist."""


@offboard.command("start")
@click.argument("person_id", metavar="PERSON")
@click.option("--leave-date", metavar="DATE",
              help="Their last day (YYYY-MM-DD; default today). A date ahead schedules the "
                   "offboarding for that day.")
@click.option("--reason", help="Why they leave (kept in the record).")
@board_minute_option
@otp_option
@click.pass_obj
def start(app: App, person_id: str, leave_date: str | None, reason: str | None,
          board_minute: str | None, otp: str | None) -> None:
    """Offboard someone: mark them left, revoke their grants, requests and delegations,
    remove their MFA and sessions, and print the checklist of what is left to do.

    The CEO or a trustee does it (never for themselves); offboarding a trustee or the CEO
    needs --board-minute.
    """
    from accessgov.governance.offboarding import start as start_case
    from accessgov.reports import checklist

    case = app.change(lambda op: start_case(op, person_id, leave_date=leave_date,
                                            reason=reason, board_minute=board_minute),
                      otp=otp)
    if case["status"] == "scheduled":
        done(f"Offboarding {case['case']} of {person_id} is scheduled for "
             f"{case['leave_date']}: the first command on or after that day carries it out.")
        return
    done(f"Offboarding {case['case']}: {person_id} has left. Their access in the register "
         f"is revoked; {case['items_open']} of {case['items_total']} checklist items are "
         f"still to do ('accessgov offboard done {person_id} ITEM' ticks one).\n")
    emit_document(checklist.document(case), "table", None)


@offboard.command("show")
@click.argument("person_id", metavar="PERSON")
@output_options
@click.pass_obj
def show(app: App, person_id: str, fmt: str, output_file: str | None) -> None:
    """Show a person's latest offboarding case and its numbered checklist."""
    from accessgov.governance.offboarding import show_case
    from accessgov.reports import checklist

    emit_document(checklist.document(show_case(app.register, person_id)), fmt, output_file)


@offboard.command("list")
@click.option("--open", "unfinished", is_flag=True,
              help="Only cases still scheduled or with items to do.")
@output_options
@click.pass_obj
def list_(app: App, unfinished: bool, fmt: str, output_file: str | None) -> None:
    """List offboarding cases with how many checklist items are still to do."""
    from accessgov.governance.offboarding import list_cases
    from accessgov.reports.document import Document, Rows

    rows = list_cases(app.register, unfinished_only=unfinished)
    emit_document(Document(rows=Rows(columns=LIST_COLUMNS, records=rows,
                                     table_columns=TABLE_COLUMNS,
                                     droppable=DROPPABLE_COLUMNS)), fmt, output_file)


@offboard.command("done")
@click.argument("person_id", metavar="PERSON")
@click.argument("item", type=WholeNumber(minimum=1))
@click.option("--note", help="What was done (needed for an item that ticks itself).")
@otp_option
@click.pass_obj
def done_(app: App, person_id: str, item: int, note: str | None, otp: str | None) -> None:
    """Tick one checklist item of a person's open offboarding case.

    An approver for the item's account does it (the CEO or a trustee for items about no
    account). Rotations and re-assignments tick themselves when 'cred rotate' or 'account
    update' records them; ticking one by hand needs --note.
    """
    from accessgov.governance.offboarding import mark_done

    case = app.change(lambda op: mark_done(op, person_id, item, note), otp=otp)
    if case["status"] == "closed":
        done(f"Ticked item {item}: every item is done, so {case['case']} is closed.")
    else:
        done(f"Ticked item {item} of {case['case']}: {case['items_open']} still to do.")


@offboard.command("export")
@click.argument("person_id", metavar="PERSON")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), required=True,
              help="csv (UTF-8 with a byte-order mark, for spreadsheets), json, md or html "
                   "(a self-contained page).")
@click.option("-o", "--output", "output_file", type=click.Path(dir_okay=False),
              help="Write to this file (created private, 0600).")
@click.pass_obj
def export(app: App, person_id: str, fmt: str, output_file: str | None) -> None:
    """Export a person's offboarding checklist as evidence, in one of four formats."""
    from accessgov.governance.offboarding import show_case
    from accessgov.reports import checklist

    # A file for a spreadsheet: its CSV starts with a byte-order mark.
    case = show_case(app.register, person_id)
    emit_document(checklist.document(case, bom=True), fmt, output_file)
