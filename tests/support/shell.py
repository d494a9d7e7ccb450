"""Run accessgov as a user would at a shell, in-process, against one register.

`Shell` keeps a clock that the test controls: every code it types comes from a fresh
30-second step, so replay protection never gets in the way by accident and tests need no
sleeping. Codes come from the seed in the otpauth:// URI that `mfa enrol` printed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyotp
from click.testing import CliRunner, Result

from accessgov.cli import cli
from accessgov.cli.app import App
from accessgov.db.register import DatabaseUrl
from accessgov.secrets.base import SecretBackend
from accessgov.secrets.config import BackendConfig


class Clock:
    """A UTC clock that moves only when the test moves it."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> dt.datetime:
        """Move time forward."""
        self.now += dt.timedelta(seconds=seconds)
        return self.now


@dataclasses.dataclass
class Shell:
    """One register, one secret store, one clock; `run` is typing a command."""

    db: Path | DatabaseUrl
    backend_factory: Callable[[BackendConfig], SecretBackend]
    clock: Clock = dataclasses.field(default_factory=Clock)
    seeds: dict[str, str] = dataclasses.field(default_factory=dict)
    # Where devices' session folders go (a register file's folder's parent, by default).
    workdir: Path | None = None

    @property
    def where(self) -> list[str]:
        """The global option naming the register: --db FILE or --database URL."""
        if isinstance(self.db, DatabaseUrl):
            return ["--database", self.db.url]
        return ["--db", str(self.db)]

    @property
    def folder(self) -> Path:
        """This shell's own folder (devices' session folders go in it)."""
        if self.workdir is not None:
            return self.workdir
        assert isinstance(self.db, Path)
        return self.db.parent.parent

    def run(self, command: str | list[str], *, expect: int | None = 0,
            input: str | None = None, interactive: bool = False,
            device: str | None = None) -> Result:
        """Run `accessgov --db DB <command>` and check its exit code; `device` runs it on
        that person's own device (their own session folder)."""
        args = shlex.split(command) if isinstance(command, str) else command
        app = App(backend_factory=self.backend_factory, clock=self.clock,
                  interactive=lambda: interactive, screen=lambda: interactive,
                  env=None if device is None else self.device_env(device))
        result = CliRunner().invoke(cli, [*self.where, *args], obj=app, input=input)
        if expect is not None and result.exit_code != expect:
            raise AssertionError(
                f"accessgov {command!s} exited {result.exit_code}, expected {expect}\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}\n"
                f"exception: {result.exception!r}"
            )
        return result

    def device_env(self, person: str) -> dict[str, str]:
        """The environment of `person`'s own device: their own runtime (session) folder."""
        folder = self.folder / f"device-{person}"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return dict(os.environ) | {"XDG_RUNTIME_DIR": str(folder)}

    def session_folder(self, device: str | None = None) -> Path:
        """Where the session files of `device` (None: the default one) live."""
        env = dict(os.environ) if device is None else self.device_env(device)
        return Path(env["XDG_RUNTIME_DIR"]) / "accessgov"

    def code(self, person: str) -> str:
        """The code `person`'s app shows, one step later than the last code typed."""
        self.clock.advance(30)
        return pyotp.TOTP(self.seeds[person]).at(self.clock.now)

    def enrol(self, person: str, *, by: str | None = None) -> str:
        """Enrol and confirm `person`'s MFA: after set-up, `by` (a CEO or trustee) invites
        them and they enrol themselves; during set-up the CEO enrols with no code."""
        if by:
            self.run(f"mfa enrol {person} --as {by} --otp {self.code(by)}")
        uri = self.run(f"mfa enrol {person} --as {person}").stdout.strip().splitlines()[0]
        self.seeds[person] = seed_from_uri(uri)
        self.run(f"mfa verify {person} --otp {self.code(person)}")
        return uri

    def as_(self, person: str) -> str:
        """`--as PERSON --otp CODE` for a one-shot sensitive command."""
        return f"--as {person} --otp {self.code(person)}"


def seed_from_uri(uri: str) -> str:
    """The base32 seed inside an otpauth:// URI."""
    assert uri.startswith("otpauth://totp/"), uri
    return parse_qs(urlparse(uri).query)["secret"][0]


def one_line_error(result: Result) -> str:
    """The error a user sees: exactly one line on stderr, no traceback."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {result.stderr!r}"
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("Error: "), lines[0]
    return lines[0]


GRANT_ID = re.compile(r"\bG-\d{4,}\b")


def dump(db: Path | DatabaseUrl) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table: what "nothing changed" is checked against."""
    import sqlite3

    if isinstance(db, DatabaseUrl):
        import psycopg

        with psycopg.connect(db.url, autocommit=True) as pg:
            tables = [name for (name,) in pg.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name")]
            return {table: pg.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
                    for table in tables}

    with sqlite3.connect(db) as conn:
        tables = [name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
                for table in tables}
