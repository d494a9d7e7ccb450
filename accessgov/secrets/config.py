"""Choose and open the secret store named in the register's settings.

The built-in stores live in a plain dict, name -> module; nothing registers itself behind the
caller's back. Each module describes its own init options and settings and checks them (see
`spec.BackendModule`), and is imported only when a command needs it, because `keyring` and
`hvac` are the most expensive imports accessgov has. A program with more backends (a test's)
passes a `Backends` of its own wherever a backend factory is taken.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

from accessgov.errors import BackendUnavailable, InputError

if TYPE_CHECKING:
    from accessgov.secrets.base import SecretBackend
    from accessgov.secrets.spec import BackendModule, Settings

BACKENDS = {
    "keyring": "accessgov.secrets.keyring_backend",
    "vault": "accessgov.secrets.vault",
    "openbao": "accessgov.secrets.openbao.backend",
}
DEFAULT_BACKEND = "keyring"
BACKEND_VARIABLE = "ACCESSGOV_BACKEND"


@dataclasses.dataclass(frozen=True, init=False)
class BackendConfig:
    """Everything needed to reach one organisation's area of a secret store (no secrets):
    the backend's name, the organisation's slug and the backend's own settings.

    A setting is named as the register keeps it without `backend_` (`vault_url` is kept as
    `backend_vault_url`) and reads as an attribute too (`config.vault_url`). A built-in
    backend's module checks its settings here, wherever the config comes from; any other
    backend's are checked by the `Backends` that knows it, before its store is opened.
    """

    kind: str
    org_slug: str
    settings: Settings

    def __init__(self, kind: str, org_slug: str, **settings: str | None) -> None:
        if kind in BACKENDS:
            settings = _load(BACKENDS[kind]).read_settings(settings)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "org_slug", org_slug)
        object.__setattr__(self, "settings", settings)

    def __getattr__(self, name: str) -> str | None:
        settings = self.__dict__.get("settings", {})
        if name not in settings:
            raise AttributeError(f"{type(self).__name__} has no setting {name!r}")
        return cast("str | None", settings[name])

    def as_settings(self) -> dict[str, str]:
        """What the register keeps: `backend`, `backend_org_slug` and `backend_<name>` for
        each setting that has a value."""
        return {"backend": self.kind, "backend_org_slug": self.org_slug} | {
            f"backend_{name}": value for name, value in self.settings.items() if value is not None
        }

    @classmethod
    def from_settings(cls, stored: Mapping[str, str]) -> BackendConfig:
        """Rebuild the config that `as_settings` stored. Every other `backend_` name goes to
        the backend, which ignores those that are not its own (keyring registers made before
        backends kept their own settings also hold `backend_vault_mount`)."""
        settings = {
            name.removeprefix("backend_"): value for name, value in stored.items()
            if name.startswith("backend_") and name != "backend_org_slug"
        }
        return cls(stored["backend"], stored["backend_org_slug"], **settings)


class Backends:
    """The secret backends a program knows, by name: the built-in ones and any `extra`
    (name -> module path), which a test passes where a backend factory is taken.

    Called with a config, it opens the store the config names (a `BackendFactory`);
    `accessgov init` takes its backend names and their options from it.
    """

    def __init__(self, extra: Mapping[str, str] | None = None) -> None:
        if clash := sorted(set(extra or {}) & set(BACKENDS)):
            # BackendConfig checks a built-in name's settings with the built-in module.
            raise ValueError(f"{', '.join(clash)}: already the name of a built-in backend")
        self.modules = BACKENDS | dict(extra or {})

    @property
    def names(self) -> list[str]:
        """Every backend's name, in alphabetical order."""
        return sorted(self.modules)

    def module(self, kind: str) -> BackendModule:
        """The module of backend `kind` (imported now); BackendUnavailable if there is none."""
        if kind not in self.modules:
            raise BackendUnavailable(
                f"this register keeps its secrets in a {kind!r} store, which this accessgov "
                f"does not know (it knows: {', '.join(self.names)}); use the accessgov that "
                "made the register"
            )
        return _load(self.modules[kind])

    def resolve(self, flag: str | None, env: Mapping[str, str]) -> tuple[str, str]:
        """The backend to use at init and where that choice came from (flag > env >
        default); InputError listing the valid names if it is not one of them."""
        if flag is not None:
            name, source = flag, "--backend"
        elif env.get(BACKEND_VARIABLE):
            name, source = env[BACKEND_VARIABLE], BACKEND_VARIABLE
        else:
            name, source = DEFAULT_BACKEND, "default"
        if name not in self.modules:
            raise InputError(f"unknown secret backend {name!r} (from {source}); choose one "
                             f"of: {', '.join(self.names)}")
        return name, source

    def configure(self, kind: str, org_slug: str, given: Mapping[str, str | None]) -> BackendConfig:
        """At init: the config of backend `kind` from the values of its init options."""
        return self.config(kind, org_slug, self.module(kind).configure(given))

    def config(self, kind: str, org_slug: str, settings: Mapping[str, str | None]) -> BackendConfig:
        """A config of backend `kind` whose settings its module has read and checked."""
        module = self.module(kind)
        if kind not in BACKENDS:  # BackendConfig reads a built-in backend's settings itself
            settings = module.read_settings(settings)
        return BackendConfig(kind, org_slug, **settings)

    def __call__(self, config: BackendConfig) -> SecretBackend:
        """The store `config` names; nothing is contacted until first use."""
        module = self.module(config.kind)
        return module.open_store(self.config(config.kind, config.org_slug, config.settings))


BUILT_IN = Backends()


def backends_in(factory: object) -> Backends:
    """The backends `factory` knows: itself if it is a `Backends`, else the built-in ones
    (a test's plain factory opens a store of its own but names no backend)."""
    return factory if isinstance(factory, Backends) else BUILT_IN


def open_backend(config: BackendConfig) -> SecretBackend:
    """An instance of the built-in store `config` names; nothing is contacted until first use."""
    return BUILT_IN(config)


def check_namespace(namespace: str | None) -> str | None:
    """Where callers found it before: see `accessgov.secrets.vault.check_namespace`."""
    from accessgov.secrets import vault

    return vault.check_namespace(namespace)


def _load(module_path: str) -> BackendModule:
    return cast("BackendModule", importlib.import_module(module_path))
