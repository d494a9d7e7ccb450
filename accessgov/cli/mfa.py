"""accessgov mfa enrol / verify / reset."""

from __future__ import annotations

import sys

import click

from accessgov.cli.app import App
from accessgov.cli.options import done, otp_option


@click.group()
def mfa() -> None:
    """Operators' MFA: an authenticator app (TOTP) proves who is acting."""


@mfa.command("enrol")
@click.argument("person_id", metavar="PERSON")
@otp_option
@click.pass_obj
def enrol(app: App, person_id: str, otp: str | None) -> None:
    """Give PERSON a new authenticator seed and print its otpauth:// link.

    On a terminal a QR code is shown and the first code is asked for at once; otherwise
    confirm later with 'accessgov mfa verify PERSON --otp CODE'. The first enrolment of the
    CEO needs no code; after that a CEO or trustee with MFA enrols people.
    """
    from accessgov.identity.enrolment import enrol as start_enrolment

    uri = app.change(lambda op: start_enrolment(op, person_id), otp=otp)
    click.echo(uri)
    if sys.stdout.isatty():
        _print_qr(uri)
    if app.interactive():
        code = click.prompt("Scan it, then type the code the app shows", err=True)
        _confirm(app, person_id, code)
    else:
        click.echo(f"Pending: confirm with 'accessgov mfa verify {person_id} --otp CODE'.",
                   err=True)


@mfa.command("verify")
@click.argument("person_id", metavar="PERSON")
@otp_option
@click.pass_obj
def verify(app: App, person_id: str, otp: str | None) -> None:
    """Confirm PERSON's pending enrolment with the first code from their app."""
    if otp is None:
        if not app.interactive():
            raise click.UsageError("give the code from the app with --otp CODE")
        otp = click.prompt(f"Code from {person_id}'s authenticator app", err=True)
    _confirm(app, person_id, otp)


@mfa.command("reset")
@click.argument("person_id", metavar="PERSON")
@click.option("--reason", required=True, help="Why (lost phone, left...).")
@otp_option
@click.pass_obj
def reset(app: App, person_id: str, reason: str, otp: str | None) -> None:
    """Remove PERSON's MFA: their seed is deleted and their sessions end (CEO or trustee)."""
    from accessgov.identity.enrolment import reset as reset_mfa

    app.change(lambda op: reset_mfa(op, person_id, reason=reason), otp=otp)
    done(f"Reset {person_id}'s MFA; enrol them again with 'accessgov mfa enrol {person_id}'.")


def _confirm(app: App, person_id: str, code: str) -> None:
    from accessgov.identity.enrolment import confirm

    completed_setup = app.workspace.change(lambda op: confirm(op, person_id, code),
                                           operator=person_id)
    done(f"Confirmed {person_id}'s MFA.")
    if completed_setup:
        done("Set-up is complete: from now on every change needs an approver's code or session.")


def _print_qr(uri: str) -> None:
    import qrcode

    code = qrcode.QRCode(border=1)
    code.add_data(uri)
    code.print_ascii(out=sys.stdout, invert=True)
