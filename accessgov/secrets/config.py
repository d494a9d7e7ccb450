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
# One segment of a mount or a prefix: never empty, "." or ".." (which would climb out of it).
_PATH_SEGMENT = re.compile(r"[A-Za-z0-9_@-][A-Za-z0-9._@-]*")
# Mounts that are never a KV version 2 engine: Vault's own and its per-token cubbyhole.
_NOT_KV_MOUNTS = {"sys", "cubbyhole", "identity", "auth"}

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
        object.__setattr__(self, "vault_mount", check_mount(self.vault_mount))
        object.__setattr__(self, "vault_prefix", check_vault_path(self.vault_prefix,
                                                                  "--vault-prefix"))

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


def check_vault_path(path: str, what: str) -> str:
    """A mount or prefix in its canonical spelling (no slash at either end); InputError if it
    is empty or a part is empty, "." or "..", or holds other than ASCII letters, digits and
    . _ @ - (a prefix such as ../../sys would reach outside accessgov's own folder)."""
    canonical = path.strip().strip("/")
    if not canonical:
        raise InputError(f"{what} cannot be empty: it keeps accessgov's secrets in a folder of "
                         "their own (the default is 'accessgov')" if what == "--vault-prefix"
                         else f"{what} cannot be empty (the default is 'secret')")
    if not all(_PATH_SEGMENT.fullmatch(part) for part in canonical.split("/")):
        raise InputError(f"{what} {path!r} is not usable: use letters, digits and . _ @ - "
                         "between slashes, with no '..' (e.g. 'accessgov' or 'teams/comms')")
    return canonical


def check_mount(mount: str) -> str:
    """A KV mount path (see `check_vault_path`), refusing Vault's own mounts at once, since
    they can never hold KV version 2 secrets."""
    canonical = check_vault_path(mount, "--vault-mount")
    if canonical.split("/")[0] in _NOT_KV_MOUNTS:
        raise InputError(f"--vault-mount {mount!r} is not a KV version 2 mount: give the mount "
                         "of a KV v2 secrets engine (the default is 'secret')")
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
