"""accessgov login / logout / whoami."""

from __future__ import annotations

import click

from accessgov.cli.app import App
from accessgov.cli.options import done, emit_document, otp_option, output_options


@click.command()
@click.option("--ttl", default="15m", show_default=True,
              help="How long the session lasts (at most 12h), e.g. 15m, 1h.")
@otp_option
@click.pass_obj
def login(app: App, ttl: str, otp: str | None) -> None:
    """Verify one code and open a session, so the next commands need no code.

    The session belongs to this user on this machine and this register; only a hash of its
    token is kept in the register.
    """
    from accessgov.common.timeutil import parse_duration
    from accessgov.identity.login import login as open_session

    length = parse_duration(ttl, "--ttl")
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
    """End this machine's session for the register."""
    from accessgov.identity import sessions
    from accessgov.identity.login import logout as end_session

    workspace = app.workspace
    ticket = workspace.ticket()
    if ticket is None:
        done("No session was open.")
        return
    sessions.remove_ticket(workspace.runtime_folder, workspace.db_path)
    # Straight to the workspace, never through app.change: logging out needs no code, so
    # none is asked for, even on a terminal.
    ended = workspace.change(lambda op: end_session(op, ticket), operator=ticket.person)
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
    info = current(workspace.register, workspace.ticket(), app.clock(), workspace.db_path,
                   workspace.keys.sessions)
    no_session = "No session is open. Run 'accessgov login --as PERSON' to open one.\n"
    emit_document(Document(record=info, text=None if info["session"] else no_session), fmt,
                  output_file)
