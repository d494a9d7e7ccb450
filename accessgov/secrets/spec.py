"""What a secret backend module provides, besides its `SecretBackend` class.

A backend is one module named in `config.BACKENDS`. At module level it describes the options
`accessgov init` takes for it (plain data, so the CLI builds them without importing keyring or
hvac), says which settings it keeps in the register and checks them, and opens its store.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from accessgov.secrets.base import SecretBackend
    from accessgov.secrets.config import BackendConfig

# A backend's settings by name (without `backend_`); None when one is not set.
Settings = dict[str, str | None]


@dataclasses.dataclass(frozen=True)
class InitOption:
    """One option of `accessgov init` for one backend.

    `name` is also the setting it fills, kept in the register as `backend_<name>`, and with
    dashes the flag (`vault_url`: `--vault-url`, `backend_vault_url`).
    """

    name: str
    help: str
    envvar: str | None = None
    default: str | None = None
    required: bool = False  # init stops with "--<name> is needed" when it is not given
    is_file: bool = False  # a file's path (not a folder)

    @property
    def flag(self) -> str:
        """The option as typed on the command line."""
        return "--" + self.name.replace("_", "-")


class BackendModule(Protocol):
    """The module-level names of a backend module (a module satisfies this protocol)."""

    # One line for `accessgov init --help`: what the backend keeps secrets in.
    SUMMARY: str
    # The options `accessgov init --backend <name>` takes for it (none is fine).
    OPTIONS: Sequence[InitOption]

    def configure(self, given: Mapping[str, str | None]) -> Settings:
        """At init: the settings to keep, from the values of OPTIONS (None when not given),
        checked; choices made once for the register (such as the keyring class) are made
        here. InputError (or BackendUnavailable) says what is wrong."""

    def read_settings(self, stored: Mapping[str, str | None]) -> Settings:
        """The settings this backend keeps, checked and in canonical spelling, from what a
        register holds (names without the `backend_` part); other names are ignored, and a
        missing one takes its default. InputError if one is not usable."""

    def open_store(self, config: BackendConfig) -> SecretBackend:
        """The store `config` describes (its settings already read); nothing is contacted."""
