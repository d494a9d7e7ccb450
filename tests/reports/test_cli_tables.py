"""Tables through the command line: names beside ids, the terminal's width, start-up cost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import wcwidth

from tests.support.shell import Shell


def test_grant_list_shows_names_beside_ids(shared: Shell,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    header, _rule, row = shared.run("grant list").stdout.splitlines()
    assert header.split()[:4] == ["id", "person", "person", "name"]
    assert row.split()[:4] == ["G-0001", "jdoe", "Jo", "Doe"]


def test_a_narrow_terminal_gets_a_table_that_fits(shared: Shell,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    table = shared.run("grant list").stdout
    assert max(wcwidth.wcswidth(line) for line in table.splitlines()) <= 60
    assert table.startswith("id ")
    assert "G-0001" in table and "Jo Doe" in table
    assert "decided at" not in table


def test_a_file_or_a_pipe_keeps_every_column(shared: Shell, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    assert "decided at" in shared.run("grant list").stdout  # CliRunner's stdout is a pipe
    monkeypatch.setenv("COLUMNS", "40")
    shared.run(f"grant list -o {tmp_path / 'grants.txt'}")
    assert "decided at" in (tmp_path / "grants.txt").read_text(encoding="utf-8")


def imported_packages(shared: Shell, fmt: str) -> set[str]:
    """The top-level packages `accessgov grant list --format FMT` imports, in a new process."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "accessgov", *shared.where,
         "grant", "list", "--format", fmt],
        capture_output=True, text=True, timeout=60, check=True, stdin=subprocess.DEVNULL,
    )
    assert "G-0001" in result.stdout
    # importtime lines: "import time:  self [us] | cumulative | <indent>module.name"
    return {line.rsplit("|", 1)[1].strip().split(".")[0]
            for line in result.stderr.splitlines() if line.startswith("import time:")}


@pytest.mark.parametrize(("fmt", "drawn"), [("json", False), ("csv", False), ("table", True)])
def test_only_the_table_format_imports_tabulate_and_wcwidth(
        shared: Shell, monkeypatch: pytest.MonkeyPatch, fmt: str, drawn: bool) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    packages = imported_packages(shared, fmt)
    assert "click" in packages  # the measurement works
    assert ("tabulate" in packages, "wcwidth" in packages) == (drawn, drawn)
