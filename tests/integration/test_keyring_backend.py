"""KeyringBackend against a real gnome-keyring Secret Service on a private D-Bus bus."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from accessgov.errors import BackendUnavailable, InputError
from accessgov.secrets.base import VersionConflict
from accessgov.secrets.config import BackendConfig
from accessgov.secrets.keyring_backend import KeyringBackend, choose_keyring_class
from tests.secrets.contract import PATH, BackendContract, MakeBackend, new_org
from tests.support import servers

SECRET_SERVICE = "keyring.backends.SecretService.Keyring"


def keyring_backend(org: str | None = None, keyring_class: str = SECRET_SERVICE) -> KeyringBackend:
    """A KeyringBackend for `org` (a fresh one by default) using `keyring_class`."""
    config = BackendConfig(kind="keyring", org_slug=org or new_org(), keyring_class=keyring_class)
    return KeyringBackend(config)


def secret_tool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run libsecret's secret-tool on the bus in DBUS_SESSION_BUS_ADDRESS."""
    return subprocess.run(
        ["secret-tool", *args], input=stdin, capture_output=True, text=True, timeout=30
    )


@pytest.fixture
def fresh_keyring_choice() -> Iterator[None]:
    """Make keyring choose afresh, before and after the test.

    keyring remembers its first answers for the whole process: get_keyring() keeps the
    backend it chose, and get_all_keyring() (decorated with `once`) the backends it found.
    """
    import keyring.backend
    import keyring.core

    def forget() -> None:
        keyring.core._keyring_backend = None
        vars(keyring.backend.get_all_keyring).pop("saved_result", None)

    forget()
    yield
    forget()


@pytest.mark.integration
class TestSecretServiceContract(BackendContract):
    @pytest.fixture
    def make_backend(self, secret_service: servers.SecretServiceSession) -> MakeBackend:
        return keyring_backend


@pytest.mark.integration
class TestInteropWithSecretTool:
    def test_secret_tool_finds_the_current_value(
        self, secret_service: servers.SecretServiceSession
    ) -> None:
        org = new_org()
        backend = keyring_backend(org)
        backend.write(PATH, "first", expect_version=0)
        backend.write(PATH, "second", expect_version=1)

        found = secret_tool("lookup", "service", f"accessgov/{org}", "username", PATH)

        assert found.returncode == 0, found.stderr
        assert found.stdout == "second"
        assert backend.location(PATH) == f"keyring service accessgov/{org}, user {PATH}"

    def test_after_a_discard_secret_tool_finds_the_previous_value(
        self, secret_service: servers.SecretServiceSession
    ) -> None:
        org = new_org()
        backend = keyring_backend(org)
        backend.write(PATH, "kept", expect_version=0)
        backend.write(PATH, "discarded", expect_version=1)

        backend.discard(PATH, 2)

        found = secret_tool("lookup", "service", f"accessgov/{org}", "username", PATH)
        assert found.stdout == "kept"

    def test_a_value_stored_by_hand_is_read_and_not_overwritten(
        self, secret_service: servers.SecretServiceSession
    ) -> None:
        org = new_org()
        stored = secret_tool(
            "store",
            "--label=by hand",
            "service",
            f"accessgov/{org}",
            "username",
            PATH,
            stdin="typed in by hand",
        )
        assert stored.returncode == 0, stored.stderr
        backend = keyring_backend(org)

        assert backend.read(PATH) == "typed in by hand"
        with pytest.raises(VersionConflict, match="already holds a secret"):
            backend.write(PATH, "would overwrite it", expect_version=0)


@pytest.mark.integration
class TestChoosingAKeyring:
    def test_the_running_secret_service_is_chosen(
        self, secret_service: servers.SecretServiceSession, fresh_keyring_choice: None
    ) -> None:
        assert choose_keyring_class() == SECRET_SERVICE

    def test_from_a_chainer_the_best_real_keyring_is_chosen(
        self,
        secret_service: servers.SecretServiceSession,
        monkeypatch: pytest.MonkeyPatch,
        fresh_keyring_choice: None,
    ) -> None:
        import keyring
        from keyring.backends import SecretService, chainer, null

        rings = [null.Keyring(), SecretService.Keyring()]
        monkeypatch.setattr(chainer.ChainerBackend, "backends", rings)
        monkeypatch.setattr(keyring, "get_keyring", chainer.ChainerBackend)

        assert choose_keyring_class() == SECRET_SERVICE

    def test_a_chainer_of_only_unusable_keyrings_is_refused(
        self, monkeypatch: pytest.MonkeyPatch, fresh_keyring_choice: None
    ) -> None:
        import keyring
        from keyring.backends import chainer, fail, null

        monkeypatch.setattr(chainer.ChainerBackend, "backends", [null.Keyring(), fail.Keyring()])
        monkeypatch.setattr(keyring, "get_keyring", chainer.ChainerBackend)

        with pytest.raises(BackendUnavailable, match=r"^no usable keyring: keyring offers only"):
            choose_keyring_class()

    def test_the_null_keyring_is_refused(
        self, monkeypatch: pytest.MonkeyPatch, fresh_keyring_choice: None
    ) -> None:
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")

        with pytest.raises(BackendUnavailable) as refused:
            choose_keyring_class()

        assert str(refused.value) == (
            "no usable keyring: the null keyring is configured, and it throws secrets away;"
            " install one on this machine (a server without a desktop keeps a new register's"
            " secrets in Vault/OpenBao: 'accessgov init --backend vault')"
        )

    def test_without_d_bus_the_reason_is_given(self, fresh_keyring_choice: None) -> None:
        # The autouse fixture points DBUS_SESSION_BUS_ADDRESS at a socket that does not exist.
        with pytest.raises(BackendUnavailable) as refused:
            choose_keyring_class()

        message = str(refused.value)
        assert message.startswith("no usable keyring: cannot connect to the D-Bus session bus")
        assert message.endswith("'accessgov init --backend vault')")

    def test_a_bus_without_a_secret_service_gives_keyrings_own_reason(
        self, bare_bus: str, monkeypatch: pytest.MonkeyPatch, fresh_keyring_choice: None
    ) -> None:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bare_bus)

        with pytest.raises(BackendUnavailable, match="neither running nor activatable"):
            choose_keyring_class()

    @pytest.mark.parametrize(
        "refused_class", ["keyring.backends.null.Keyring", "keyring.backends.fail.Keyring"]
    )
    def test_a_refused_class_stored_at_init_is_refused_at_use(self, refused_class: str) -> None:
        backend = keyring_backend(keyring_class=refused_class)

        with pytest.raises(BackendUnavailable, match=r"^no usable keyring: "):
            backend.check()

    def test_a_class_that_cannot_be_loaded_is_unavailable(self) -> None:
        backend = keyring_backend(keyring_class="keyring.backends.gone.Keyring")

        with pytest.raises(BackendUnavailable, match="cannot load the keyring"):
            backend.read(PATH)


@pytest.fixture
def bare_bus(tmp_path: Path) -> Iterator[str]:
    """The address of a private D-Bus bus on which no Secret Service runs."""
    bus = servers.start_or_skip(servers.start_session_bus, tmp_path / "bare-bus")
    try:
        yield bus.address
    finally:
        bus.stop()


@pytest.fixture
def locked_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A Secret Service of this test's own whose login keyring has been locked."""
    import secretstorage
    from jeepney.io.blocking import open_dbus_connection

    session = servers.start_or_skip(servers.start_secret_service, tmp_path / "locked")
    try:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session.address)
        keyring_backend("locking").write(PATH, "written before the lock", expect_version=0)
        with contextlib.closing(open_dbus_connection(bus=session.address)) as connection:
            secretstorage.get_default_collection(connection).lock()
        yield
    finally:
        session.stop()


@pytest.mark.integration
class TestAnUnusableKeyring:
    def test_a_locked_keyring_says_so(self, locked_keyring: None) -> None:
        backend = keyring_backend("locking")

        for attempt in (
            backend.check,
            lambda: backend.read(PATH),
            lambda: backend.current_version(PATH),
            lambda: backend.write(PATH, "hunter2-secret", expect_version=1),
        ):
            with pytest.raises(BackendUnavailable) as locked:
                attempt()
            assert str(locked.value) == (
                "the keyring is locked: unlock it (log in to the desktop, or run"
                " gnome-keyring-daemon --unlock) and try again"
            )

    def test_no_d_bus_session_is_unavailable(self) -> None:
        # The autouse fixture points DBUS_SESSION_BUS_ADDRESS at a socket that does not exist.
        backend = keyring_backend()

        for attempt in (backend.check, lambda: backend.write(PATH, "pw", expect_version=0)):
            with pytest.raises(BackendUnavailable, match=r"^no Secret Service keyring is running"):
                attempt()

    def test_no_d_bus_address_at_all_is_unavailable(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS")

        with pytest.raises(BackendUnavailable, match=r"^no Secret Service keyring is running"):
            keyring_backend().read(PATH)


@pytest.mark.parametrize("path", ["", "/abs", "a/../b", "a//b", "x@version", "x/password@v2"])
def test_bad_paths_and_our_bookkeeping_names_are_refused(path: str) -> None:
    with pytest.raises(InputError, match="not a valid secret path"):
        keyring_backend().write(path, "pw", expect_version=0)


def test_importing_the_keyring_backend_does_not_import_keyring() -> None:
    script = (
        "import sys, accessgov.secrets.keyring_backend\n"
        "print(sorted(m for m in ('keyring', 'secretstorage', 'hvac') if m in sys.modules))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"


@pytest.mark.integration
def test_a_secret_service_whose_daemon_went_is_started_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On CI the suite's gnome-keyring once left its bus mid-run, and every later keyring test
    of that worker failed. Each test's fixture revives it first: here, on a session of this
    test's own, the daemon is killed, and the keyring works again."""
    session = servers.start_or_skip(servers.start_secret_service, tmp_path / "revived")
    try:
        assert session.revive() is False  # answering: left as it is
        session.keyring_daemon.kill()
        session.keyring_daemon.wait()
        assert session.revive() is True
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session.address)
        backend = keyring_backend()
        backend.write(PATH, "written after the revival", expect_version=0)
        assert backend.read(PATH) == "written after the revival"
    finally:
        session.stop()
