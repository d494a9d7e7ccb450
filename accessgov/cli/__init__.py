"""The `accessgov` command line: parse, call the core, print. Nothing else lives here.

Subcommand modules are imported only when their command runs (start-up is the product), and
this module's group is the one place where errors become a plain line and an exit code.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, NoReturn

import click

from accessgov.cli.app import App
from accessgov.errors import AccessGovError, ExitCode

# name -> (module, attribute, one-line help shown in `accessgov --help`)
COMMANDS = {
    "init": ("accessgov.cli.init", "init", "Create a register for an organisation."),
    "login": ("accessgov.cli.session", "login", "Open a short MFA session (one code)."),
    "logout": ("accessgov.cli.session", "logout", "End this machine's session."),
    "whoami": ("accessgov.cli.session", "whoami", "Show whose session is open."),
    "person": ("accessgov.cli.person", "person", "People in scope of the policy."),
    "account": ("accessgov.cli.account", "account", "The organisation's official accounts."),
    "delegate": ("accessgov.cli.delegate", "delegate", "The CEO's delegations of approval."),
    "grant": ("accessgov.cli.grant", "grant", "Access to accounts and its approval."),
    "mfa": ("accessgov.cli.mfa", "mfa", "Operators' authenticator-app MFA."),
    "cred": ("accessgov.cli.cred", "cred", "Account credentials, kept in the secret store."),
    "otp": ("accessgov.cli.cred", "otp", "The current code of an account's TOTP seed."),
    "audit": ("accessgov.cli.audit", "audit", "The tamper-evident audit log."),
    "authority": ("accessgov.cli.authority", "authority", "Who may do what: the rule table."),
}


class AccessGovGroup(click.Group):
    """Loads subcommands lazily and turns every error into one plain line on stderr."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help from the table above, so `accessgov --help` imports no subcommand module.
        with formatter.section("Commands"):
            formatter.write_dl([(name, text) for name, (_, _, text) in COMMANDS.items()])

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AccessGovError as error:
            click.echo(f"Error: {error}", err=True)
            ctx.exit(error.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception:  # the boundary: anything else is a bug, reported without a trace
            ctx.exit(_report_unexpected())

    def main(self, *args: Any, **kwargs: Any) -> NoReturn:
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except click.UsageError as error:
            where = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
            message = " ".join(error.format_message().split())  # click may wrap choices
            click.echo(f"Error: {message}{where}", err=True)
            sys.exit(error.exit_code)
        except click.ClickException as error:
            click.echo(f"Error: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        except click.Abort as error:
            # Ctrl-C (130, as shells do) or end of input at a prompt (an input error).
            interrupted = isinstance(error.__context__, KeyboardInterrupt)
            click.echo("Aborted: nothing was changed.", err=True)
            sys.exit(ExitCode.INTERRUPTED if interrupted else ExitCode.INPUT)
        sys.exit(result if isinstance(result, int) else ExitCode.OK)


def _report_unexpected() -> ExitCode:
    """Write the traceback to a private file and point to it; never print it."""
    import traceback

    fd, path = _error_file()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(traceback.format_exc())
    kind = sys.exc_info()[0]
    click.echo(
        f"Error: unexpected error ({kind.__name__ if kind else 'unknown'}); nothing was "
        f"changed. Details for a developer are in {path}",
        err=True,
    )
    return ExitCode.UNEXPECTED


def _error_file() -> tuple[int, str]:
    """A new 0600 file in the user's own accessgov state folder (0700): tracebacks name
    files and records, so they stay out of the shared temporary folder."""
    import tempfile

    import platformdirs

    folder = platformdirs.user_state_path("accessgov", appauthor=False)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return tempfile.mkstemp(prefix="accessgov-error-", suffix=".txt", dir=folder)
    except OSError:
        return tempfile.mkstemp(prefix="accessgov-error-", suffix=".txt")


@click.group("accessgov", cls=AccessGovGroup,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db_path", envvar="ACCESSGOV_DB", type=click.Path(dir_okay=False),
              help="The register file (default: in your user data folder).")
@click.option("--as", "operator", envvar="ACCESSGOV_OPERATOR", metavar="PERSON",
              help="Who is acting (env ACCESSGOV_OPERATOR; default: the open session's person).")
@click.version_option(package_name="accessgov", prog_name="accessgov")
@click.pass_context
def cli(ctx: click.Context, db_path: str | None, operator: str | None) -> None:
    """Govern who may use your organisation's official online accounts.

    Keeps a register of accounts, people and every grant of access with its approval,
    keeps passwords and codes only in a real secret store, and seals every change in a
    tamper-evident audit log.
    """
    app = ctx.obj if isinstance(ctx.obj, App) else App()
    app.configure(db_path=db_path, operator=operator)
    ctx.obj = app
    ctx.call_on_close(app.close)


def main() -> NoReturn:
    """The console script."""
    cli.main(prog_name="accessgov")
