"""The state one command-line invocation carries: where the register is and who is acting."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

import click

from accessgov.common import validate
from accessgov.common.timeutil import local_display, today, utc_now
from accessgov.db.register import DatabaseUrl, Location, Register, default_path

if TYPE_CHECKING:
    from accessgov.operation import Operation
    from accessgov.secrets.base import SecretBackend
    from accessgov.workspace import BackendFactory, Workspace

T = TypeVar("T")


class App:
    """Built by the top-level group; tests may pass their own with a different secret store."""

    def __init__(self, *, backend_factory: BackendFactory | None = None,
                 clock: Callable[[], dt.datetime] = utc_now,
                 env: Mapping[str, str] | None = None,
                 interactive: Callable[[], bool] | None = None,
                 screen: Callable[[], bool] | None = None) -> None:
        self.backend_factory = backend_factory
        self.clock = clock
        self.env = dict(os.environ if env is None else env)
        self.interactive = interactive or sys.stdin.isatty
        # Whether standard output is a person's screen (not a pipe or a file).
        self.screen = screen or sys.stdout.isatty
        # Where the register is, as given: a file's path stays a string until something
        # needs a Path (`db_path`), so that a read command never loads pathlib.
        self.where: str | DatabaseUrl | None = None
        self.operator: str | None = None
        self.local_time = False
        self._workspace: Workspace | None = None
        self._register: Register | None = None

    def configure(self, *, db_path: str | None, operator: str | None,
                  local_time: bool = False, database_url: str | None = None) -> None:
        """Apply the global options: the register is in PostgreSQL with --database (or
        ACCESSGOV_DATABASE_URL), else in the file --db (or ACCESSGOV_DB, or the default)."""
        if database_url and db_path:
            raise click.UsageError("give either --db (a register file) or --database (a "
                                   "register in PostgreSQL), not both")
        if database_url:
            self.where = DatabaseUrl(validate.one_line(database_url, "--database"))
        else:
            self.where = os.path.expanduser(db_path) if db_path else default_path(self.env)
        self.operator = operator
        self.local_time = local_time

    @property
    def db_path(self) -> Location | None:
        """Where the register is: its file's Path, or its database."""
        if isinstance(self.where, str):
            from pathlib import Path

            return Path(self.where)
        return self.where

    @property
    def register(self) -> Register:
        """The register alone, for read commands: no secret store, no audit key."""
        if self._workspace is not None:
            return self._workspace.register
        if self._register is None:
            assert self.where is not None
            self._register = Register.open(self.where)
            if self._register.upgrade_pending is not None:
                click.echo(f"Note: this register was written by an older accessgov (schema "
                           f"{self._register.upgrade_pending}); it is read as it is, and your "
                           "next change brings it up to date.", err=True)
        return self._register

    @property
    def workspace(self) -> Workspace:
        """The workspace for the chosen register (opened on first use)."""
        if self._workspace is None:
            from accessgov.secrets.config import open_backend
            from accessgov.workspace import Workspace

            assert self.db_path is not None
            self.backend_factory = self.backend_factory or open_backend
            self._workspace = Workspace(self.db_path, env=self.env,
                                        backend_factory=self.backend_factory, clock=self.clock,
                                        register=self._register)
        return self._workspace

    def workspace_at(self, location: Location) -> Workspace:
        """A workspace of its own for another register (a backup's copy) with this machine's
        sessions of the chosen register; the caller closes it."""
        from accessgov.secrets.config import open_backend
        from accessgov.workspace import Workspace

        assert self.db_path is not None
        return Workspace(location, env=self.env, clock=self.clock, tickets_of=self.db_path,
                         backend_factory=self.backend_factory or open_backend)

    def change(self, work: Callable[[Operation], T], *, otp: str | None = None,
               operator: str | None = None, acknowledging_clock: bool = False,
               restoring: bool = False, moving_to: SecretBackend | None = None) -> T:
        """Run a change; on a terminal, ask for the operator's code when one is needed
        (`acknowledging_clock`, `restoring`, `moving_to`: see Workspace.change)."""
        workspace = self.workspace
        who = operator or self.operator
        if otp is None and self.interactive() and workspace.needs_code(who):
            otp = click.prompt(f"Code from {workspace.operator_id(who)}'s authenticator app",
                               hide_input=True, err=True)
        result = workspace.change(work, operator=who, code=otp,
                                  acknowledging_clock=acknowledging_clock,
                                  restoring=restoring, moving_to=moving_to)
        self.report_warnings()
        return result

    def report_warnings(self) -> None:
        """What a committed change could not tidy up (a store that went down just after)."""
        if self._workspace is None:
            return
        for warning in self._workspace.warnings:
            click.echo(f"Warning: {warning}", err=True)
        self._workspace.warnings.clear()

    def shown_time(self, timestamp: str) -> str:
        """A stored UTC timestamp as this user wants to read it (--local-time)."""
        if not self.local_time:
            return timestamp
        return str(local_display(timestamp))

    def today(self) -> str:
        """Today's date in UTC, by this invocation's clock."""
        return today(self.clock())

    def close(self) -> None:
        """Release the register (a later use opens it again)."""
        if self._workspace is not None:
            self._workspace.close()
        elif self._register is not None:
            self._register.close()
        self._workspace = self._register = None
