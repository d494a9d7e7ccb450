"""`accessgov init` takes its secret backends from the registry in use.

The "memory" backend (tests/support/memory_backend.py) is no part of accessgov: it is added by
the registry the test passes as App's backend factory (`WITH_MEMORY`), and from there `init`
offers it, with its options, its checks and its settings, as it offers keyring and vault.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from accessgov.audit.chain import KEY_PATH
from accessgov.identity.totp import seed_path
from tests.support.memory_backend import WITH_MEMORY
from tests.support.shell import Shell, one_line_error


def settings(db: Path) -> dict[str, str]:
    """The register's settings, read straight from the file."""
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT key, value FROM settings").fetchall())


@pytest.fixture
def new(tmp_path: Path) -> Shell:
    """No register yet; the built-in backends and "memory"."""
    return Shell(tmp_path / "data" / "register.db", WITH_MEMORY)


def test_init_with_a_backend_added_by_the_test_and_the_register_it_makes_works(
        new: Shell, tmp_path: Path) -> None:
    file = tmp_path / "store.json"

    result = new.run(f"init --org InterAct --backend memory --memory-file {file}")

    assert "Secrets will be kept in: memory" in result.stdout
    assert {key: value for key, value in settings(new.db).items()
            if key.startswith("backend")} == {
        "backend": "memory", "backend_org_slug": "interact", "backend_memory_file": str(file)}
    assert f"interact/{KEY_PATH}" in json.loads(file.read_text())
    # Later commands open the store from the register's settings, through the same registry.
    new.run('person add vperkins --name "Vickie Perkins" --email v@example.org --category ceo')
    new.enrol("vperkins")
    assert f"interact/{seed_path('vperkins')}" in json.loads(file.read_text())
    new.run("audit verify")


def test_the_backend_and_its_options_may_come_from_the_environment(
        new: Shell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "store.json"
    monkeypatch.setenv("ACCESSGOV_BACKEND", "memory")
    monkeypatch.setenv("ACCESSGOV_TEST_MEMORY_FILE", str(file))

    new.run("init --org InterAct")

    assert settings(new.db)["backend_memory_file"] == str(file)


def test_a_backend_option_that_is_needed_is_asked_for_by_its_flag(new: Shell) -> None:
    result = new.run("init --org InterAct --backend memory", expect=2)

    assert one_line_error(result).startswith(
        "Error: --memory-file (or ACCESSGOV_TEST_MEMORY_FILE) is needed for the memory backend")
    assert not new.db.exists()


def test_the_backend_checks_its_own_options(new: Shell, tmp_path: Path) -> None:
    result = new.run(f"init --org InterAct --backend memory --memory-file {tmp_path}/s.txt",
                     expect=2)

    assert "--memory-file" in one_line_error(result)
    assert "give a file named *.json" in one_line_error(result)
    assert not new.db.exists()


def test_vault_still_needs_its_address(new: Shell) -> None:
    result = new.run("init --org InterAct --backend vault", expect=2)

    assert one_line_error(result) == (
        "Error: --vault-url (or VAULT_ADDR) is needed for the vault backend (see 'accessgov "
        "init --help')")


def test_plain_http_to_another_machine_needs_insecure_http(new: Shell) -> None:
    """Issue 16, item 4: secrets and tokens would cross the network in clear."""
    result = new.run("init --org InterAct --backend vault --vault-url http://vault.example.org",
                     expect=2)
    assert "plain http:// to another machine" in one_line_error(result)
    assert not new.db.exists()


def test_a_keyring_register_has_no_address_to_change(org: Shell) -> None:
    result = org.run(f"store set-address https://vault.example.org {org.as_('vperkins')}",
                     expect=2)
    assert "has no address to change" in one_line_error(result)
    shown = json.loads(org.run("store show --format json").stdout)
    assert "vault_url" not in shown and shown["org_slug"]


@pytest.mark.parametrize(("how", "source"), [
    ("flag", "--backend"), ("environment", "ACCESSGOV_BACKEND")])
def test_an_unknown_backend_is_named_with_where_it_came_from_and_the_valid_ones(
        new: Shell, monkeypatch: pytest.MonkeyPatch, how: str, source: str) -> None:
    if how == "environment":
        monkeypatch.setenv("ACCESSGOV_BACKEND", "azure")
    flag = "--backend azure" if how == "flag" else ""

    result = new.run(f"init --org InterAct {flag}", expect=2)

    assert one_line_error(result) == (
        f"Error: unknown secret backend 'azure' (from {source}); choose one of: keyring, "
        "memory, openbao, vault")
    assert not new.db.exists()


def test_the_built_in_backends_are_the_valid_names_without_a_registry_of_the_tests(
        tmp_path: Path) -> None:
    plain = Shell(tmp_path / "register.db", lambda config: None)  # type: ignore[arg-type,return-value]

    result = plain.run("init --org InterAct --backend memory", expect=2)

    assert one_line_error(result) == (
        "Error: unknown secret backend 'memory' (from --backend); choose one of: keyring, "
        "openbao, vault")


def test_help_describes_each_backend_and_groups_its_options(new: Shell) -> None:
    help_text = new.run("init --help").stdout

    assert "Secret backends (--backend):" in help_text
    for kind in ("keyring", "memory", "vault"):
        assert f"\n  {kind} " in help_text
    vault_options = help_text.split("Options for --backend vault:")[1]
    assert "--vault-url" in vault_options and "--memory-file" not in vault_options
    assert "--memory-file" in help_text.split("Options for --backend memory:")[1]
    assert "--vault-url" not in help_text.split("Secret backends")[0]


def test_init_and_its_help_import_neither_keyring_nor_hvac() -> None:
    """Every backend's options are built from plain data: no store's library is loaded."""
    probe = (
        "import json, sys\n"
        "from click.testing import CliRunner\n"
        "from accessgov.cli import cli\n"
        "result = CliRunner().invoke(cli, ['init', '--help'])\n"
        "print(json.dumps({'code': result.exit_code, 'loaded': sorted(sys.modules)}))\n"
    )
    answer = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    seen = json.loads(answer.stdout)
    assert seen["code"] == 0
    heavy = {"keyring", "hvac", "requests", "ssl", "http.client"}
    assert not heavy & set(seen["loaded"]), seen["loaded"]
