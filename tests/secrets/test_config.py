"""The registry of secret backends, and the settings a register keeps about its store.

`TODAY` holds the settings exactly as registers were written before each backend kept its own
(copied from `BackendConfig.as_settings` at that time): those registers must open unchanged.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from accessgov.errors import BackendUnavailable, InputError
from accessgov.secrets.config import BACKENDS, BackendConfig, Backends, open_backend
from accessgov.secrets.keyring_backend import KeyringBackend
from accessgov.secrets.spec import InitOption
from accessgov.secrets.vault import VaultBackend
from accessgov.workspace import Workspace
from tests.support.memory_backend import WITH_MEMORY
from tests.support.shell import Shell

SECRET_SERVICE = "keyring.backends.SecretService.Keyring"
TODAY = {
    "vault": {
        "backend": "vault", "backend_org_slug": "interact",
        "backend_vault_url": "https://vault.example.org:8200", "backend_vault_mount": "secret",
        "backend_vault_prefix": "accessgov", "backend_vault_cacert": "/etc/ca.pem",
        "backend_vault_namespace": "admin/team-a",
    },
    "vault, defaults": {
        "backend": "vault", "backend_org_slug": "interact",
        "backend_vault_url": "http://127.0.0.1:8200", "backend_vault_mount": "secret",
        "backend_vault_prefix": "accessgov",
    },
    # A keyring register also kept vault's defaults, which a keyring never used.
    "keyring": {
        "backend": "keyring", "backend_org_slug": "interact",
        "backend_keyring_class": SECRET_SERVICE, "backend_vault_mount": "secret",
        "backend_vault_prefix": "accessgov",
    },
}


@pytest.mark.parametrize("name", ["vault", "vault, defaults"])
def test_a_vault_register_of_today_reads_back_and_is_written_the_same(name: str) -> None:
    config = BackendConfig.from_settings(TODAY[name])

    assert config.as_settings() == TODAY[name]
    assert BackendConfig.from_settings(config.as_settings()) == config


def test_a_keyring_register_of_today_reads_back_without_vault_settings() -> None:
    config = BackendConfig.from_settings(TODAY["keyring"])

    assert config.settings == {"keyring_class": SECRET_SERVICE}
    assert config.as_settings() == {"backend": "keyring", "backend_org_slug": "interact",
                                    "backend_keyring_class": SECRET_SERVICE}


def test_registers_of_today_open_their_stores(shell: Shell) -> None:
    """A register file whose settings are today's opens the same store at the same place."""
    stores = {}
    for name in ("vault", "keyring"):
        with sqlite3.connect(shell.db) as conn:
            conn.execute("DELETE FROM settings WHERE key LIKE 'backend%'")
            conn.executemany("INSERT INTO settings (key, value) VALUES (?, ?)",
                             TODAY[name].items())
        workspace = Workspace(shell.db, env={}, backend_factory=open_backend)
        stores[name] = workspace.backend
        workspace.close()

    assert isinstance(stores["vault"], VaultBackend)
    assert stores["vault"].location("x/password") == (
        "vault kv secret/accessgov/interact/x/password (namespace admin/team-a)")
    assert isinstance(stores["keyring"], KeyringBackend)
    assert stores["keyring"].location("x/password") == (
        "keyring service accessgov/interact, user x/password")


def test_a_built_in_backend_checks_its_settings_wherever_they_come_from() -> None:
    tampered = TODAY["vault"] | {"backend_vault_prefix": "../../sys"}

    with pytest.raises(InputError, match=re.escape("--vault-prefix '../../sys' is not usable")):
        BackendConfig.from_settings(tampered)


def test_a_test_backend_checks_its_settings_before_its_store_opens() -> None:
    config = BackendConfig("memory", "interact", memory_file="relative.json")

    with pytest.raises(InputError, match=re.escape("--memory-file 'relative.json' is not usable")):
        WITH_MEMORY(config)


def test_a_register_whose_backend_this_program_does_not_know_is_unavailable() -> None:
    config = BackendConfig("azure", "interact")

    with pytest.raises(BackendUnavailable, match=r"a 'azure' store, which this accessgov does "
                       r"not know \(it knows: keyring, openbao, vault\)"):
        open_backend(config)


def test_a_registry_adds_backends_but_never_swaps_a_built_in_one() -> None:
    assert WITH_MEMORY.names == ["keyring", "memory", "openbao", "vault"]
    with pytest.raises(ValueError, match="vault: already the name of a built-in backend"):
        Backends({"vault": "tests.support.memory_backend"})


@pytest.mark.parametrize(("flag", "env", "chosen"), [
    (None, {}, ("keyring", "default")),
    (None, {"ACCESSGOV_BACKEND": "vault"}, ("vault", "ACCESSGOV_BACKEND")),
    ("keyring", {"ACCESSGOV_BACKEND": "vault"}, ("keyring", "--backend")),
])
def test_the_flag_wins_over_the_environment_which_wins_over_the_default(
        flag: str | None, env: dict[str, str], chosen: tuple[str, str]) -> None:
    assert Backends().resolve(flag, env) == chosen


def test_an_empty_flag_is_an_unknown_backend_not_the_default() -> None:
    with pytest.raises(InputError, match=r"unknown secret backend '' \(from --backend\)"):
        Backends().resolve("", {})


@pytest.mark.parametrize("kind", [*BACKENDS, "memory"])
def test_every_backend_module_describes_itself(kind: str) -> None:
    module = WITH_MEMORY.module(kind)

    assert module.SUMMARY.endswith(".")
    assert all(isinstance(option, InitOption) and option.help for option in module.OPTIONS)
    # Each option fills a setting of the same name, which the register keeps.
    defaults = {option.name: option.default for option in module.OPTIONS}
    if kind == "memory":
        defaults["memory_file"] = str(Path("/x/store.json"))
    settings = module.read_settings(defaults)
    assert set(defaults) <= set(settings)
    assert module.read_settings(settings) == settings
