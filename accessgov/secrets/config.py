"""Choose and open the secret store named in the register's settings.

The built-in stores live in a plain dict; nothing registers itself behind the caller's back.
Each implementation module is imported only when a command needs it, because `keyring` and
`hvac` are the most expensive imports accessgov has.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import TYPE_CHECKING

from accessgov.errors import InputError

if TYPE_CHECKING:
    from accessgov.secrets.base import SecretBackend

BACKENDS = {
    "keyring": "accessgov.secrets.keyring_backend:KeyringBackend",
    "vault": "accessgov.secrets.vault:VaultBackend",
}


@dataclasses.dataclass(frozen=True)
class BackendConfig:
    """Everything needed to reach one organisation's area of a secret store (no secrets)."""

    kind: str
    org_slug: str
    keyring_class: str | None = None
    vault_url: str | None = None
    vault_mount: str = "secret"
    vault_prefix: str = "accessgov"
    vault_cacert: str | None = None

    def as_settings(self) -> dict[str, str]:
        """The fields worth storing in the register, as strings."""
        return {
            f"backend_{field.name}" if field.name != "kind" else "backend": str(value)
            for field in dataclasses.fields(self)
            if (value := getattr(self, field.name)) is not None
        }

    @classmethod
    def from_settings(cls, settings: dict[str, str]) -> BackendConfig:
        """Rebuild the config that `as_settings` stored."""
        kwargs = {
            field.name: settings[key]
            for field in dataclasses.fields(cls)
            if (key := "backend" if field.name == "kind" else f"backend_{field.name}") in settings
        }
        return cls(**kwargs)


def resolve_backend_name(flag: str | None, env: dict[str, str]) -> tuple[str, str]:
    """The backend to use at init and where that choice came from (flag > env > default)."""
    if flag:
        name, source = flag, "--backend"
    elif env.get("ACCESSGOV_BACKEND"):
        name, source = env["ACCESSGOV_BACKEND"], "ACCESSGOV_BACKEND"
    else:
        name, source = "keyring", "default"
    if name not in BACKENDS:
        valid = ", ".join(sorted(BACKENDS))
        raise InputError(f"unknown secret backend {name!r} (from {source}); choose one of: {valid}")
    return name, source


def open_backend(config: BackendConfig) -> SecretBackend:
    """An instance of the store `config` names; nothing is contacted until first use."""
    module_name, _, class_name = BACKENDS[config.kind].partition(":")
    backend_class = getattr(importlib.import_module(module_name), class_name)
    backend: SecretBackend = backend_class(config)
    return backend
