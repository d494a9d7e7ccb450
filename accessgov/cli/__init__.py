"""The `accessgov` command line: parse, call the core, print. Nothing else lives here.

Subcommand modules are imported only when their command runs (start-up is the product), and
this module's group is the one place where errors become a plain line and an exit code.
"""

from __future__ import annotations

import importlib
import os
import re
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
    "clock": ("accessgov.cli.clock", "clock", "Acknowledge a clock that was wrong (audited)."),
    "backup": ("accessgov.cli.backup", "backup",
               "Write a consistent copy of the register with its manifest, or check one."),
    "db": ("accessgov.cli.db", "db", "The register's PostgreSQL database: the operators' role."),
    "restore": ("accessgov.cli.backup", "restore",
                "Put the register back from a backup (an approver's audited act)."),
    "todo": ("accessgov.cli.todo", "todo",
             "Grants that ended in the register: remove the people on the platform too."),
    "incident": ("accessgov.cli.incident", "incident",
                 "An account compromised or a device lost: the checklist, and the decision."),
    "offboard": ("accessgov.cli.offboard", "offboard",
                 "Someone leaves: revoke access and work the checklist."),
    "import": ("accessgov.cli.transfer", "import_",
               "Import people, accounts, delegations or grants from a spreadsheet or JSON."),
    "export": ("accessgov.cli.transfer", "export",
               "Export the whole register (no secrets) as JSON that import reads back."),
    "authority": ("accessgov.cli.authority", "authority", "Who may do what: the rule table."),
    "check": ("accessgov.cli.check", "check", "Check the register against the policy."),
    "policy": ("accessgov.cli.policy", "policy", "The policy's annual review and settings."),
    "report": ("accessgov.cli.report", "report", "Reports: who can reach which account."),
    "review": ("accessgov.cli.review", "review", "Quarterly access reviews and evidence."),
    "remind": ("accessgov.cli.remind", "remind",
               "What is due soon or overdue, per person who must act; --send e-mails it."),
    "verify-pack": ("accessgov.cli.verify_pack", "verify_pack",
                    "Check an evidence bundle against itself and the register."),
    "schema": ("accessgov.cli.schema", "schema",
               "Print the JSON Schemas of accessgov's files and JSON output."),
    "store": ("accessgov.cli.store", "store",
              "The secret store: where it is, moving to another, and the OpenBao server."),
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
        if isinstance(command, click.Group):
            _whole_first_sentences(command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help from the table above, so `accessgov --help` imports no subcommand module.
        with formatter.section("Commands"):
            formatter.write_dl([(name, text) for name, (_, _, text) in COMMANDS.items()])

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AccessGovError as error:
            _error_line(str(error))
            ctx.exit(error.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except UnicodeDecodeError:  # at a prompt: what was typed or piped in
            _error_line("what was typed (standard input) is not UTF-8 text")
            ctx.exit(ExitCode.INPUT)
        except Exception:  # the boundary: anything else is a bug, reported without a trace
            ctx.exit(_report_unexpected())

    def main(self, *args: Any, **kwargs: Any) -> NoReturn:
        kwargs["standalone_mode"] = False
        arguments = kwargs.get("args", args[0] if args else None)
        if _not_utf8([*(sys.argv[1:] if arguments is None else arguments),
                      *(os.environ.get(name, "") for name in _TEXT_VARIABLES)]):
            _error_line("the command line (or an ACCESSGOV_ variable) holds bytes that are not "
                        "UTF-8 text; type it again")
            sys.exit(ExitCode.INPUT)
        try:
            result = super().main(*args, **kwargs)
        except click.UsageError as error:
            where = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
            message = " ".join(error.format_message().split())  # click may wrap choices
            _error_line(f"{message}{where}")
            sys.exit(error.exit_code)
        except click.ClickException as error:
            _error_line(error.format_message())
            sys.exit(error.exit_code)
        except click.Abort as error:
            # Ctrl-C (130, as shells do) or end of input at a prompt (an input error).
            interrupted = isinstance(error.__context__, KeyboardInterrupt)
            click.echo("Aborted: nothing was changed.", err=True)
            sys.exit(ExitCode.INTERRUPTED if interrupted else ExitCode.INPUT)
        sys.exit(result if isinstance(result, int) else ExitCode.OK)


# Environment variables whose values become register queries or paths.
_TEXT_VARIABLES = ("ACCESSGOV_DB", "ACCESSGOV_DATABASE_URL", "ACCESSGOV_OPERATOR",
                   "ACCESSGOV_BACKEND")


def _not_utf8(values: list[str]) -> bool:
    """Python reads bytes that are not UTF-8 from argv as lone surrogates, which neither the
    register nor the terminal can take: refused at the door rather than failing later."""
    return any(any("\ud800" <= char <= "\udfff" for char in value) for value in values)


def _error_line(message: str) -> None:
    """The one line on stderr every error becomes; what it quotes of the user's input is
    shown with control characters escaped, so it can neither fake a line nor move the cursor."""
    from accessgov.reports.text import visible

    click.echo(f"Error: {visible(message)}", err=True)


def _whole_first_sentences(group: click.Group) -> None:
    """Each subcommand's line in the group's help is its docstring's whole first sentence,
    wrapped if long: click would otherwise cut it at about 45 characters, mid-sentence."""
    for command in group.commands.values():
        if command.short_help is None and command.help:
            command.short_help = first_sentence(command.help)


def first_sentence(text: str) -> str:
    """The first sentence of a docstring's first paragraph ("e.g." and "i.e." do not end it)."""
    import inspect

    paragraph = " ".join(inspect.cleandoc(text).split("\n\n")[0].split())
    match = re.search(r"(?<!\be\.g)(?<!\bi\.e)[.!?](?=\s)", paragraph)
    return paragraph[:match.end()] if match else paragraph


def _report_unexpected() -> ExitCode:
    """Write the traceback to a private file and point to it; never print it."""
    import traceback

    kind = sys.exc_info()[0]
    summary = (f"Error: unexpected error ({kind.__name__ if kind else 'unknown'}); nothing "
               "was changed.")
    try:
        fd, path = _error_file()
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(traceback.format_exc())
    except OSError as error:
        click.echo(f"{summary} Its details could not be saved ({error.strerror}).", err=True)
    else:
        click.echo(f"{summary} Details for a developer are in {path}", err=True)
    return ExitCode.UNEXPECTED


def _error_file() -> tuple[int, str]:
    """A new 0600 file in the user's own accessgov state folder (0700), and never in the
    shared temporary folder: tracebacks name files and records."""
    import tempfile

    import platformdirs

    folder = platformdirs.user_state_path("accessgov", appauthor=False)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return tempfile.mkstemp(prefix="accessgov-error-", suffix=".txt", dir=folder)


FIRST_STEPS = """\b
First steps on a new register (no codes until the CEO has enrolled):
  accessgov init --org "InterAct"
  accessgov person add vperkins --name "Vickie Perkins" \\
      --email v@example.org --category ceo
  accessgov account add instagram-main --platform instagram \\
      --handle @interact --owner vperkins --purpose "Events and news"
  accessgov mfa enrol vperkins    scan the QR code, type the first code

\b
Every day after that, with the code from your authenticator app:
  accessgov login --as vperkins   one code opens a 15-minute session
  accessgov grant add jdoe instagram-main --role editor --reason "Posts"
  accessgov grant list
  accessgov mfa enrol jdoe        invite jdoe to enrol on their own device
  accessgov audit verify
  accessgov logout

See 'accessgov COMMAND --help' for each command's options."""


@click.group("accessgov", cls=AccessGovGroup, epilog=FIRST_STEPS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db_path", envvar="ACCESSGOV_DB", type=click.Path(dir_okay=False),
              help="The register file (default: in your user data folder).")
@click.option("--database", "database_url", envvar="ACCESSGOV_DATABASE_URL", metavar="URL",
              help="A register in PostgreSQL, shared by several administrators: "
                   "postgresql://user@host/db, or 'postgresql://' for the libpq settings "
                   "(PGHOST, PGSERVICE, ~/.pgpass; env ACCESSGOV_DATABASE_URL).")
@click.option("--as", "operator", envvar="ACCESSGOV_OPERATOR", metavar="PERSON",
              help="Who is acting (env ACCESSGOV_OPERATOR; default: the open session's person).")
@click.option("--local-time", is_flag=True, envvar="ACCESSGOV_LOCAL_TIME",
              help="Show times in tables in this computer's time zone instead of UTC (env "
                   "ACCESSGOV_LOCAL_TIME=1). JSON and CSV always give UTC.")
@click.version_option(package_name="accessgov", prog_name="accessgov")
@click.pass_context
def cli(ctx: click.Context, db_path: str | None, database_url: str | None,
        operator: str | None, local_time: bool) -> None:
    """Govern who may use your organisation's official online accounts.

    Keeps a register of accounts, people and every grant of access with its approval,
    keeps passwords and codes only in a real secret store, and seals every change in a
    tamper-evident audit log.
    """
    app = ctx.obj if isinstance(ctx.obj, App) else App()
    app.configure(db_path=db_path, database_url=database_url, operator=operator,
                  local_time=local_time)
    ctx.obj = app
    ctx.call_on_close(app.close)


def main() -> NoReturn:
    """The console script."""
    cli.main(prog_name="accessgov")
