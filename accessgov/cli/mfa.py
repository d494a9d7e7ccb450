"""accessgov mfa enrol / verify / reset."""

from __future__ import annotations

import functools
import sys
from typing import Any

import click

from accessgov.cli.app import App
from accessgov.cli.options import done, otp_option
from accessgov.errors import ExitCode


@click.group()
def mfa() -> None:
    """Operators' MFA: an authenticator app (TOTP) proves who is acting."""


@mfa.command("enrol")
@click.argument("person_id", metavar="PERSON")
@otp_option
@click.pass_obj
def enrol(app: App, person_id: str, otp: str | None) -> None:
    """Invite PERSON to enrol, or (as PERSON) enrol yourself and get your QR code.

    A CEO or trustee invites: 'accessgov mfa enrol jdoe'. The person then enrols on their own
    device, so nobody else ever sees their seed: 'accessgov mfa enrol jdoe --as jdoe'. On a
    terminal the QR code is shown and the first code is asked for at once, which also opens
    a 15-minute session; otherwise confirm later with 'accessgov mfa verify PERSON --otp
    CODE'. On a new register the CEO enrols first, with no code.
    """
    from accessgov.identity.enrolment import enrol as start_enrolment

    work = functools.partial(start_enrolment, person_id=person_id)
    if app.workspace.signed:
        _enrol_with_store(app, person_id, work)
        return
    if app.workspace.operator_id(app.operator) in (None, person_id):
        # Enrolling oneself needs no code (there is no app yet to give one): never ask.
        uri = app.workspace.change(work, operator=app.operator, code=otp)
        app.report_warnings()
    else:
        uri = app.change(work, otp=otp)
    if uri is None:
        done(f"Invited {person_id} to enrol. On their own device they run: "
             f"accessgov mfa enrol {person_id} --as {person_id}")
        return
    click.echo(uri)
    if sys.stdout.isatty():
        _print_qr(uri)
    if app.interactive():
        click.echo(f"Key (to type into the app instead of scanning): {_key_of(uri)}", err=True)
    if not app.interactive():
        click.echo(f"Pending: confirm with 'accessgov mfa verify {person_id} --otp CODE'.",
                   err=True)
        return
    try:
        code = click.prompt("Scan it, then type the code the app shows", hide_input=True,
                            err=True)
    except click.Abort as stopped:
        # The enrolment is recorded: say so, rather than "nothing was changed".
        click.echo(f"Stopped before confirming: {person_id}'s enrolment is pending; confirm "
                   f"it with 'accessgov mfa verify {person_id}'.", err=True)
        interrupted = isinstance(stopped.__context__, KeyboardInterrupt)
        click.get_current_context().exit(
            ExitCode.INTERRUPTED if interrupted else ExitCode.INPUT)
    _confirm(app, person_id, code, open_session=True)


@mfa.command("verify")
@click.argument("person_id", metavar="PERSON")
@otp_option
@click.pass_obj
def verify(app: App, person_id: str, otp: str | None) -> None:
    """Confirm PERSON's pending enrolment with the first code from their app."""
    if otp is None:
        if not app.interactive():
            raise click.UsageError("give the code from the app with --otp CODE")
        otp = click.prompt(f"Code from {person_id}'s authenticator app", hide_input=True,
                           err=True)
    _confirm(app, person_id, otp)


@mfa.command("reset")
@click.argument("person_id", metavar="PERSON")
@click.option("--reason", required=True, help="Why (lost phone, left...).")
@otp_option
@click.pass_obj
def reset(app: App, person_id: str, reason: str, otp: str | None) -> None:
    """Remove PERSON's MFA: their seed is deleted and their sessions end (CEO or trustee)."""
    from accessgov.common.validate import text
    from accessgov.identity.enrolment import reset as reset_mfa

    reason = text(reason, "reason")
    app.change(lambda op: reset_mfa(op, person_id, reason=reason), otp=otp)
    done(f"Reset {person_id}'s MFA; enrol them again with 'accessgov mfa enrol {person_id}'.")


def _key_of(uri: str) -> str:
    """The base32 key of an otpauth link, in groups of four as apps show them."""
    from urllib.parse import parse_qs, urlparse

    key = parse_qs(urlparse(uri).query)["secret"][0]
    return " ".join(key[start:start + 4] for start in range(0, len(key), 4))


def _enrol_with_store(app: App, person_id: str, work: Any) -> None:
    """Where each operator is their own OpenBao identity: an approver's invitation is
    recorded as usual; the person themselves enrols their authenticator in OpenBao (with the
    enrolment code their administrator gave them) and logs in, unless already logged in, and
    the register then records their enrolment, confirmed by that login."""
    workspace = app.workspace
    operator = workspace.operator_id(app.operator)
    if operator not in (None, person_id):
        app.change(work)
        done(f"Invited {person_id} to enrol. Their OpenBao administrator gives them an "
             f"enrolment code ('accessgov store invite {person_id}'); on their own device they "
             f"run 'accessgov mfa enrol {person_id} --as {person_id}'.")
        return
    if workspace.ticket() is None:
        _enrol_and_log_in(app, person_id)
    confirmed = app.workspace.change(work, operator=person_id)
    assert confirmed is None
    done(f"Confirmed {person_id}'s MFA (OpenBao's Login MFA).")


def _enrol_and_log_in(app: App, person_id: str) -> None:
    import datetime as dt

    from accessgov.cli.store import show_enrolment
    from accessgov.identity.login import login_to_store
    from accessgov.identity.operators import enrol as make_key
    from accessgov.secrets.config import BackendConfig

    workspace = app.workspace
    if not app.interactive():
        raise click.UsageError(f"{person_id} is not logged in: run 'accessgov store enrol "
                               f"{person_id}' and 'accessgov login --as {person_id}' first")
    enrolment_code = click.prompt(f"Enrolment code for {person_id} (from your OpenBao "
                                  "administrator)", hide_input=True, err=True)
    config = BackendConfig.from_settings(workspace.register.settings())
    enrolment = make_key(config, enrolment_code)
    show_enrolment(enrolment.url, enrolment.key)
    password = click.prompt(f"{person_id}'s OpenBao password", hide_input=True, err=True)
    code = click.prompt("Scan it, then type the code the app shows", hide_input=True,
                        err=True)
    login_to_store(workspace.backend, workspace.seat(), person_id, password, code,
                   dt.timedelta(minutes=15), app.clock())


def _confirm(app: App, person_id: str, code: str, *, open_session: bool = False) -> None:
    import datetime as dt

    from accessgov.identity.enrolment import confirm

    ttl = dt.timedelta(minutes=15) if open_session else None
    confirmation = app.workspace.change(lambda op: confirm(op, person_id, code, ttl),
                                        operator=person_id)
    done(f"Confirmed {person_id}'s MFA.")
    if confirmation.completed_setup:
        done("Set-up is complete: from now on every change needs an approver's code or session.")
    if confirmation.session:
        until = app.shown_time(confirmation.session["expires_at"])
        done(f"Logged in as {person_id} until {until} "
             f"(session {confirmation.session['id']}): the next commands need no code.")


def _print_qr(uri: str) -> None:
    import qrcode

    code = qrcode.QRCode(border=1)
    code.add_data(uri)
    code.print_ascii(out=sys.stdout, invert=True)
