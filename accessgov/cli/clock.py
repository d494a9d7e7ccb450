"""accessgov clock acknowledge."""

from __future__ import annotations

import click

from accessgov.cli.app import App
from accessgov.cli.options import done, otp_option


@click.group()
def clock() -> None:
    """The log's time: it only moves forward, unless an approver acknowledges a wrong clock."""


@clock.command("acknowledge")
@click.option("--board-minute", required=True, metavar="REF",
              help="The board minute that looked into the wrong clock, e.g. 'BM 2026/11 item 4'.")
@otp_option
@click.pass_obj
def acknowledge(app: App, board_minute: str, otp: str | None) -> None:
    """Let changes go on from this computer's time, before the log's last event (the CEO or
    a trustee, with MFA; recorded, and listed by 'audit verify').

    Needed once events were dated by a clock set ahead: after the clock is corrected, every
    change is refused as dated before the log's last event. Correct the clock first: this
    accepts the time it shows now.
    """
    from accessgov.governance.clock import acknowledge as acknowledge_clock

    step = app.change(lambda op: acknowledge_clock(op, board_minute), otp=otp,
                      acknowledging_clock=True)
    done(f"Acknowledged: the audit log's time steps back from {step['log_time']} to "
         f"{step['clock']} (board minute {step['board_minute']}); changes go on from now.")
