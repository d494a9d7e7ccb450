"""Run the real `accessgov` program in a subprocess at a time of the test's choosing.

Debian's `faketime` (libfaketime, LD_PRELOAD) sets the clock of that one process, as anyone
at the computer could without root: `at` starts its clock at that moment, and it runs on from
there. Servers the program talks to (OpenBao) keep the real time. Codes are computed for the
time the program will see.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pyotp
import pytest

FAKETIME = shutil.which("faketime")
ACCESSGOV = [sys.executable, "-m", "accessgov"]
WITH_MEMORY_STORE = [sys.executable, "-m", "tests.support.memory_cli"]


@dataclasses.dataclass
class ClockedTerminal:
    """A shell session whose commands may each run at a time of their own."""

    db: Path
    env: dict[str, str]
    program: list[str] = dataclasses.field(default_factory=lambda: list(ACCESSGOV))
    seeds: dict[str, str] = dataclasses.field(default_factory=dict)

    def run(self, command: str, *, at: dt.datetime | None = None, expect: int | None = 0,
            stdin: str | None = None, device: str | None = None
            ) -> subprocess.CompletedProcess[str]:
        """`accessgov --db DB <command>`, under `faketime` when `at` is given; asserts the
        exit code (unless `expect` is None) and that no traceback was printed. `device` runs
        it on that person's own device (their own session folder)."""
        clock = [] if at is None else [str(FAKETIME), "-f", f"@{at:%Y-%m-%d %H:%M:%S}"]
        env = self.env | {"TZ": "UTC"}
        if device is not None:
            folder = self.db.parent / f"device-{device}"
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            env["XDG_RUNTIME_DIR"] = str(folder)
        result = subprocess.run(
            [*clock, *self.program, "--db", str(self.db), *shlex.split(command)],
            env=env, input=stdin or "", capture_output=True, text=True, timeout=120,
            check=False)
        assert "Traceback" not in result.stderr, result.stderr
        if expect is not None:
            assert result.returncode == expect, (
                f"accessgov {command} (at {at}) exited {result.returncode}, expected {expect}\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}")
        return result

    def code(self, person: str, at: dt.datetime) -> str:
        """The code `person`'s app shows at `at`."""
        return str(pyotp.TOTP(self.seeds[person]).at(at))


def clocked_terminal(tmp_path: Path, program: list[str] | None = None,
                     **extra: str) -> ClockedTerminal:
    """A ClockedTerminal in the test's (isolated) environment plus `extra`; skips the test
    when `faketime` is not installed (apt-get install faketime)."""
    if FAKETIME is None:
        pytest.skip("faketime is not installed (apt-get install faketime)")
    return ClockedTerminal(tmp_path / "accessgov" / "register.db", dict(os.environ) | extra,
                           list(program or ACCESSGOV))
