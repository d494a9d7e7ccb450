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


@policy.command("set")
@click.argument("name", type=click.Choice(["credential-max-age-days"]))
@click.argument("value")
@otp_option
@click.pass_obj
def set_(app: App, name: str, value: str, otp: str | None) -> None:
    """Change a setting of the policy checks (the CEO or a trustee, with MFA; audited).

    credential-max-age-days: the longest a shared credential may go without rotation before
    'accessgov check' reports it (365 unless changed).
    """
    from accessgov.governance.policy import change_setting

    old, new = app.change(lambda op: change_setting(op, name, value), otp=otp)
    done(f"Changed {name} from {old} to {new}.")


@policy.command("show")
@output_options
@click.pass_obj
def show(app: App, fmt: str, output_file: str | None) -> None:
    """Show the recorded policy reviews, newest first, and the checks' settings."""
    from accessgov.governance.policy import policy_status
    from accessgov.reports.document import Document

    emit_document(Document(record=policy_status(app.register)),
                  fmt, output_file)
