"""Choose and open the secret store named in the register's settings.

The built-in stores live in a plain dict; nothing registers itself behind the caller's back.
Each implementation module is imported only when a command needs it, because `keyring` and
`hvac` are the most expensive imports accessgov has.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from typing import TYPE_CHECKING

from accessgov.errors import InputError

if TYPE_CHECKING:
    from accessgov.secrets.base import SecretBackend

# One namespace name per segment: ASCII (an HTTP header carries it), no "+" or "*" (Vault's
# wildcards), never empty, "." or "..".
_NAMESPACE_SEGMENT = re.compile(r"[A-Za-z0-9_@-][A-Za-z0-9._@-]*")
# Names Vault and OpenBao keep for themselves at every level ("root" is not a namespace header).
_RESERVED_NAMESPACES = {"root", "sys", "audit", "auth", "cubbyhole", "identity"}

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
    # Vault namespace (e.g. "admin/team-a"); None for the root namespace. Fixed at init.
    vault_namespace: str | None = None

    def __post_init__(self) -> None:
        # Frozen: store the checked, canonical spelling ("/team-a/" -> "team-a").
        object.__setattr__(self, "vault_namespace", check_namespace(self.vault_namespace))

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


def check_namespace(namespace: str | None) -> str | None:
    """A Vault namespace in its canonical spelling, without a leading or trailing slash (None
    for the root namespace, also given as ""); InputError if a part is empty, "." or "..",
    a reserved name, or holds other than ASCII letters, digits and . _ @ -."""
    if not namespace:
        return None
    canonical = namespace.removeprefix("/").removesuffix("/")
    parts = canonical.split("/")
    if not all(_NAMESPACE_SEGMENT.fullmatch(part) for part in parts):
        raise InputError(
            f"not a valid Vault namespace: {namespace!r} (use letters, digits and . _ @ -"
            " between slashes, e.g. admin/team-a)"
        )
    if reserved := _RESERVED_NAMESPACES.intersection(parts):
        raise InputError(
            f"not a valid Vault namespace: {namespace!r} ({min(reserved)!r} is a name Vault"
            " reserves; leave the namespace out for the root namespace)"
        )
    return canonical


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
