"""Every command explains itself, and no option can carry a secret on the command line."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from accessgov.cli import COMMANDS, cli
from tests.support import commands
from tests.support.shell import Shell


def all_commands() -> Iterator[tuple[str, click.Command]]:
    return ((" ".join(path), command) for path, command in commands.walk())


COMMAND_PATHS = [path for path, _ in all_commands() if path]


@pytest.mark.parametrize("path", COMMAND_PATHS)
def test_every_command_has_help(path: str) -> None:
    result = CliRunner().invoke(cli, [*path.split(), "--help"])
    assert result.exit_code == 0, result.output
    command = dict(all_commands())[path]
    assert command.help and len(command.help.strip()) > 20, f"{path} needs a docstring"
    options = [p for p in command.params if isinstance(p, click.Option)]
    assert all(option.help for option in options if option.name != "help"), path


def test_the_top_level_help_lists_every_command_without_importing_them() -> None:
    """`accessgov --help` is answered from the command table: no subcommand module loads."""
    import json
    import subprocess
    import sys

    probe = (
        "import json, sys\n"
        "from click.testing import CliRunner\n"
        "from accessgov.cli import cli\n"
        "result = CliRunner().invoke(cli, ['--help'])\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('accessgov.'))\n"
        "print(json.dumps({'output': result.output, 'loaded': loaded}))\n"
    )
    answer = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    seen = json.loads(answer.stdout)
    assert all(name in seen["output"] for name in COMMANDS)
    command_modules = {module for module, _, _ in COMMANDS.values()}
    assert not command_modules & set(seen["loaded"]), seen["loaded"]


SECRET_WORDS = re.compile(r"password|secret|seed|token|passphrase|key", re.IGNORECASE)


@pytest.mark.parametrize("path", COMMAND_PATHS)
def test_no_option_takes_a_secret_value(path: str) -> None:
    """argv is visible to every user through ps and /proc: secrets come from stdin or a prompt."""
    command = dict(all_commands())[path]
    for param in command.params:
        if isinstance(param, click.Option) and any(SECRET_WORDS.search(o) for o in param.opts):
            assert param.is_flag, f"{path} {param.opts} would take a secret on argv"


def test_the_version_is_shown() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and "accessgov" in result.output


def test_the_readme_opens_with_the_two_commands_and_names_every_command() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    opening = "\n".join(readme.splitlines()[:15])
    assert "make demo" in opening and "make test" in opening
    for name in COMMANDS:
        assert f"`{name}" in readme, f"README.md does not mention the {name} command"


GROUP_PATHS = [path for path, command in all_commands() if path and isinstance(command,
                                                                             click.Group)]


@pytest.mark.parametrize("path", GROUP_PATHS)
def test_group_help_never_cuts_a_description_mid_sentence(path: str) -> None:
    result = CliRunner().invoke(cli, [*path.split(), "--help"], terminal_width=80)
    commands = result.output.split("Commands:")[1]
    assert "..." not in commands, commands
    group = dict(all_commands())[path]
    assert isinstance(group, click.Group)
    for name, sub in group.commands.items():
        first = (sub.help or "").split(".")[0]
        assert " ".join(first.split()[:4]) in " ".join(commands.split()), (name, commands)


def test_the_top_level_help_suggests_first_steps_in_order() -> None:
    output = CliRunner().invoke(cli, ["--help"], terminal_width=80).output
    steps = ["accessgov init", "accessgov person add vperkins", "accessgov account add",
             "accessgov mfa enrol vperkins", "accessgov login", "accessgov grant add",
             "accessgov audit verify", "accessgov logout"]
    positions = [output.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "First steps" in output
    assert max(len(line) for line in output.splitlines()) <= 80


def test_local_time_is_shown_only_in_tables(org: Shell, monkeypatch: pytest.MonkeyPatch) -> None:
    import json
    import time

    monkeypatch.setenv("TZ", "Asia/Kolkata")  # +05:30 all year: no daylight saving to trip on
    time.tzset()
    try:
        created = json.loads(org.run("person show jdoe --format json").stdout)["created_at"]
        utc = dt.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        local = (utc + dt.timedelta(hours=5, minutes=30)).strftime("%Y-%m-%d %H:%M:%S IST")
        assert created in org.run("person show jdoe").stdout
        assert local in org.run("--local-time person show jdoe").stdout
        monkeypatch.setenv("ACCESSGOV_LOCAL_TIME", "1")
        assert local in org.run("person show jdoe").stdout
        assert local in org.run("audit log").stdout or "IST" in org.run("audit log").stdout
        # JSON and CSV stay in UTC, whatever the reader asked for.
        assert json.loads(org.run("person show jdoe --format json").stdout)["created_at"] == created
        assert "IST" not in org.run("audit log --format csv").stdout
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
