"""Run the real `accessgov` program in a subprocess, as a user at a terminal would.

Used against the real OpenBao and Secret Service: nothing in-process, real clock, real
environment. Real time means replay protection is real too: each person has the code of the
previous step and the current one available without waiting.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pyotp


@dataclasses.dataclass
class Terminal:
    """A shell session: an environment and a register path."""

    db: Path
    env: dict[str, str]
    seeds: dict[str, str] = dataclasses.field(default_factory=dict)
    transcript: list[subprocess.CompletedProcess[str]] = dataclasses.field(default_factory=list)
    database: str | None = None  # a register in PostgreSQL (its URL) instead of the file db
    _used_steps: dict[str, int] = dataclasses.field(default_factory=dict)

    def run(self, command: str, *, expect: int = 0,
            device: str | None = None) -> subprocess.CompletedProcess[str]:
        """`accessgov --db DB <command>`; asserts the exit code, keeps the transcript.
        `device` runs it on that person's own device (their own session folder)."""
        result = subprocess.run(
            [sys.executable, "-m", "accessgov", *self.where, *shlex.split(command)],
            env=self.device_env(device), capture_output=True, text=True, timeout=120,
            check=False, stdin=subprocess.DEVNULL,
        )
        self.transcript.append(result)
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode == expect, (
            f"accessgov {command} exited {result.returncode}, expected {expect}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}"
        )
        return result

    @property
    def where(self) -> list[str]:
        """The global option that names the register."""
        return ["--database", self.database] if self.database else ["--db", str(self.db)]

    def code(self, person: str) -> str:
        """A code for a step later than the last one used for `person` (may wait <30 s).

        The program accepts the step either side of now: a person's first code is the
        previous step's, and later ones go up to the next step's before waiting for time to
        catch up, so three codes need no wait."""
        used = self._used_steps.get(person)
        if used is None:
            clear_of_a_step_boundary()
            step = int(time.time()) // 30 - 1
        else:
            step = max(used + 1, int(time.time()) // 30)
            if step > int(time.time()) // 30 + 1:  # now + 1 is as far ahead as is accepted
                time.sleep((step - 1) * 30 - time.time() + 0.2)
        self._used_steps[person] = step
        return pyotp.TOTP(self.seeds[person]).at(step * 30)

    def device_env(self, person: str | None) -> dict[str, str]:
        """The environment of `person`'s own device: their own runtime (session) folder."""
        if person is None:
            return self.env
        folder = self.db.parent / f"device-{person}"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self.env | {"XDG_RUNTIME_DIR": str(folder)}

    def enrol(self, person: str, *, invited: bool = False) -> str:
        """Enrol and confirm `person`; returns the otpauth URI. `invited`: the operator of
        this terminal (its open session) invites them, and they enrol on their own device."""
        from tests.support.shell import seed_from_uri

        if invited:
            self.run(f"mfa enrol {person}")
        device = person if invited else None
        uri = self.run(f"mfa enrol {person} --as {person}", device=device).stdout.splitlines()[0]
        self.seeds[person] = seed_from_uri(uri)
        self.run(f"mfa verify {person} --otp {self.code(person)}", device=device)
        return uri

    def everything_written(self) -> bytes:
        """All bytes the program wrote to its terminal so far."""
        return "".join(r.stdout + r.stderr for r in self.transcript).encode()


def clear_of_a_step_boundary(margin: float = 3.0) -> None:
    """Wait for the next 30-s step if this one ends within `margin` seconds.

    A person's first code is the *previous* step's (accepted one step either side of now):
    typed just before a step ends, it would be two steps old when the program checks it, and
    refused as expired.
    """
    left = 30 - time.time() % 30
    if left < margin:
        time.sleep(left + 0.05)


def terminal(tmp_path: Path, **extra: str) -> Terminal:
    """A Terminal inheriting the test's (isolated) environment plus `extra`."""
    env = dict(os.environ) | extra
    return Terminal(tmp_path / "accessgov" / "register.db", env)
