"""README's "Several administrators", typed by an administrator and two operators.

The section's code blocks are read out of README.md. Each block's first line says whose
machine it is typed on (the administrator's, the CEO's, the trustee's); each machine is a
home folder of its own with its own session folder and `~/.pgpass`. Every command runs
through bash as written, on a pseudo-terminal, and the prompts (passwords, enrolment codes,
authenticator codes) are answered as the person would. Only the servers' addresses are put
in place of the README's example ones: a real OpenBao and a real PostgreSQL that asks for
passwords. `pipx install` is the one line not typed (the program is already installed here;
tests/integration/test_install.py installs it as a user would).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyotp
import pytest

from tests.support import servers
from tests.support.postgres import PostgresServer, start_postgres
from tests.support.pty_terminal import Typed, run_at_terminal

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLE_BAO = "https://bao.example.org:8200"
EXAMPLE_DB = "db.example.org"
MACHINES = {"The administrator": "admin", "Vickie": "vperkins", "Sonal": "spatel"}
OPENBAO_PASSWORDS = {"vperkins": "vickie-first-passphrase", "spatel": "sonal-first-passphrase"}
DATABASE_PASSWORDS = {"accessgov": "owner-database-passphrase",
                      "vperkins": "vickie-database-passphrase",
                      "spatel": "sonal-database-passphrase"}


def section_blocks(readme: str) -> list[tuple[str, list[str]]]:
    """(whose machine, commands) for each code block of the section, in order: continuation
    lines joined as bash would, comments and blank lines left out."""
    section = readme.split("## Several administrators\n", 1)[1]
    section = re.split(r"^## ", section, maxsplit=1, flags=re.MULTILINE)[0]
    blocks = []
    for block in re.findall(r"^```\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL):
        first, *lines = block.splitlines()
        (who,) = [machine for name, machine in MACHINES.items() if first.startswith(f"# {name}")]
        commands, pending = [], ""
        for line in lines:
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            pending += line + "\n"
            if not line.endswith("\\"):
                commands.append(pending.rstrip("\n"))
                pending = ""
        blocks.append((who, commands))
    return blocks


class People:
    """What each person knows and types: passwords, enrolment codes, authenticator apps."""

    def __init__(self) -> None:
        self.enrolment_codes: dict[str, str] = {}
        self.seeds: dict[str, str] = {}
        self.used: set[tuple[str, int]] = set()
        self.typed: list[str] = []
        self.last_database_user = ""

    def answerer(self, command: str) -> Callable[[str], str | None]:
        named = re.findall(r"\b(vperkins|spatel)\b", command)

        def answer(screen: str) -> str | None:
            if re.search(r"(First password for the operator|Repeat for confirmation): *$",
                         screen):
                return self._type(OPENBAO_PASSWORDS[named[0]])
            if found := re.search(r'Enter new password for user "(\w+)": *$', screen):
                self.last_database_user = found.group(1)
                return self._type(DATABASE_PASSWORDS[found.group(1)])
            if re.search(r"Enter it again: *$", screen):
                return self._type(DATABASE_PASSWORDS[self.last_database_user])
            if found := re.search(r"Enrolment code for (\w+): *$", screen):
                return self.enrolment_codes[found.group(1)]  # shown to them on purpose
            if found := re.search(r"(\w+)'s OpenBao password: *$", screen):
                return self._type(OPENBAO_PASSWORDS[found.group(1)])
            if found := re.search(r"Code from (\w+)'s authenticator app: *$", screen):
                return self._type(self.code(found.group(1)))
            return None

        return answer

    def _type(self, text: str) -> str:
        self.typed.append(text)
        return text

    def code(self, who: str) -> str:
        """A code OpenBao has not seen yet (it remembers used ones), as the app shows it."""
        while True:
            step = int(time.time()) // 30
            for candidate in (step, step + 1, step - 1):
                if (who, candidate) not in self.used:
                    self.used.add((who, candidate))
                    return str(pyotp.TOTP(self.seeds[who]).at(candidate * 30))
            time.sleep(1)

    def heard(self, command: str, screen: str) -> None:
        """Remember what a command showed its person: an enrolment code handed over, an
        authenticator key scanned."""
        if found := re.search(r"add-operator (\w+)", command):
            lines = [line.strip() for line in screen.splitlines() if line.strip()]
            handed = lines[lines.index(next(line for line in lines
                                            if line.startswith("Give this enrolment"))) - 1]
            self.enrolment_codes[found.group(1)] = handed
        for uri in re.findall(r"otpauth://totp/\S+", screen):
            person = re.search(r"enrol (\w+)", command)
            if person:
                self.seeds[person.group(1)] = pyotp.parse_uri(uri).secret


@pytest.fixture(scope="module")
def bao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.OpenBaoServer]:
    """A server of this module's own: `store setup` changes the whole server."""
    server = servers.start_or_skip(servers.start_openbao, tmp_path_factory.mktemp("bao"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A cluster that asks for passwords, with the database and owner a provider gives."""
    server = servers.start_or_skip(start_postgres, tmp_path_factory.mktemp("pg"))
    try:
        server.sql("CREATE ROLE accessgov LOGIN CREATEROLE CREATEDB PASSWORD "
                   f"'{DATABASE_PASSWORDS['accessgov']}'")
        server.sql("CREATE DATABASE accessgov OWNER accessgov")
        server.require_passwords()
        yield server
    finally:
        server.stop()


def machine(folder: Path, who: str, bao: servers.OpenBaoServer,
            database: PostgresServer) -> dict[str, str]:
    """`who`'s laptop: a home with their ~/.pgpass (and for the administrator, the token
    `bao login` leaves in ~/.vault-token), and nothing of the test's own environment."""
    home = folder / f"machine-{who}"
    if not home.exists():
        (home / "run").mkdir(parents=True, mode=0o700)
        user = "accessgov" if who == "admin" else who
        pgpass = home / ".pgpass"
        pgpass.write_text(f"127.0.0.1:{database.port}:*:{user}:{DATABASE_PASSWORDS[user]}\n")
        pgpass.chmod(0o600)
        if who == "admin":
            (home / ".vault-token").write_text(bao.root_token)
    keep = {key: value for key, value in os.environ.items()
            if not key.startswith(("VAULT_", "BAO_", "ACCESSGOV_", "PG"))}
    return keep | {"HOME": str(home), "XDG_RUNTIME_DIR": str(home / "run"),
                   "XDG_STATE_HOME": str(home / "state"),
                   "XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config"),
                   "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def typed_on(env: dict[str, str], command: str, people: People) -> Typed:
    typed = run_at_terminal(command, env, people.answerer(command), timeout=180)
    assert "Traceback" not in typed.screen, typed.screen
    assert typed.exit_code == 0, f"{command}\n{typed.screen}"
    people.heard(command, typed.screen)
    return typed


def test_an_administrator_and_two_operators_follow_the_readme(
        tmp_path: Path, bao: servers.OpenBaoServer, database: PostgresServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("bash") is None or shutil.which("psql") is None:
        pytest.skip("bash and psql (Debian's postgresql-client) are needed")
    blocks = section_blocks(README.read_text(encoding="utf-8"))
    assert [who for who, _ in blocks] == ["admin", "vperkins", "spatel", "vperkins", "spatel",
                                          "admin", "admin"]
    people = People()
    exported: dict[str, dict[str, str]] = {}
    screens: dict[str, str] = {}
    monkeypatch.chdir(tmp_path)  # the administrator's dump is written where they are
    for who, commands in blocks:
        env = machine(tmp_path, who, bao, database) | exported.get(who, {})
        for command in commands:
            command = command.replace(EXAMPLE_BAO, bao.url).replace(
                EXAMPLE_DB, f"127.0.0.1:{database.port}")
            if command.startswith("export "):
                name, value = command.removeprefix("export ").split("=", 1)
                exported.setdefault(who, {})[name] = value
                env[name] = value
                continue
            screens[command] = typed_on(env, command, people).screen

    def shown(start: str) -> str:
        return next(screen for command, screen in screens.items()
                    if command.startswith(start))

    # The register is one chain of changes, each signed by whoever made it, on two laptops.
    sonal = machine(tmp_path, "spatel", bao, database) | exported["spatel"]
    listed = subprocess.run([sys.executable, "-m", "accessgov", "grant", "list", "--format",
                             "json"], env=sonal, capture_output=True, text=True, check=True)
    grants = json.loads(listed.stdout)
    assert [(g["person"], g["account"], g["decided_by"]) for g in grants] == [
        ("jdoe", "instagram-main", "vperkins")]
    assert "intact" in shown("accessgov audit verify")
    log = json.loads(subprocess.run(
        [sys.executable, "-m", "accessgov", "audit", "log", "--format", "json"], env=sonal,
        capture_output=True, text=True, check=True).stdout)
    assert {event["actor"] for event in log} >= {"vperkins", "spatel"}
    assert "instagram-main" in shown("accessgov grant list")

    # No password or authenticator code was ever on a screen.
    assert not any(secret in screen for secret in people.typed for screen in screens.values())

    # Sonal's own database login may append to the log through accessgov, never change it.
    refused = subprocess.run(
        ["psql", f"postgresql://spatel@127.0.0.1:{database.port}/accessgov", "-c",
         "DELETE FROM audit"], env=sonal, capture_output=True, text=True, check=False)
    assert refused.returncode != 0 and "permission denied" in refused.stderr

    # The weekly dump, restored into an empty database, checks out against the store.
    assert (tmp_path / "accessgov.dump").is_file()
    verified = shown("accessgov --database")
    assert "intact" in verified, verified
