"""Reports and checks start fast: heavy libraries load only when the format asked for needs
them (hvac and keyring never for these reads, jinja2 for HTML, tabulate for tables)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.shell import Shell

HEAVY = ("hvac", "keyring", "jinja2", "tabulate", "sqlite_utils", "pyotp", "requests")
PROBE = """
import json, sys
from accessgov.cli import cli
try:
    cli.main(args=sys.argv[1:], prog_name="accessgov")
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def loaded(sh: Shell, command: str, *, whole_names: bool = False) -> set[str]:
    """The top-level modules (or every module, by its whole name) loaded by the time `command`
    has run, in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", PROBE, *sh.where, *command.split()],
                          capture_output=True, text=True, check=True)
    names = json.loads(done.stderr.strip().splitlines()[-1])
    return set(names) if whole_names else {name.split(".")[0] for name in names}


@pytest.fixture
def reviewed(shared: Shell) -> Shell:
    shared.run(f"review start --quarter 2026-Q1 --due 2099-01-01 {shared.as_('vperkins')}")
    return shared


@pytest.mark.parametrize("command", [
    "check --no-store --format json", "check --no-store --format csv",
    "check --list-rules --format json", "report access --format json",
    "report access --format csv", "report access --person jdoe --format csv",
    "review show --format json", "review list --format json",
    "review export 2026-Q1 --format csv --no-store",
    "review export 2026-Q1 --format json --no-store", "policy show --format json"])
def test_reads_load_no_heavy_library(reviewed: Shell, command: str) -> None:
    assert not set(HEAVY) & loaded(reviewed, command)


@pytest.mark.parametrize(("command", "library"), [
    ("review export 2026-Q1 --format html --no-store", "jinja2"),
    ("report access --format html", "jinja2"), ("review show", "tabulate"),
    ("check --no-store", "tabulate"), ("report access --format md", "tabulate")])
def test_a_format_loads_what_it_needs(reviewed: Shell, command: str, library: str) -> None:
    found = loaded(reviewed, command)
    assert library in found
    assert not {"hvac", "keyring", "sqlite_utils", "pyotp"} & found


@pytest.mark.parametrize("command", [
    "grant list --format json", "grant list --person jdoe --format json",
    "grant show G-0001 --format json"])
def test_reading_grants_loads_none_of_what_a_change_needs(shared: Shell, command: str) -> None:
    # The list is run many times a day from a shell: no rules, seals, hashing or pathlib
    # (which alone brings urllib and ipaddress) before the rows are printed.
    found = loaded(shared, command, whole_names=True)
    assert not {"accessgov.identity.authority", "accessgov.db.seals", "accessgov.workspace",
                "hashlib", "hmac", "pathlib"} & found
