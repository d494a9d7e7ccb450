"""The behaviour every secret backend promises, written once and run against each of them.

Subclass `BackendContract` and provide a `make_backend` fixture returning a function
`org_slug -> SecretBackend`; every test gets a fresh organisation of its own, so tests can
share one real server without seeing each other's secrets.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest

from accessgov.errors import AccessGovError
from accessgov.secrets.base import SecretBackend, SecretNotFound, VersionConflict

MakeBackend = Callable[[str], SecretBackend]

PATH = "instagram-main/password"
RECOVERY_CODES = "\n".join(f"{n:04d}-{n * 7919 % 10000:04d}" for n in range(1, 11)) + "\n"


def new_org() -> str:
    """A slug no other test uses."""
    return f"test-{secrets.token_hex(4)}"


class BackendContract:
    """Stories every SecretBackend must tell the same way."""

    @pytest.fixture
    def make_backend(self) -> MakeBackend:
        raise NotImplementedError("subclasses provide make_backend")

    @pytest.fixture
    def backend(self, make_backend: MakeBackend) -> SecretBackend:
        return make_backend(new_org())

    def test_the_store_is_usable(self, backend: SecretBackend) -> None:
        backend.check()

    def test_a_secret_written_reads_back(self, backend: SecretBackend) -> None:
        version = backend.write(PATH, "correct horse", expect_version=0)

        assert version == 1
        assert backend.read(PATH) == "correct horse"
        assert backend.current_version(PATH) == 1

    def test_a_path_never_written_is_at_version_zero(self, backend: SecretBackend) -> None:
        assert backend.current_version("never/written") == 0

    def test_versions_count_up_with_each_write(self, backend: SecretBackend) -> None:
        versions = [backend.write(PATH, f"pw-{n}", expect_version=n) for n in range(3)]

        assert versions == [1, 2, 3]
        assert backend.current_version(PATH) == 3
        assert backend.read(PATH) == "pw-2"

    def test_expecting_version_zero_refuses_a_path_that_exists(
        self, backend: SecretBackend
    ) -> None:
        backend.write(PATH, "first", expect_version=0)

        with pytest.raises(VersionConflict):
            backend.write(PATH, "second", expect_version=0)
        assert backend.read(PATH) == "first"

    def test_a_writer_with_a_stale_version_is_refused(self, backend: SecretBackend) -> None:
        # Two people both saw version 1; the first to save wins, the second must look again.
        backend.write(PATH, "v1", expect_version=0)
        backend.write(PATH, "alice's", expect_version=1)

        with pytest.raises(VersionConflict):
            backend.write(PATH, "bob's", expect_version=1)
        assert backend.read(PATH) == "alice's"
        assert backend.current_version(PATH) == 2

    def test_an_older_version_can_still_be_read(self, backend: SecretBackend) -> None:
        backend.write(PATH, "old", expect_version=0)
        backend.write(PATH, "new", expect_version=1)

        assert backend.read(PATH, version=1) == "old"
        assert backend.read(PATH, version=2) == "new"

    def test_a_missing_secret_is_an_error_not_none(self, backend: SecretBackend) -> None:
        with pytest.raises(SecretNotFound):
            backend.read("nobody/password")

    def test_a_version_never_written_is_not_found(self, backend: SecretBackend) -> None:
        backend.write(PATH, "only", expect_version=0)

        with pytest.raises(SecretNotFound):
            backend.read(PATH, version=2)

    def test_discarding_the_newest_version_brings_back_the_previous(
        self, backend: SecretBackend
    ) -> None:
        # A command wrote version 2, then failed to record it in the register: it discards v2.
        backend.write(PATH, "kept", expect_version=0)
        backend.write(PATH, "failed command's", expect_version=1)

        backend.discard(PATH, 2)

        assert backend.read(PATH) == "kept"
        with pytest.raises(SecretNotFound):
            backend.read(PATH, version=2)
        # The counter remembers version 2, so the next writer must expect 2.
        assert backend.current_version(PATH) == 2
        assert backend.write(PATH, "next", expect_version=2) == 3
        assert backend.read(PATH) == "next"

    def test_discarding_the_only_version_leaves_nothing_to_read(
        self, backend: SecretBackend
    ) -> None:
        backend.write(PATH, "short-lived", expect_version=0)

        backend.discard(PATH, 1)

        with pytest.raises(SecretNotFound):
            backend.read(PATH)
        assert backend.current_version(PATH) == 1

    def test_discarding_an_older_version_keeps_the_newest(self, backend: SecretBackend) -> None:
        backend.write(PATH, "old", expect_version=0)
        backend.write(PATH, "new", expect_version=1)

        backend.discard(PATH, 1)

        assert backend.read(PATH) == "new"
        with pytest.raises(SecretNotFound):
            backend.read(PATH, version=1)

    def test_delete_forgets_every_version(self, backend: SecretBackend) -> None:
        backend.write(PATH, "a", expect_version=0)
        backend.write(PATH, "b", expect_version=1)

        backend.delete(PATH)

        assert backend.current_version(PATH) == 0
        for version in (None, 1, 2):
            with pytest.raises(SecretNotFound):
                backend.read(PATH, version=version)
        assert backend.write(PATH, "fresh start", expect_version=0) == 1

    def test_deleting_a_path_never_written_is_harmless(self, backend: SecretBackend) -> None:
        backend.delete("never/written")

        assert backend.current_version("never/written") == 0

    @pytest.mark.parametrize(
        "value",
        [
            pytest.param("pässwörd 🔐 пароль 密码", id="unicode"),
            pytest.param(RECOVERY_CODES, id="recovery-codes-with-newlines"),
            pytest.param("x" * 10_000, id="10kB"),
            pytest.param("  spaces kept  ", id="surrounding-spaces"),
            pytest.param('"quotes" \\ back\\slash = &amp; %s {}', id="punctuation"),
        ],
    )
    def test_any_secret_round_trips_exactly(self, backend: SecretBackend, value: str) -> None:
        backend.write(PATH, value, expect_version=0)

        assert backend.read(PATH) == value

    def test_an_empty_secret_is_refused(self, backend: SecretBackend) -> None:
        with pytest.raises((ValueError, AccessGovError)):
            backend.write(PATH, "", expect_version=0)
        assert backend.current_version(PATH) == 0

    def test_two_organisations_do_not_see_each_other(self, make_backend: MakeBackend) -> None:
        ours, theirs = make_backend(new_org()), make_backend(new_org())

        ours.write(PATH, "ours", expect_version=0)

        assert theirs.current_version(PATH) == 0
        with pytest.raises(SecretNotFound):
            theirs.read(PATH)
        theirs.write(PATH, "theirs", expect_version=0)
        assert ours.read(PATH) == "ours"

    def test_metadata_is_accepted(self, backend: SecretBackend) -> None:
        version = backend.write(PATH, "pw", expect_version=0, metadata={"rotated_by": "vperkins"})

        assert backend.read(PATH, version=version) == "pw"

    def test_location_names_the_path_but_never_the_secret(self, backend: SecretBackend) -> None:
        backend.write(PATH, "hunter2-secret", expect_version=0)

        where = backend.location(PATH)

        assert PATH in where
        assert "hunter2-secret" not in where

    def test_error_messages_never_contain_the_secret(self, backend: SecretBackend) -> None:
        backend.write(PATH, "hunter2-secret", expect_version=0)

        with pytest.raises(VersionConflict) as conflict:
            backend.write(PATH, "hunter3-secret", expect_version=0)
        with pytest.raises(SecretNotFound) as missing:
            backend.read(PATH, version=9)

        for message in (str(conflict.value), str(missing.value)):
            assert "hunter" not in message
            assert "\n" not in message
