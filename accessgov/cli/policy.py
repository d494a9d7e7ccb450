"""accessgov policy reviewed / set / show."""

from __future__ import annotations

import click

from accessgov.cli.app import App
from accessgov.cli.options import (
    board_minute_option,
    done,
    emit_document,
    otp_option,
    output_options,
    secret_input,
)


@click.group()
def policy() -> None:
    """The Social Media Policy's own upkeep: its annual review and the checks' settings."""


@policy.command("reviewed")
@click.option("--date", "reviewed_on", required=True, metavar="DATE",
              help="The day the policy was reviewed (YYYY-MM-DD, not in the future).")
@board_minute_option
@otp_option
@click.pass_obj
def reviewed(app: App, reviewed_on: str, board_minute: str | None, otp: str | None) -> None:
    """Record that the policy was reviewed (the CEO or a trustee, with MFA).

    The policy asks for a review at least once a year; 'accessgov check' reports when none
    has been recorded for 365 days.
    """
    from accessgov.governance.policy import record_review

    row = app.change(lambda op: record_review(op, reviewed_on, board_minute), otp=otp)
    minute = f" (board minute {row['board_minute']})" if row["board_minute"] else ""
    done(f"Recorded {row['id']}: the policy was reviewed on {row['reviewed_on']}{minute}.")


SETTING_NAMES = ["credential-max-age-days", "smtp-host", "smtp-port", "smtp-from", "smtp-user",
                 "smtp-starttls", "smtp-cacert", "smtp-password"]


@policy.command("set")
@click.argument("name", type=click.Choice(SETTING_NAMES))
@click.argument("value", required=False)
@otp_option
@click.pass_obj
def set_(app: App, name: str, value: str | None, otp: str | None) -> None:
    """Change a setting (the CEO or a trustee, with MFA; audited).

    credential-max-age-days: the longest a shared credential may go without rotation before
    'accessgov check' reports it (365 unless changed). smtp-host, smtp-port (587),
    smtp-from, smtp-user, smtp-starttls (yes/no), smtp-cacert: the mail server reminders
    are sent through ('accessgov remind --send'). smtp-password takes no VALUE: it is asked
    for (hidden) or read from standard input, and kept in the secret store.
    """
    from accessgov.governance.policy import SMTP_PASSWORD, change_setting, set_smtp_password

    if name == SMTP_PASSWORD:
        if value is not None:
            raise click.UsageError("smtp-password is never given on the command line (it would "
                                   "show in the shell's history): leave VALUE out, and type it "
                                   "when asked or give it on standard input")
        password = secret_input(app, "The mail server's password")
        version = app.change(lambda op: set_smtp_password(op, password), otp=otp)
        done(f"Stored the mail server's password in the secret store (version {version}).")
        return
    if value is None:
        raise click.UsageError(f"give the new value of {name}")
    old, new = app.change(lambda op: change_setting(op, name, value), otp=otp)
    done(f"Changed {name} from {old or 'unset'} to {new}.")


@policy.command("show")
@output_options
@click.pass_obj
def show(app: App, fmt: str, output_file: str | None) -> None:
    """Show the recorded policy reviews, newest first, and the checks' settings."""
    from accessgov.governance.policy import policy_status
    from accessgov.reports.document import Document

    emit_document(Document(record=policy_status(app.register)),
                  fmt, output_file)
