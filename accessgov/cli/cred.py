"""accessgov cred set / reveal / rotate / adopt / list, and accessgov otp.

Secrets come from a hidden prompt (asked twice) or from standard input, never from an
option value: argv is visible to every user of the machine.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from accessgov.access.credentials import (
    KINDS,
    adopt_credential,
    current_otp,
    generate_password,
    list_credentials,
    rotate_credential,
    set_credential,
)
from accessgov.access.credentials import reveal as reveal_secret
from accessgov.cli.app import App
from accessgov.cli.options import done, emit_document, otp_option, output_options
from accessgov.cli.params import WholeNumber
from accessgov.errors import InputError

F = TypeVar("F", bound=Callable[..., Any])

LIST_COLUMNS = ("account", "platform", "access", "kind", "backend", "reference", "version",
                "set_by", "set_at", "last_changed_by", "last_changed_at", "exposed_to_current")
TABLE_COLUMNS = ("account", "kind", "backend", "version", "last_changed_by", "last_changed_at",
                 "exposed_to_current")
# Hidden on a narrow terminal, first named first; who has seen the secret always shows.
DROPPABLE_COLUMNS = ("backend", "version", "last_changed_at", "last_changed_by")


@click.group()
def cred() -> None:
    """Shared logins, recovery codes and seeds of official accounts (kept in the secret store)."""


def _stdin_option(function: F) -> F:
    return click.option("--stdin", "from_stdin", is_flag=True,
                        help="Read the secret from standard input instead of a prompt.")(function)


@cred.command("set")
@click.argument("account_id", metavar="ACCOUNT")
@click.option("--kind", required=True, type=click.Choice(KINDS), help="What the secret is.")
@_stdin_option
@otp_option
@click.pass_obj
def set_(app: App, account_id: str, kind: str, from_stdin: bool, otp: str | None) -> None:
    """Store an account's first password, recovery codes, TOTP seed or API token.

    A TOTP seed may be given as base32 or as the otpauth:// link. Approvers or the account's
    owner only, with MFA.
    """
    secret = _read_secret(app, kind, from_stdin)
    row = app.change(lambda op: set_credential(op, account_id, kind, secret), otp=otp)
    done(f"Stored {account_id}'s {kind} as version {row['version']} in {row['backend']}.")


@cred.command("rotate")
@click.argument("account_id", metavar="ACCOUNT")
@click.option("--kind", default="password", show_default=True, type=click.Choice(KINDS),
              help="Which secret to change.")
@click.option("--generate", is_flag=True, help="Make a strong random password.")
@click.option("--length", default=24, show_default=True, type=WholeNumber(),
              help="Length of a generated password.")
@click.option("--show", is_flag=True,
              help="Print the generated password even when the output is not a screen (it "
                   "is shown on a terminal anyway); records that you saw it.")
@_stdin_option
@otp_option
@click.pass_obj
def rotate(app: App, account_id: str, kind: str, generate: bool, length: int, show: bool,
           from_stdin: bool, otp: str | None) -> None:
    """Store a new version of a secret (after someone leaves, or on schedule).

    Change it on the platform too. People exposed to earlier versions no longer count as
    knowing the new one.
    """
    if generate and from_stdin:
        raise click.UsageError("use either --generate or --stdin, not both")
    if show and not generate:
        raise click.UsageError("--show only goes with --generate")
    secret = generate_password(length) if generate else _read_secret(app, kind, from_stdin)
    # A generated password is shown once to whoever rotates it at a terminal (someone must
    # type it into the platform); into a pipe or a file only when asked.
    shown = generate and (show or app.screen())
    seen = shown or not generate  # a typed secret is known to its typist
    row = app.change(lambda op: rotate_credential(op, account_id, kind, secret, seen=seen),
                     otp=otp)
    if shown:
        # The secret last, alone on its line: a script reads the last line, a person sees it
        # under the sentence that says what to do with it.
        done(f"Rotated {account_id}'s {kind} to version {row['version']}. Change it on the "
             f"platform now; the new {kind}, shown this once (read it again with "
             f"'accessgov cred reveal {account_id}'):")
        click.echo(secret)
        return
    done(f"Rotated {account_id}'s {kind} to version {row['version']}. Change it on the "
         f"platform as well{_reveal_hint(generate, account_id)}.")


def _reveal_hint(generate: bool, account_id: str) -> str:
    return f" (read it with 'accessgov cred reveal {account_id}')" if generate else ""


@cred.command("adopt")
@click.argument("account_id", metavar="ACCOUNT")
@click.option("--kind", required=True, type=click.Choice(KINDS), help="Which secret.")
@otp_option
@click.pass_obj
def adopt(app: App, account_id: str, kind: str, otp: str | None) -> None:
    """Record a secret that was put in the store by another tool (e.g. `bao kv put`)."""
    row = app.change(lambda op: adopt_credential(op, account_id, kind), otp=otp)
    done(f"Recorded version {row['version']} of {account_id}'s {kind} ({row['reference']}).")


@cred.command("move-to-totp-engine")
@click.argument("account_id", metavar="ACCOUNT")
@otp_option
@click.pass_obj
def move_to_totp_engine(app: App, account_id: str, otp: str | None) -> None:
    """Move an account's TOTP seed from the Vault/OpenBao KV into OpenBao's TOTP engine, which
    gives codes and never the seed; the KV versions that held it are destroyed."""
    from accessgov.access.credentials import move_to_code_engine

    row = app.change(lambda op: move_to_code_engine(op, account_id), otp=otp)
    done(f"Moved {account_id}'s TOTP seed into OpenBao's TOTP engine (version "
         f"{row['version']}): 'accessgov otp {account_id}' gives codes; nobody can read the "
         "seed any more.")


@cred.command("reveal")
@click.argument("account_id", metavar="ACCOUNT")
@click.option("--kind", type=click.Choice(KINDS),
              help="Which secret (default: the only one, or the password).")
@otp_option
@click.pass_obj
def reveal(app: App, account_id: str, kind: str | None, otp: str | None) -> None:
    """Print a secret alone on stdout (so it can be piped); records that you saw it.

    Needs an active grant on the account (or being its owner) and your MFA.
    """
    secret = app.change(lambda op: reveal_secret(op, account_id, kind), otp=otp)
    click.echo(secret, nl=sys.stdout.isatty())


@cred.command("list")
@click.option("--account", "account_id", metavar="ACCOUNT", help="Only this account.")
@output_options
@click.pass_obj
def list_(app: App, account_id: str | None, fmt: str, output_file: str | None) -> None:
    """List credentials (never their values) and who could know each current version."""
    from accessgov.reports.document import Document, Rows

    rows = list_credentials(app.register, account_id)
    emit_document(Document(rows=Rows(columns=LIST_COLUMNS, records=rows,
                                     table_columns=TABLE_COLUMNS,
                                     droppable=DROPPABLE_COLUMNS)), fmt, output_file)


@click.command()
@click.argument("account_id", metavar="ACCOUNT")
@otp_option
@click.pass_obj
def otp(app: App, account_id: str, otp: str | None) -> None:
    """Print the current code of an account's stored TOTP seed (for a grant holder)."""
    code, seconds_left = app.change(lambda op: current_otp(op, account_id), otp=otp)
    click.echo(code)
    if sys.stderr.isatty():
        click.echo(f"(valid for {seconds_left} more seconds)", err=True)


def _read_stdin() -> str:
    """Standard input as UTF-8 text, refused (never patched with U+FFFD) if it is not: a
    secret stored other than as given would fail on the platform later, unexplained."""
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"standard input is not UTF-8 text (byte {error.start + 1} is not); "
                         "nothing was stored") from None


def _read_secret(app: App, kind: str, from_stdin: bool) -> str:
    if from_stdin:
        return _read_stdin()
    if not app.interactive():
        raise click.UsageError("give the secret on standard input with --stdin, or run this "
                               "in a terminal to be asked for it")
    if kind == "recovery-codes":
        raise click.UsageError("recovery codes span several lines: pipe them in with --stdin")
    first = click.prompt(f"New {kind}", hide_input=True, err=True)
    again = click.prompt(f"The same {kind} again", hide_input=True, err=True)
    if first != again:
        raise InputError("the two entries did not match; nothing was stored")
    return str(first)
