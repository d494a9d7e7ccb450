"""Secrets in the operating system's keyring, through the keyring library.

Service `accessgov/<org-slug>`, username the secret's path, so the platform's own tools find
the current value (`secret-tool lookup service accessgov/interact username x/password`).
A keyring stores one password per (service, username), so versions live in extra entries:

    <path>           the current value (what other tools read)
    <path>@v<N>      version N's value, until discarded or deleted
    <path>@version   the newest version number ever written (the check-and-set counter)

The keyring class was chosen once, at `init`, and is instantiated directly: asking keyring to
choose (`keyring.get_keyring()`) scans every installed plugin and costs ~370 ms per command.
"""

from __future__ import annotations

import contextlib
import importlib
import re
import sys
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from accessgov.common import validate
from accessgov.errors import AccessGovError, BackendUnavailable, InputError
from accessgov.secrets.base import (
    SecretBackend,
    SecretNotFound,
    VersionConflict,
    check_path,
    check_value,
)
from accessgov.secrets.spec import InitOption, Settings

if TYPE_CHECKING:
    from accessgov.secrets.config import BackendConfig

# Keyrings that would lose secrets (null), refuse every call (fail), or keep them in plain text.
REFUSED_CLASSES = {
    "keyring.backends.null.Keyring": "the null keyring is configured, and it throws secrets away",
    "keyring.backends.fail.Keyring": "keyring found no usable backend",
    "keyrings.alt.file.PlaintextKeyring": "the only keyring available keeps secrets in plain text",
}

# The platform's own keyring, whose `priority` says why it cannot run when nothing is usable.
NATIVE_CLASSES = {
    "darwin": "keyring.backends.macOS.Keyring",
    "win32": "keyring.backends.Windows.WinVaultKeyring",
}
DEFAULT_NATIVE_CLASS = "keyring.backends.SecretService.Keyring"

LOCKED_MESSAGE = (
    "the keyring is locked: unlock it (log in to the desktop, or run"
    " gnome-keyring-daemon --unlock) and try again"
)

# A harmless lookup that proves the keyring answers (nothing is ever stored under it).
CHECK_USERNAME = "accessgov-check"

# A path may not end like one of our own bookkeeping entries.
_RESERVED_SUFFIX = re.compile(r"@(version|v[0-9]+)$")

# -- the backend as accessgov init offers it, and the settings it keeps in the register ----------

SUMMARY = ("The operating system's keyring (Secret Service, macOS Keychain or Windows "
           "Credential Locker); the best one here is found at init.")
# Nothing to ask: the keyring to use is found at init, and kept (see `configure`).
OPTIONS: tuple[InitOption, ...] = ()


def configure(given: Mapping[str, str | None]) -> Settings:
    """At init: the best usable keyring here, kept so that later commands skip the search."""
    return {"keyring_class": choose_keyring_class()}


def read_settings(stored: Mapping[str, str | None]) -> Settings:
    """The keyring class chosen at init (None: choose again at first use)."""
    return {"keyring_class": stored.get("keyring_class")}


def open_store(config: BackendConfig) -> KeyringBackend:
    """The keyring store `config` describes; the keyring is not touched yet."""
    return KeyringBackend(config)


class KeyringBackend(SecretBackend):
    """The OS keyring (Secret Service, macOS Keychain, Windows Credential Locker)."""

    name = "keyring"

    def __init__(self, config: BackendConfig) -> None:
        self._service = f"accessgov/{config.org_slug}"
        self._class_path = config.settings.get("keyring_class")
        self._ring: Any = None

    # -- the interface -------------------------------------------------------------------

    def check(self) -> None:
        """Touch the keyring: raises BackendUnavailable if it is missing, locked or broken."""
        self._get(CHECK_USERNAME)

    def location(self, path: str) -> str:
        """The service and user names the platform's keyring tools search by."""
        return f"keyring service {self._service}, user {path}"

    def current_version(self, path: str) -> int:
        """The newest version number ever written (discarded ones included); 0 if none."""
        counter = self._get(f"{_checked(path)}@version")
        return int(counter) if counter and validate.digits(counter) else 0

    def read(self, path: str, version: int | None = None) -> str:
        """The current value, or the value of one version; SecretNotFound if there is none."""
        username = _checked(path) if version is None else f"{_checked(path)}@v{int(version)}"
        value = self._get(username)
        if value is None:
            which = f"version {version} of " if version is not None else ""
            raise SecretNotFound(f"no secret at {which}{self.location(path)}")
        return value

    def write(
        self, path: str, value: str, *, expect_version: int, metadata: dict[str, str] | None = None
    ) -> int:
        """Store `value` as the next version if the counter still says `expect_version`.

        Best effort only: a keyring has no transactions, so two writers racing between the
        check and the counter update can both succeed. The order of the three writes keeps a
        crash harmless: an orphan `@v<N>` entry is overwritten by the next write.
        `metadata` is not kept: a keyring entry has no place for it (the register has it).
        """
        check_value(value)
        current = self.current_version(path)
        if current != expect_version or (expect_version == 0 and self._get(path) is not None):
            raise VersionConflict(_conflict_message(self.location(path), expect_version, current))
        version = current + 1
        self._set(f"{path}@v{version}", value)
        self._set(f"{path}@version", str(version))
        self._set(path, value)
        return version

    def discard(self, path: str, version: int) -> None:
        """Remove one version; if it was current, the previous live version becomes current."""
        newest = self.current_version(path)
        self._delete(f"{path}@v{int(version)}")
        if any(self._get(f"{path}@v{later}") is not None for later in range(newest, version, -1)):
            return  # a later version is still current
        for earlier in range(version - 1, 0, -1):
            value = self._get(f"{path}@v{earlier}")
            if value is not None:
                self._set(path, value)
                return
        self._delete(path)

    def delete(self, path: str) -> None:
        """Remove the current value, every version and the counter."""
        newest = self.current_version(path)
        self._delete(path)
        for version in range(1, newest + 1):
            self._delete(f"{path}@v{version}")
        # The counter goes last, so an interrupted delete can be run again to finish.
        self._delete(f"{path}@version")

    # -- talking to the keyring -------------------------------------------------------------

    def _get(self, username: str) -> str | None:
        with _keyring_errors():
            value = self._keyring().get_password(self._service, username)
        # keyring says "absent" with None; an empty string is no secret either.
        return value if isinstance(value, str) and value != "" else None

    def _set(self, username: str, value: str) -> None:
        with _keyring_errors():
            self._keyring().set_password(self._service, username, value)

    def _delete(self, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        # Deleting an entry that is not there raises: for us it is already done.
        with _keyring_errors(), contextlib.suppress(PasswordDeleteError):
            self._keyring().delete_password(self._service, username)

    def _keyring(self) -> Any:
        """The keyring chosen at init, instantiated on first use."""
        if self._ring is None:
            class_path = self._class_path or choose_keyring_class()
            if class_path in REFUSED_CLASSES:
                raise BackendUnavailable(_no_usable(REFUSED_CLASSES[class_path]))
            self._ring = _load_class(class_path)()
        return self._ring


def choose_keyring_class() -> str:
    """The dotted class name of the best usable keyring here, for `init` to store.

    Asks keyring once (the slow entry-point scan) and refuses the null and fail keyrings,
    plain-text ones, and a chainer that holds nothing better, with keyring's own reason.
    """
    import keyring
    from keyring.backends.chainer import ChainerBackend

    try:
        chosen = keyring.get_keyring()
        inside = list(chosen.backends) if isinstance(chosen, ChainerBackend) else [chosen]
        usable = [ring for ring in inside if _class_path(ring) not in REFUSED_CLASSES]
        best = max(usable, key=lambda ring: float(type(ring).priority), default=None)
    # Any exception here comes from a backend's priority check: it is the reason.
    except Exception as exc:
        raise BackendUnavailable(_no_usable(_plain_reason(exc))) from exc
    if best is None:
        raise BackendUnavailable(_no_usable(_why_unusable(_class_path(chosen))))
    return _class_path(best)


def _why_unusable(class_path: str) -> str:
    """keyring's own reason why the platform's native keyring cannot run, if it gives one."""
    if class_path != "keyring.backends.fail.Keyring":
        return REFUSED_CLASSES.get(class_path, "keyring offers only unusable backends")
    native = NATIVE_CLASSES.get(sys.platform, DEFAULT_NATIVE_CLASS)
    try:
        type_ = _load_class(native)
        priority = type_.priority  # raises with the reason when the backend cannot run
    except BackendUnavailable as exc:
        return str(exc)
    except Exception as exc:  # whatever priority raised *is* the reason
        return _plain_reason(exc)
    return f"keyring found no usable backend (the native one has priority {priority})"


def _load_class(class_path: str) -> Any:
    module_name, _, class_name = class_path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise BackendUnavailable(
            f"cannot load the keyring {class_path} chosen at init ({exc}): install it again"
            " on this machine (pip install keyring and its backend)"
        ) from exc


def _class_path(ring: object) -> str:
    return f"{type(ring).__module__}.{type(ring).__qualname__}"


def _no_usable(reason: str) -> str:
    return (f"no usable keyring: {reason}; install one on this machine (a server without a "
            "desktop keeps a new register's secrets in Vault/OpenBao: 'accessgov init "
            "--backend vault')")


@contextlib.contextmanager
def _keyring_errors() -> Iterator[None]:
    """Turn whatever the keyring stack raises into BackendUnavailable with a plain reason."""
    try:
        yield
    except AccessGovError:
        raise
    # keyring, secretstorage, jeepney and the platform APIs raise many unrelated types, none
    # of which may escape as a traceback: every failure of the store is "unavailable".
    except Exception as exc:
        raise BackendUnavailable(_failure_message(exc)) from exc


def _failure_message(exc: Exception) -> str:
    names = {type(cause).__name__ for cause in _causes(exc)}
    if "KeyringLocked" in names:
        return LOCKED_MESSAGE
    if "NoKeyringError" in names:
        return _no_usable("keyring found no usable backend")
    if names & {"InitError", "SecretServiceNotAvailableException"} or isinstance(exc, OSError):
        return (
            f"no Secret Service keyring is running ({_plain_reason(exc)}): log in to a desktop"
            " session or start gnome-keyring-daemon, then try again"
        )
    return f"the keyring failed ({_plain_reason(exc)}): unlock it and try again"


def _plain_reason(exc: BaseException) -> str:
    """One short line saying what went wrong, without a traceback."""
    if isinstance(exc, OSError):
        # A D-Bus address pointing at nothing surfaces as a bare "No such file or directory".
        return f"cannot connect to the D-Bus session bus: {exc.strerror or type(exc).__name__}"
    text = str(exc).strip().splitlines()
    return text[0][:160] if text else type(exc).__name__


def _causes(exc: BaseException) -> Iterator[BaseException]:
    current: BaseException | None = exc
    while current is not None:
        yield current
        current = current.__cause__ or current.__context__


def _checked(path: str) -> str:
    """`path` if valid and not shaped like one of our bookkeeping entries, else InputError."""
    if _RESERVED_SUFFIX.search(check_path(path)):
        raise InputError(f"not a valid secret path: {path!r} (it ends like a version entry)")
    return path


def _conflict_message(location: str, expect_version: int, current: int) -> str:
    if expect_version == 0:
        return f"{location} already holds a secret: someone else wrote it; look again and retry"
    return (
        f"{location} is at version {current}, not {expect_version}: someone else changed it;"
        " look again and retry"
    )
