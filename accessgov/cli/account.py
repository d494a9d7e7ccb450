"""accessgov account add / list / show / update / archive."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from accessgov.access.accounts import (
    ACCESS_MODELS,
    KINDS,
    add_account,
    archive_account,
    list_accounts,
    record_shared_login_exception,
    show_account,
    update_account,
)
from accessgov.access.catalogue import MFA_METHODS
from accessgov.cli.app import App
from accessgov.cli.options import done, emit_document, otp_option, output_options

if TYPE_CHECKING:
    from accessgov.operation import Operation

LIST_COLUMNS = ("id", "platform", "handle", "url", "purpose", "owner", "kind", "access",
                "mfa_method", "mfa_verified_on", "overseer", "status", "active_grants")
TABLE_COLUMNS = ("id", "platform", "handle", "owner", "access", "mfa_method", "status",
                 "active_grants")
# Hidden on a narrow terminal, first named first (`account show` has them all).
DROPPABLE_COLUMNS = ("active_grants", "platform", "handle", "status")


F = TypeVar("F", bound=Callable[..., Any])


@click.group()
def account() -> None:
    """The organisation's official online accounts."""


def _details(function: F) -> F:
    """The options add and update share."""
    for option in reversed([
        click.option("--url", help="The account's web address."),
        click.option("--kind", type=click.Choice(KINDS), help="Default: from the platform."),
        click.option("--mfa", "mfa_method", type=click.Choice(MFA_METHODS),
                     help="How the account's own login is protected (today's check)."),
        click.option("--recovery-email", help="The account's recovery email."),
        click.option("--recovery-phone", help="The account's recovery phone number."),
        click.option("--overseer", metavar="PERSON",
                     help="Who oversees a messaging group (the policy asks for one)."),
    ]):
        function = option(function)
    return function


@account.command("add")
@click.argument("account_id", metavar="ID")
@click.option("--platform", required=True, help="x, facebook, instagram, tiktok, youtube, "
              "linkedin, threads, whatsapp, discord, snapchat, bluesky, mastodon or other.")
@click.option("--handle", required=True, help="The account's name on the platform, e.g. @interact.")
@click.option("--owner", required=True, metavar="PERSON", help="Who is accountable for it.")
@click.option("--purpose", required=True, help="What the account is for.")
@click.option("--access", type=click.Choice(ACCESS_MODELS),
              help="delegated: everyone has their own login and role; shared-login: one login "
                   "shared (default: from the platform).")
@_details
@otp_option
@click.pass_obj
def add(app: App, /, account_id: str, otp: str | None, **fields: str | None) -> None:
    """Register an official account."""
    app.change(lambda op: add_account(op, account_id, **fields), otp=otp)  # type: ignore[arg-type]
    done(f"Added account {account_id} ({fields['platform']} {fields['handle']}).")


@account.command("list")
@click.option("--status", type=click.Choice(["active", "archived"]), help="Only this status.")
@click.option("--platform", help="Only this platform.")
@output_options
@click.pass_obj
def list_(app: App, status: str | None, platform: str | None, fmt: str,
          output_file: str | None) -> None:
    """List accounts with their owner, MFA and how many people have access."""
    from accessgov.reports.document import Document, Rows

    rows = list_accounts(app.register, app.today(), status=status, platform=platform)
    emit_document(Document(rows=Rows(columns=LIST_COLUMNS, records=rows,
                                     table_columns=TABLE_COLUMNS,
                                     droppable=DROPPABLE_COLUMNS)), fmt, output_file)


@account.command("show")
@click.argument("account_id", metavar="ID")
@output_options
@click.pass_obj
def show(app: App, account_id: str, fmt: str, output_file: str | None) -> None:
    """Show one account and who has access to it."""
    from accessgov.reports.document import Document

    emit_document(Document(record=show_account(app.register, account_id, app.today())),
                  fmt, output_file)


@account.command("update")
@click.argument("account_id", metavar="ID")
@click.option("--handle", help="The account's name on the platform.")
@click.option("--owner", metavar="PERSON", help="Who is accountable for it.")
@click.option("--purpose", help="What the account is for.")
@_details
@click.option("--shared-login-exception", "exception", metavar="TEXT",
              help="For a shared login: why it is accepted and its compensating controls "
                   "(the CEO or a trustee; shown in the Board's pack).")
@otp_option
@click.pass_obj
def update(app: App, /, account_id: str, otp: str | None, exception: str | None,
           **fields: str | None) -> None:
    """Change an account's details (only the options given change)."""

    def work(op: Operation) -> None:
        if exception is None or any(value is not None for value in fields.values()):
            update_account(op, account_id, dict(fields))
        if exception is not None:
            record_shared_login_exception(op, account_id, exception)

    app.change(work, otp=otp)
    done(f"Updated account {account_id}." if exception is None else
         f"Recorded {account_id}'s shared login as an exception, with its controls.")


@account.command("archive")
@click.argument("account_id", metavar="ID")
@click.option("--reason", required=True, help="Why the account is retired.")
@otp_option
@click.pass_obj
def archive(app: App, account_id: str, reason: str, otp: str | None) -> None:
    """Retire an account that is no longer used (its grants must be ended first)."""
    app.change(lambda op: archive_account(op, account_id, reason), otp=otp)
    done(f"Archived account {account_id}.")
