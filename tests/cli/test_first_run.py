"""A newcomer's first run at a terminal: enrolment, sessions, logout, and what interruptions say.

Terminal prompts are answered through `CodeWhenAsked`: standard input that computes the code
from the seed only when the program reads it, as a person types what the app shows after
scanning the QR code.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import pyotp
import pytest

from accessgov.identity import sessions, totp
from tests.support.memory_backend import MemoryBackend
from tests.support.shell import Shell, dump, one_line_error


class CodeWhenAsked(io.RawIOBase):
    """Standard input whose one line is made when the program first reads it."""

    def __init__(self, make_line: Callable[[], str]) -> None:
        super().__init__()
        self._make_line = make_line
        self._data: bytes | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if not len(buffer):  # click probes with read(0): too early to type anything
            return 0
        if self._data is None:
            self._data = (self._make_line() + "\n").encode()
        size = min(len(buffer), len(self._data))
        buffer[:size] = self._data[:size]
        self._data = self._data[size:]
        return size


def current_code(sh: Shell, store: dict[str, object], person: str) -> str:
    """What `person`'s app shows now, from the seed their enrolment put in the store."""
    seed = MemoryBackend("interact", store).read(totp.seed_path(person))  # type: ignore[arg-type]
    sh.seeds[person] = seed
    return pyotp.TOTP(seed).at(sh.clock.now)


def test_interactive_enrolment_of_the_ceo_opens_her_session(shell: Shell,
                                                           store: dict[str, object]) -> None:
    shell.run('person add vperkins --name "Vickie Perkins" --email v@example.org --category ceo')
    typed: list[str] = []

    def type_code() -> str:
        typed.append(current_code(shell, store, "vperkins"))
        return typed[-1]

    result = shell.run("mfa enrol vperkins", input=CodeWhenAsked(type_code),  # type: ignore[arg-type]
                       interactive=True)
    assert "Confirmed vperkins's MFA." in result.stdout
    assert "Logged in as vperkins until" in result.stdout
    assert typed and typed[0] not in result.stdout + result.stderr  # the code is not echoed
    assert "Scan it, then type the code" in result.stderr
    # The key is shown on its own too, for an app that cannot scan (issue 16, item 6).
    key_line = next(line for line in result.stderr.splitlines() if line.startswith("Key ("))
    assert key_line.startswith("Key (to type into the app instead of scanning): ")
    shown = key_line.split(": ", 1)[1]
    assert all(len(group) == 4 for group in shown.split()[:-1])
    assert shown.replace(" ", "") == shell.seeds["vperkins"]
    # The next step of the Quick start, at a person's speed: no code, no reuse of the first.
    shell.clock.advance(5)
    shell.run('person add jdoe --name "Jo Doe" --email j@example.org --category employee')
    whoami = json.loads(shell.run("whoami --format json").stdout)
    assert whoami["person"] == "vperkins" and whoami["verified_by"].startswith("totp")


def test_end_of_input_at_the_enrol_prompt_says_the_enrolment_is_pending(
        shell: Shell) -> None:
    shell.run('person add vperkins --name "Vickie Perkins" --email v@example.org --category ceo')
    result = shell.run("mfa enrol vperkins", input="", interactive=True, expect=2)
    assert "nothing was changed" not in result.stderr  # it would not be true
    assert "vperkins's enrolment is pending" in result.stderr
    assert "accessgov mfa verify vperkins" in result.stderr
    person = json.loads(shell.run("person show vperkins --format json").stdout)
    assert person["mfa"]["status"] == "pending"
    actions = [e["action"] for e in json.loads(shell.run("audit log --format json").stdout)]
    assert actions[-1] == "mfa.enrol"


def test_logout_on_a_terminal_never_asks_for_a_code(org: Shell) -> None:
    org.run(f"login --as vperkins --otp {org.code('vperkins')}")
    # Nothing is typed: a prompt would meet the end of input and fail.
    result = org.run("logout", input="", interactive=True)
    assert "Code from" not in result.stderr
    assert "session S-0001 ended" in result.stdout
    assert "No session is open" in org.run("whoami").stdout
    result = org.run("--as spatel logout", input="", interactive=True)
    assert result.stdout.strip() == "No session was open."
    assert "Code from" not in result.stderr


def test_logout_with_no_session_changes_nothing(org: Shell) -> None:
    before = dump(org.db)
    assert org.run("logout", interactive=True, input="").stdout == "No session was open.\n"
    assert dump(org.db) == before


def test_without_xdg_runtime_dir_the_session_folder_is_chosen_quietly(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """cron, SSH and containers have no XDG_RUNTIME_DIR: no platformdirs warning, and the
    folder and file it falls back to are private."""
    import platformdirs

    def no_platformdirs(*_args: object, **_kwargs: object) -> str:
        raise AssertionError("platformdirs must not be asked on Linux")

    monkeypatch.setattr(platformdirs, "user_runtime_dir", no_platformdirs)
    assert tempfile.gettempdir() == str(tmp_path / "temporary-files")  # the suite's own
    env = {key: value for key, value in os.environ.items() if key != "XDG_RUNTIME_DIR"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        folder = sessions.runtime_folder(env)
    if tmp_path not in folder.parents:
        pytest.skip(f"this machine has a systemd runtime folder ({folder.parent})")
    path = sessions.write_ticket(folder, sessions.Ticket(str(tmp_path / "r.db"), "p", "S", "t"))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_without_xdg_runtime_dir_a_command_prints_no_warning(tmp_path: Path) -> None:
    """The real program, in a subprocess with no XDG_RUNTIME_DIR: stderr stays empty."""
    import subprocess
    import sys

    env = {key: value for key, value in os.environ.items() if key != "XDG_RUNTIME_DIR"}
    env |= {"TMPDIR": str(tmp_path), "PYTHONWARNINGS": "always"}
    result = subprocess.run([sys.executable, "-m", "accessgov", "--db",
                             str(tmp_path / "none.db"), "logout"],
                            env=env, capture_output=True, text=True, check=False, timeout=60)
    assert result.stderr == "" and result.returncode == 0, result.stderr
    assert result.stdout == "No session was open.\n"


def test_a_refused_enrolment_prompt_is_one_line(org: Shell) -> None:
    """Someone else logged in here: the enrolment is refused before any prompt."""
    org.run(f"login --as vperkins --otp {org.code('vperkins')}")
    org.run('person add kim --name "Kim Lee" --email k@example.org --category volunteer')
    org.run("mfa enrol kim")
    result = org.run("mfa enrol kim --as kim", interactive=True, input="", expect=3)
    assert "vperkins is logged in here" in one_line_error(result)


def test_a_traceback_that_cannot_be_saved_privately_is_not_put_in_the_shared_folder(
        org: Shell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No private state folder (its place is taken by a file): the unexpected error is still
    one line, and no traceback lands in the temporary folder others share."""
    from accessgov.audit import chain

    blocker = tmp_path / "home" / ".local" / "state"
    shutil.rmtree(blocker)
    blocker.write_text("not a folder")

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(chain.AuditLog, "commit", broken)
    result = org.run(f"person update jdoe --title Lead {org.as_('vperkins')}", expect=70)
    line = one_line_error(result)
    assert "unexpected error (RuntimeError)" in line and "could not be saved" in line
    assert not list(Path(tempfile.gettempdir()).glob("accessgov-error-*"))
