"""The in-memory test backend keeps the same contract as the real stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from accessgov.errors import BackendUnavailable
from accessgov.secrets.base import VersionConflict
from accessgov.secrets.config import BackendConfig
from tests.secrets.contract import PATH, BackendContract, MakeBackend
from tests.support.memory_backend import WITH_MEMORY, History, MemoryBackend


class TestMemoryBackend(BackendContract):
    @pytest.fixture
    def make_backend(self) -> MakeBackend:
        store: dict[str, History] = {}  # one "server" shared by every org in the test
        return lambda org: MemoryBackend(org, store)


class TestMemoryBackendInAFileOpenedByTheRegistry(BackendContract):
    """The "memory" backend module as a registry opens it: one more backend, one more
    subclass of the contract."""

    @pytest.fixture
    def make_backend(self, tmp_path: Path) -> MakeBackend:
        file = str(tmp_path / "store.json")  # one "server" shared by every org in the test
        return lambda org: WITH_MEMORY(BackendConfig("memory", org, memory_file=file))


def test_a_broken_store_fails_every_call_as_unavailable() -> None:
    backend = MemoryBackend()
    backend.broken = True

    with pytest.raises(BackendUnavailable, match="store down"):
        backend.read(PATH)
    with pytest.raises(BackendUnavailable):
        backend.write(PATH, "pw", expect_version=0)


def test_fail_next_fails_only_the_next_call() -> None:
    backend = MemoryBackend()
    backend.fail_next = VersionConflict("test: someone else wrote")

    with pytest.raises(VersionConflict):
        backend.write(PATH, "pw", expect_version=0)
    assert backend.write(PATH, "pw", expect_version=0) == 1
    assert backend.calls == ["write", "write"]
