"""accessgov delegate add / list / revoke."""

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
from accessgov.cli.params import DELEGATION_ID

LIST_COLUMNS = ("id", "delegate", "all_accounts", "accounts", "granted_by", "valid_from",
                "valid_until", "in_force", "mfa_verified", "verified_by", "created_at",
                "revoked_by", "revoked_at", "revoke_reason")
TABLE_COLUMNS = ("id", "delegate", "all_accounts", "accounts", "granted_by", "valid_from",
                 "valid_until", "in_force")
# Hidden on a narrow terminal, first named first.
DROPPABLE_COLUMNS = ("granted_by", "valid_from", "all_accounts")


@click.group()
def delegate() -> None:
    """The CEO's delegations: who else may approve access, and for which accounts."""


@delegate.command("add")
@click.argument("person_id", metavar="PERSON")
@click.option("--account", "accounts", multiple=True, metavar="ACCOUNT",
              help="An account in scope (repeat for more).")
@click.option("--all", "all_accounts", is_flag=True, help="Every account, present and future.")
@click.option("--from", "valid_from", metavar="DATE", help="First day (default today).")
@click.option("--until", "valid_until", metavar="DATE", help="Last day (default: open-ended).")
@board_minute_option
@otp_option
@click.pass_obj
def add(app: App, person_id: str, accounts: tuple[str, ...], all_accounts: bool,
        valid_from: str | None, valid_until: str | None, board_minute: str | None,
        otp: str | None) -> None:
    """Let PERSON approve access within a scope (the CEO only)."""
    from accessgov.access.delegations import add_delegation

    delegation_id = app.change(lambda op: add_delegation(
        op, person_id, accounts=list(accounts), all_accounts=all_accounts,
        valid_from=valid_from, valid_until=valid_until, board_minute=board_minute), otp=otp)
    scope = "all accounts" if all_accounts else ", ".join(accounts)
    done(f"Delegated {delegation_id}: {person_id} may approve access for {scope}.")


@delegate.command("list")
@click.option("--person", "person_id", metavar="PERSON", help="Only this person's delegations.")
@click.option("--all", "include_ended", is_flag=True, help="Include revoked and ended ones.")
@output_options
@click.pass_obj
def list_(app: App, person_id: str | None, include_ended: bool, fmt: str,
          output_file: str | None) -> None:
    """List delegations and whether each is in force today."""
    from accessgov.access.delegations import list_delegations
    from accessgov.reports.document import Document, Rows
    rows = list_delegations(app.register, app.today(), person=person_id,
                            include_ended=include_ended)
    emit_document(Document(rows=Rows(columns=LIST_COLUMNS, records=rows,
                                     table_columns=TABLE_COLUMNS,
                                     droppable=DROPPABLE_COLUMNS)), fmt, output_file)


@delegate.command("revoke")
@click.argument("delegation_id", metavar="DELEGATION", type=DELEGATION_ID)
@click.option("--reason", required=True, help="Why the delegation ends.")
@board_minute_option
@otp_option
@click.pass_obj
def revoke(app: App, delegation_id: str, reason: str, board_minute: str | None,
           otp: str | None) -> None:
    """End a delegation (the CEO or a trustee)."""
    from accessgov.access.delegations import revoke_delegation

    app.change(lambda op: revoke_delegation(op, delegation_id, reason=reason,
                                            board_minute=board_minute), otp=otp)
    done(f"Revoked delegation {delegation_id}.")
