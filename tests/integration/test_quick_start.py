"""README's Quick start, typed verbatim at a real terminal against a real keyring.

The code blocks are read out of README.md and every command in them runs through bash, as
written, on a pseudo-terminal (so accessgov behaves as it does for a person: it draws the QR
code and asks for codes). Codes are computed from the otpauth:// URI the enrolment prints,
the way an authenticator app would, and typed when asked for. If the README and the program
drift apart, this test fails.
"""

from __future__ import annotations

import re
import shutil
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

from tests.support import servers
from tests.support.pty_terminal import run_at_terminal

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parents[2] / "README.md"
URI = re.compile(r"otpauth://totp/[^\s]+")
ENROL_PROMPT = re.compile(r"type the code the app shows: *$")
CODE_PROMPT = re.compile(r"Code from (\S+?)'s authenticator app: *$")


def quick_start_commands(readme: str) -> list[str]:
    """The commands of the Quick start's code blocks, in order: continuation lines joined
    as bash would, comment-only and blank lines left out, everything else verbatim."""
    section = readme.split("## Quick start (real use)", 1)[1]
    section = re.split(r"^## ", section, maxsplit=1, flags=re.MULTILINE)[0]
    commands: list[str] = []
    for block in re.findall(r"^```\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL):
        pending = ""
        for line in block.splitlines():
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            pending += line + "\n"
            if not line.endswith("\\"):
                commands.append(pending.rstrip("\n"))
                pending = ""
        assert not pending, f"a command in the Quick start ends with a backslash: {pending}"
    return commands


class Authenticator:
    """The people's authenticator apps: seeds scanned from enrolment URIs, and the codes."""

    def __init__(self) -> None:
        self.seeds: dict[str, str] = {}
        self.used: dict[str, int] = {}
        self.typed: list[str] = []

    def answer(self, screen: str) -> str | None:
        if ENROL_PROMPT.search(screen):
            uri = URI.findall(screen)[-1]
            person = urlparse(uri).path.split(":")[-1].split("%40")[0]
            self.seeds[person] = parse_qs(urlparse(uri).query)["secret"][0]
            return self.code(person)
        asked = CODE_PROMPT.search(screen)
        if asked:
            return self.code(asked.group(1))
        return None

    def code(self, person: str) -> str:
        """The code the app shows now; a person whose last code is still showing waits for
        the next one, as anyone would whose code was just refused as used."""
        step = int(time.time()) // 30
        if self.used.get(person, -1) >= step:
            time.sleep((step + 1) * 30 - time.time() + 0.5)
            step += 1
        self.used[person] = step
        self.typed.append(str(pyotp.TOTP(self.seeds[person]).at(step * 30)))
        return self.typed[-1]


def test_the_quick_start_works_typed_verbatim(tmp_path: Path) -> None:
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    commands = quick_start_commands(README.read_text(encoding="utf-8"))
    assert commands[0].startswith('accessgov init --org "InterAct" ')
    # Its own keyring: the Quick start's organisation is always "interact".
    session = servers.start_or_skip(servers.start_secret_service, tmp_path / "keyring")
    try:
        import os

        env = dict(os.environ) | session.env
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env.pop("ACCESSGOV_LOCAL_TIME", None)
        apps = Authenticator()
        screens = []
        for command in commands:
            typed = run_at_terminal(command, env, apps.answer)
            screens.append(typed)
            assert "Traceback" not in typed.screen
            assert typed.exit_code == 0, f"{command}\n{typed.screen}"
    finally:
        session.stop()
    by_command = {typed.command.split("#")[0].strip(): typed.screen for typed in screens}
    enrol = by_command["accessgov mfa enrol vperkins"]
    assert "Set-up is complete" in enrol and "Logged in as vperkins" in enrol
    assert len(apps.typed) == 2  # the CEO's first code and the trustee's: nothing else asked
    assert not any(code in typed.screen for code in apps.typed for typed in screens)  # hidden
    assert "Revoked G-0001" in by_command['accessgov grant revoke G-0001 --reason "Role changed"']
    assert "intact" in by_command["accessgov audit verify"]
    assert "spatel" in by_command["accessgov whoami"]
    register = Path(env["HOME"]) / ".local" / "share" / "accessgov" / "register.db"
    assert register.is_file()  # the default place, inside this test's own home folder
    assert tmp_path in register.parents
