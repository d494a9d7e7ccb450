"""accessgov login / logout / whoami."""

from __future__ import annotations

from typing import Any

import click

from accessgov.cli.app import App
from accessgov.cli.options import done, emit_document, otp_option, output_options


@click.command()
@click.option("--ttl", default="15m", show_default=True,
              help="How long the session lasts (at most 12h), e.g. 15m, 1h.")
@click.option("--password-stdin", is_flag=True,
              help="OpenBao registers: read your password from standard input.")
@otp_option
@click.pass_obj
def login(app: App, ttl: str, password_stdin: bool, otp: str | None) -> None:
    """Verify one code and open a session, so the next commands need no code.

    The session belongs to this user on this machine and this register; only a hash of its
    token is kept in the register. Where each operator is their own OpenBao identity, this
    logs in to OpenBao with your password and a code (its Login MFA), and its token is the
    session.
    """
    from accessgov.common.timeutil import parse_duration
    from accessgov.identity.login import login as open_session

    length = parse_duration(ttl, "--ttl")
    if app.workspace.signed:
        _login_to_store(app, length, password_stdin, otp)
        return
    if otp is None and app.interactive():
        who = app.workspace.operator_id(app.operator) or click.prompt("Your person id", err=True)
        app.operator = who
        otp = click.prompt(f"Code from {who}'s authenticator app", hide_input=True, err=True)
    session = app.change(lambda op: open_session(op, length, code_given=otp is not None),
                         otp=otp)
    until = app.shown_time(session["expires_at"])
    done(f"Logged in as {session['person']} until {until} "
         f"(session {session['id']}).")


@click.command()
@click.pass_obj
def logout(app: App) -> None:
    """End this machine's session for the register.

    The session file is removed first, so the session cannot be used here again even when
    the secret store is down; its end is recorded in the register once the file's token is
    checked, which needs the store (until then the register shows it open until it expires).
    """
    from accessgov.errors import BackendUnavailable
    from accessgov.identity import sessions
    from accessgov.identity.login import logout as end_session

    workspace = app.workspace
    ticket = workspace.ticket()
    if ticket is None:
        done("No session was open.")
        return
    if workspace.signed:
        from accessgov.identity.login import logout_of_store

        logout_of_store(workspace.backend, workspace.seat())
        done("Logged out: your OpenBao session's token is revoked.")
        return
    sessions.remove_ticket(workspace.runtime_folder, workspace.db_path)
    # Straight to the workspace, never through app.change: logging out needs no code, so
    # none is asked for, even on a terminal.
    try:
        ended = workspace.change(end_session, ticket=ticket)
    except BackendUnavailable as error:
        raise BackendUnavailable(
            f"{error} (the session file was removed, so session {ticket.session_id} cannot "
            "be used here; the register shows it open until it expires)") from None
    app.report_warnings()
    done(f"Logged out (session {ended} ended)." if ended else "No session was open.")


@click.command()
@output_options
@click.pass_obj
def whoami(app: App, fmt: str, output_file: str | None) -> None:
    """Show whose session is open on this machine, and until when."""
    from accessgov.identity.login import whoami as current
    from accessgov.reports.document import Document

    workspace = app.workspace
    if workspace.signed:
        from accessgov.identity.login import whoami_in_store

        info = whoami_in_store(workspace.backend, workspace.seat(), app.clock())
    else:
        info = current(workspace.register, workspace.session(), workspace.db_path)
    no_session = "No session is open. Run 'accessgov login --as PERSON' to open one.\n"
    emit_document(Document(record=info, text=None if info["session"] else no_session), fmt,
                  output_file)


def _login_to_store(app: App, length: Any, password_stdin: bool, otp: str | None) -> None:
    """Log in to OpenBao: password (hidden, or from standard input) and a code."""
    import sys

    from accessgov.cli.options import secret_input
    from accessgov.identity.login import login_to_store

    person = app.operator or click.prompt("Your person id", err=True)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = secret_input(app, f"{person}'s OpenBao password")
    if otp is None:
        otp = secret_input(app, f"Code from {person}'s authenticator app")
    workspace = app.workspace
    until = login_to_store(workspace.backend, workspace.seat(), person, password, otp, length,
                           app.clock())
    done(f"Logged in to OpenBao as {person} until {app.shown_time(until)}: the next commands "
         "need no code, and each change is signed with your key.")
