"""accessgov grant request / approve / decline / add / revoke / list / show."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from accessgov.access.catalogue import ROLES
from accessgov.access.grant_reads import STATUSES, get_grant, list_grants
from accessgov.cli.app import App
from accessgov.cli.options import done, emit_document, otp_option, output_options
from accessgov.cli.params import GRANT_ID
from accessgov.common.words import count

LIST_COLUMNS = ("id", "person", "person_name", "account", "platform", "role", "reason", "status",
                "requested_by", "requested_at", "expires", "decision", "decided_by", "authority",
                "board_minute", "mfa_verified", "verified_by", "decided_at", "revoked_by",
                "revoked_at", "revoke_reason", "approval_note")
TABLE_COLUMNS = ("id", "person", "person_name", "account", "role", "status", "requested_by",
                 "decided_by", "authority", "decided_at", "expires", "approval_note")
# Hidden on a narrow terminal, first named first (`grant show` has them all).
DROPPABLE_COLUMNS = ("approval_note", "decided_at", "authority", "requested_by", "decided_by",
                     "role", "person")


F = TypeVar("F", bound=Callable[..., Any])


@click.group()
def grant() -> None:
    """Access to official accounts, and who approved it."""


def _request_options(function: F) -> F:
    for option in reversed([
        click.argument("person_id", metavar="PERSON"),
        click.argument("account_id", metavar="ACCOUNT"),
        click.option("--role", required=True, type=click.Choice(ROLES),
                     help="The level of access (the platform's own word is shown in reports)."),
        click.option("--reason", required=True, help="Why they need it."),
        click.option("--expires", metavar="DATE", help="Last day of access (YYYY-MM-DD)."),
    ]):
        function = option(function)
    return function


@grant.command("request")
@_request_options
@otp_option
@click.pass_obj
def request(app: App, person_id: str, account_id: str, role: str, reason: str,
            expires: str | None, otp: str | None) -> None:
    """Ask for access for someone; an approver then approves or declines it."""
    from accessgov.access.grants import request_grant

    grant_id = app.change(lambda op: request_grant(op, person_id, account_id, role=role,
                                                   reason=reason, expires=expires), otp=otp)
    done(f"Requested {grant_id}: {person_id} as {role} on {account_id} (pending approval).")


@grant.command("approve")
@click.argument("grant_id", metavar="GRANT", type=GRANT_ID)
@click.option("--board-minute", metavar="REF", help="Board minute recording the decision.")
@otp_option
@click.pass_obj
def approve(app: App, grant_id: str, board_minute: str | None, otp: str | None) -> None:
    """Approve a pending request (CEO, trustee or delegate; never your own)."""
    from accessgov.access.grants import decide_grant, platform_step

    row = app.change(lambda op: decide_grant(op, grant_id, approve=True,
                                             board_minute=board_minute), otp=otp)
    done(f"Approved {grant_id}: {row['person']} is now {row['role']} on {row['account']} "
         f"(authority: {row['authority']}).")
    done(platform_step(app.register, row))


@grant.command("decline")
@click.argument("grant_id", metavar="GRANT", type=GRANT_ID)
@click.option("--reason", help="Why it was declined.")
@otp_option
@click.pass_obj
def decline(app: App, grant_id: str, reason: str | None, otp: str | None) -> None:
    """Decline a pending request."""
    from accessgov.access.grants import decide_grant

    app.change(lambda op: decide_grant(op, grant_id, approve=False, note=reason), otp=otp)
    done(f"Declined {grant_id}.")


@grant.command("add")
@_request_options
@click.option("--board-minute", metavar="REF", help="Board minute recording the decision.")
@otp_option
@click.pass_obj
def add(app: App, person_id: str, account_id: str, role: str, reason: str,
        expires: str | None, board_minute: str | None, otp: str | None) -> None:
    """Request and approve access in one step (you cannot grant yourself access)."""
    from accessgov.access.grants import add_grant, platform_step

    row = app.change(lambda op: add_grant(op, person_id, account_id, role=role, reason=reason,
                                          expires=expires, board_minute=board_minute), otp=otp)
    done(f"Granted {row['id']}: {person_id} is now {role} on {account_id} "
         f"(approved by {row['decided_by']}, authority: {row['authority']}).")
    done(platform_step(app.register, row))


@grant.command("revoke")
@click.argument("grant_id", metavar="GRANT", type=GRANT_ID)
@click.option("--reason", required=True, help="Why access ends.")
@otp_option
@click.pass_obj
def revoke(app: App, grant_id: str, reason: str, otp: str | None) -> None:
    """End someone's access. Remember to remove them on the platform itself too."""
    from accessgov.access.grants import revoke_grant

    row = app.change(lambda op: revoke_grant(op, grant_id, reason=reason), otp=otp)
    done(f"Revoked {grant_id}: remove {row['person']} from {row['account']} "
         f"({row['platform']}) on the platform as well; 'accessgov todo' lists it, with the "
         "steps, until an approver ticks it.")


@grant.command("confirm")
@click.argument("grant_ids", nargs=-1, metavar="[GRANT]...", type=GRANT_ID)
@click.option("--all", "every", is_flag=True,
              help="Every imported grant recorded as approved by you and not yet confirmed.")
@otp_option
@click.pass_obj
def confirm(app: App, grant_ids: tuple[str, ...], every: bool, otp: str | None) -> None:
    """Confirm, with your MFA, that you approved grants someone else imported in your name.

    An imported grant is approved by whoever imported it; the file's approver is kept as
    "recorded as approved by X on D (imported by Y)", and 'accessgov check' lists it until X
    confirms it here (or has left).
    """
    from accessgov.access.grants import confirm_claims

    if bool(grant_ids) == every:
        raise click.UsageError("name the grants to confirm, or give --all")
    confirmed = app.change(lambda op: confirm_claims(op, list(grant_ids) or None), otp=otp)
    done(f"Confirmed {count(len(confirmed), 'imported grant')} as approved by you: "
         f"{', '.join(confirmed)}.")


@grant.command("list")
@click.option("--person", "person_id", metavar="PERSON", help="Only this person's grants.")
@click.option("--account", "account_id", metavar="ACCOUNT", help="Only grants on this account.")
@click.option("--status", type=click.Choice(STATUSES), help="Only this status.")
@output_options
@click.pass_obj
def list_(app: App, person_id: str | None, account_id: str | None, status: str | None,
          fmt: str, output_file: str | None) -> None:
    """List grants with their approval records."""
    from accessgov.reports.document import Document, Rows

    rows = list_grants(app.register, app.today(), person=person_id, account=account_id,
                       status=status)
    emit_document(Document(rows=Rows(columns=LIST_COLUMNS, records=rows,
                                     table_columns=TABLE_COLUMNS,
                                     droppable=DROPPABLE_COLUMNS)), fmt, output_file)


@grant.command("show")
@click.argument("grant_id", metavar="GRANT", type=GRANT_ID)
@output_options
@click.pass_obj
def show(app: App, grant_id: str, fmt: str, output_file: str | None) -> None:
    """Show one grant and its approval record."""
    from accessgov.reports.document import Document

    emit_document(Document(record=get_grant(app.register, grant_id, app.today())),
                  fmt, output_file)
