"""A dict-backed secret store with the same semantics as the real ones, for fast unit tests.

It lives under tests/ on purpose: accessgov itself must never keep secrets in memory only.
Set `broken = True` to make every call fail as an unreachable store would, or `fail_next` to
make just the next call raise a given exception (atomicity tests: "the store fails half-way").

This module is also a secret backend module (`accessgov.secrets.spec.BackendModule`), named
"memory" in `WITH_MEMORY`, the registry a test passes where a backend factory is taken:
`accessgov init --backend memory --memory-file F` keeps the store in the JSON file F, so that
each command of a test opens the same store again, as a real one would.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path

from accessgov.errors import BackendUnavailable, InputError
from accessgov.secrets.base import SecretBackend, SecretNotFound, VersionConflict, check_value
from accessgov.secrets.config import BackendConfig, Backends
from accessgov.secrets.spec import InitOption, Settings


@dataclasses.dataclass
class History:
    """Everything stored at one path: live versions, the counter and the metadata."""

    versions: dict[int, str] = dataclasses.field(default_factory=dict)
    latest: int = 0
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)


class MemoryBackend(SecretBackend):
    """In-memory SecretBackend. Share `store` between instances to model one server, two orgs."""

    name = "memory"

    def __init__(self, org_slug: str = "test", store: dict[str, History] | None = None) -> None:
        self.org_slug = org_slug
        self.store: dict[str, History] = {} if store is None else store
        self.broken = False
        self.fail_next: Exception | None = None
        self.can_list = True  # False: behave like a keyring, which cannot list its entries
        self.calls: list[str] = []

    def check(self) -> None:
        """Fails only when the test made the store fail."""
        self._enter("check")

    def location(self, path: str) -> str:
        """A made-up location in the style of the real backends."""
        return f"memory {self.org_slug}/{path}"

    def current_version(self, path: str) -> int:
        """The counter: discarded versions count, deleted paths go back to 0."""
        self._enter("current_version")
        history = self.store.get(self._key(path))
        return history.latest if history else 0

    def read(self, path: str, version: int | None = None) -> str:
        """A version's value, or the newest live one."""
        self._enter("read")
        history = self.store.get(self._key(path))
        live = history.versions if history else {}
        wanted = max(live, default=0) if version is None else version
        if wanted not in live:
            which = f"version {version} of " if version is not None else ""
            raise SecretNotFound(f"no secret at {which}{self.location(path)}")
        return live[wanted]

    def write(
        self, path: str, value: str, *, expect_version: int, metadata: dict[str, str] | None = None
    ) -> int:
        """Check-and-set, exactly like KV v2's `cas`."""
        self._enter("write")
        check_value(value)
        history = self.store.setdefault(self._key(path), History())
        if history.latest != expect_version:
            raise VersionConflict(
                f"{self.location(path)} is at version {history.latest}, not {expect_version}"
            )
        history.latest += 1
        history.versions[history.latest] = value
        history.metadata = dict(metadata or history.metadata)
        return history.latest

    def discard(self, path: str, version: int) -> None:
        """Forget one version; the counter keeps its number."""
        self._enter("discard")
        history = self.store.get(self._key(path))
        if history:
            history.versions.pop(version, None)

    def delete(self, path: str) -> None:
        """Forget the path entirely."""
        self._enter("delete")
        self.store.pop(self._key(path), None)

    def list_paths(self) -> list[str] | None:
        """Every path of this organisation that was ever written (as Vault lists metadata);
        None when the test makes it behave like a keyring, which cannot list."""
        self._enter("list_paths")
        if not self.can_list:
            return None
        prefix = f"{self.org_slug}/"
        return sorted(key.removeprefix(prefix) for key in self.store if key.startswith(prefix))

    def _key(self, path: str) -> str:
        return f"{self.org_slug}/{path}"

    def _enter(self, operation: str) -> None:
        self.calls.append(operation)
        if self.broken:
            raise BackendUnavailable("test: store down")
        if self.fail_next is not None:
            failure, self.fail_next = self.fail_next, None
            raise failure


class FileBackend(MemoryBackend):
    """A MemoryBackend whose store is read from a JSON file before each call and written back
    after each change, so that every instance over one file sees one store."""

    def __init__(self, org_slug: str, file: Path) -> None:
        super().__init__(org_slug)
        self.file = file

    def write(
        self, path: str, value: str, *, expect_version: int, metadata: dict[str, str] | None = None
    ) -> int:
        """As MemoryBackend, then saved."""
        version = super().write(path, value, expect_version=expect_version, metadata=metadata)
        self._save()
        return version

    def discard(self, path: str, version: int) -> None:
        """As MemoryBackend, then saved."""
        super().discard(path, version)
        self._save()

    def delete(self, path: str) -> None:
        """As MemoryBackend, then saved."""
        super().delete(path)
        self._save()

    def _enter(self, operation: str) -> None:
        super()._enter(operation)
        self.store.clear()
        self.store.update(_load(self.file))

    def _save(self) -> None:
        histories = {key: dataclasses.asdict(history) for key, history in self.store.items()}
        self.file.write_text(json.dumps(histories), encoding="utf-8")


def _load(file: Path) -> dict[str, History]:
    if not file.exists():
        return {}
    histories = json.loads(file.read_text(encoding="utf-8"))
    return {key: History({int(n): value for n, value in history["versions"].items()},
                         history["latest"], history["metadata"])
            for key, history in histories.items()}


# -- the backend module: one more name in a registry of the test's own -------------------------

SUMMARY = "A JSON file standing in for a secret store (tests only)."
OPTIONS = (
    InitOption("memory_file", "The JSON file that holds the secrets.",
               envvar="ACCESSGOV_TEST_MEMORY_FILE", required=True, is_file=True),
)


def configure(given: Mapping[str, str | None]) -> Settings:
    """At init: the file's absolute path (later commands may run in another folder)."""
    file = given.get("memory_file")
    return read_settings({"memory_file": str(Path(file).absolute()) if file else None})


def read_settings(stored: Mapping[str, str | None]) -> Settings:
    """The file, which must be given, absolute and named *.json."""
    file = stored.get("memory_file")
    if not file or not Path(file).is_absolute() or not file.endswith(".json"):
        raise InputError(f"--memory-file {file!r} is not usable: give a file named *.json")
    return {"memory_file": file}


def open_store(config: BackendConfig) -> FileBackend:
    """The store in the file `config` names."""
    return FileBackend(config.org_slug, Path(str(config.settings["memory_file"])))


WITH_MEMORY = Backends({"memory": __name__})
