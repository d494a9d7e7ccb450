"""accessgov person add / list / show / update."""

from __future__ import annotations

import click

from accessgov.access.people import CATEGORIES, add_person, list_people, show_person, update_person
from accessgov.cli.app import App
from accessgov.cli.options import (
    board_minute_option,
    done,
    emit_document,
    otp_option,
    output_options,
)

LIST_COLUMNS = ("id", "name", "email", "category", "title", "manager", "status", "start_date",
                "leave_date", "mfa")
TABLE_COLUMNS = ("id", "name", "category", "title", "status", "mfa")
# Hidden on a narrow terminal, first named first; a long title wraps instead.
DROPPABLE_COLUMNS = ("category",)


@click.group()
def person() -> None:
    """People in scope of the policy: trustees, the CEO, staff, volunteers, contractors."""


@person.command("add")
@click.argument("person_id", metavar="ID")
@click.option("--name", required=True, help="Full name.")
@click.option("--email", required=True, help="Work email address.")
@click.option("--category", required=True, type=click.Choice(CATEGORIES),
              help="Their relationship to the organisation (the policy's Scope list).")
@click.option("--title", help="Job title, e.g. \"Young Adults Lead\".")
@click.option("--manager", metavar="PERSON", help="Their line manager's id.")
@click.option("--start", metavar="DATE", help="Start date (YYYY-MM-DD).")
@board_minute_option
@otp_option
@click.pass_obj
def add(app: App, person_id: str, name: str, email: str, category: str, title: str | None,
        manager: str | None, start: str | None, board_minute: str | None,
        otp: str | None) -> None:
    """Add a person to the register.

    On a new register this needs no code, so the CEO and the Board can be entered; after
    that the CEO or a trustee adds people, and a new trustee or CEO needs --board-minute.
    """
    app.change(lambda op: add_person(op, person_id, name=name, email=email, category=category,
                                     title=title, manager=manager, start=start,
                                     board_minute=board_minute), otp=otp)
    done(f"Added {person_id} ({name}, {category}).")


@person.command("list")
@click.option("--status", type=click.Choice(["active", "left"]), help="Only this status.")
@click.option("--category", type=click.Choice(CATEGORIES), help="Only this category.")
@output_options
@click.pass_obj
def list_(app: App, status: str | None, category: str | None, fmt: str,
          output_file: str | None) -> None:
    """List people with their category and MFA status."""
    from accessgov.reports.document import Document, Rows

    rows = list_people(app.register, status=status, category=category)
    emit_document(Document(rows=Rows(columns=LIST_COLUMNS, records=rows,
                                     table_columns=TABLE_COLUMNS,
                                     droppable=DROPPABLE_COLUMNS)), fmt, output_file)


@person.command("show")
@click.argument("person_id", metavar="ID")
@output_options
@click.pass_obj
def show(app: App, person_id: str, fmt: str, output_file: str | None) -> None:
    """Show one person, their MFA state and the access they hold."""
    from accessgov.reports.document import Document

    emit_document(Document(record=show_person(app.register, person_id, app.today())),
                  fmt, output_file)


@person.command("update")
@click.argument("person_id", metavar="ID")
@click.option("--name", help="Full name.")
@click.option("--email", help="Work email address.")
@click.option("--category", type=click.Choice(CATEGORIES), help="Category.")
@click.option("--title", help="Job title.")
@click.option("--manager", metavar="PERSON", help="Line manager's id.")
@click.option("--start", metavar="DATE", help="Start date (YYYY-MM-DD).")
@board_minute_option
@otp_option
@click.pass_obj
def update(app: App, person_id: str, name: str | None, email: str | None,
           category: str | None, title: str | None, manager: str | None, start: str | None,
           board_minute: str | None, otp: str | None) -> None:
    """Change a person's details (only the options given change).

    Making someone a trustee or the CEO, or ending that, needs --board-minute and another
    approver than the person themselves. Someone leaving is handled by offboarding.
    """
    changes = {"name": name, "email": email, "category": category, "title": title,
               "manager": manager, "start_date": start}
    app.change(lambda op: update_person(op, person_id, changes, board_minute), otp=otp)
    done(f"Updated {person_id}.")


@person.command("reinstate")
@click.argument("person_id", metavar="ID")
@board_minute_option
@otp_option
@click.pass_obj
def reinstate(app: App, person_id: str, board_minute: str | None, otp: str | None) -> None:
    """Take back someone who left (or cancel their scheduled offboarding).

    The CEO or a trustee does it, never for themselves; a trustee or the CEO coming back
    needs --board-minute. They come back with no access and no MFA: grant access again
    through approval, and invite them to enrol ('accessgov mfa enrol ID').
    """
    from accessgov.governance.offboarding import reinstate as reinstate_person

    result = app.change(lambda op: reinstate_person(op, person_id, board_minute=board_minute),
                        otp=otp)
    if result["was"] == "scheduled":
        done(f"Cancelled {person_id}'s scheduled offboarding ({result['case']}).")
        return
    extra = (f"; {result['open_items']} item(s) of {result['case']} were still open and are "
             "left as they were" if result["open_items"] else "")
    done(f"Reinstated {person_id}. They have no access and no MFA: grant access again where "
         f"needed, and invite them with 'accessgov mfa enrol {person_id}'{extra}.")
