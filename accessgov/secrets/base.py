"""The one interface every secret store implements.

Paths are relative to the organisation's own area of the store (the backend adds the
`<prefix>/<org-slug>` part or the keyring service name). Every write creates a new numbered
version, and writes are check-and-set: the caller says which version it believes is current
(0 for "must not exist yet"), so two writers cannot silently overwrite each other.
Secrets are `str`; a missing secret is an exception, never `None` or "".
"""

from __future__ import annotations

import abc
import datetime as dt
import re
from typing import TYPE_CHECKING

from accessgov.errors import AccessGovError, BackendUnavailable, InputError

if TYPE_CHECKING:
    from accessgov.secrets.openbao.client import OpenBaoClient
    from accessgov.secrets.openbao.layout import Layout
    from accessgov.secrets.openbao.totp import CodeEngine

# Relative paths only: no empty, "." or ".." segments that could climb out of the org's area.
_PATH_PATTERN = re.compile(r"[A-Za-z0-9_@+-][A-Za-z0-9._@+-]*(/[A-Za-z0-9_@+-][A-Za-z0-9._@+-]*)*")


def check_path(path: str) -> str:
    """`path` if it is a valid relative secret path, else InputError."""
    if not _PATH_PATTERN.fullmatch(path):
        raise InputError(
            f"not a valid secret path: {path!r} (use letters, digits and . _ @ + - between slashes)"
        )
    return path


def check_value(value: str) -> str:
    """`value` if it can be stored: stores read an empty secret back as "missing"."""
    if not isinstance(value, str) or value == "":
        raise InputError("refusing to store an empty secret")
    return value


class SecretNotFound(AccessGovError):
    """The store holds no secret (or no such version) at this path."""


class VersionConflict(AccessGovError):
    """A check-and-set write found a different current version than expected."""


class SecretBackend(abc.ABC):
    """Where credentials, operator TOTP seeds and the audit key live.

    A store whose operators are each their own identity in it (`signs`: OpenBao) also says
    who the token in use belongs to, signs changes with that operator's own key, and gives
    the time; such a store holds no audit key and no operator seed.
    """

    name: str
    signs = False

    @abc.abstractmethod
    def check(self) -> None:
        """Raise BackendUnavailable, with the reason, if the store cannot be used now."""

    @abc.abstractmethod
    def location(self, path: str) -> str:
        """Where `path` lives, in the words the store's own tools use (no secret in it)."""

    @abc.abstractmethod
    def current_version(self, path: str) -> int:
        """The store's latest version number at `path` (what check-and-set compares to),
        counting versions discarded since; 0 if nothing was ever stored there."""

    @abc.abstractmethod
    def read(self, path: str, version: int | None = None) -> str:
        """The secret at `path` (a given version, or the newest); SecretNotFound if absent."""

    @abc.abstractmethod
    def write(
        self, path: str, value: str, *, expect_version: int, metadata: dict[str, str] | None = None
    ) -> int:
        """Store `value` as a new version if the current one is `expect_version`; return it."""

    @abc.abstractmethod
    def discard(self, path: str, version: int) -> None:
        """Remove one version written by a command that then failed to record it."""

    @abc.abstractmethod
    def delete(self, path: str) -> None:
        """Remove every version at `path` (e.g. an operator's TOTP seed on MFA reset)."""

    def annotate(self, path: str, metadata: dict[str, str]) -> None:  # noqa: B027
        """Attach descriptive metadata beside a secret, where the store can keep it
        (Vault's custom metadata); stores without such a place ignore it."""

    def list_paths(self) -> list[str] | None:
        """Every path below the organisation's area that holds (or held) a secret, if the
        store can list them (Vault's KV metadata); None when it cannot (a keyring answers
        lookups only, so whoever reconciles it probes the paths accessgov wrote)."""
        return None

    # -- stores whose operators are each their own identity (`signs`) --------------------

    def operator(self) -> str:
        """The person the store's token belongs to."""
        raise NotImplementedError(f"the {self.name} store has no operators of its own")

    def login(self, person: str, password: str, code: str, ttl: dt.timedelta) -> str:
        """Log `person` in with their password and authenticator code; the new token."""
        raise NotImplementedError(f"the {self.name} store has no operators of its own")

    def logout(self) -> None:
        """Revoke the token in use."""
        raise NotImplementedError(f"the {self.name} store has no operators of its own")

    def use_token(self, token: str) -> None:
        """Act with this token (the operator's session)."""
        raise NotImplementedError(f"the {self.name} store has no operators of its own")

    def sign(self, person: str, message: bytes) -> str:
        """`message` signed with `person`'s own key (only their token may)."""
        raise NotImplementedError(f"the {self.name} store signs nothing")

    def signature_problem(self, person: str, message: bytes, signature: str) -> str | None:
        """Why `signature` is not `person`'s over `message`, if it is not."""
        raise NotImplementedError(f"the {self.name} store signs nothing")

    def openbao(self) -> tuple[OpenBaoClient, Layout] | None:
        """The OpenBao (or Vault) server behind this store and where the organisation lives
        in it, for what only a server can do: tell the time no operator controls, and keep
        the chain head in KV v2, whose versions only go up. None for a store without a
        server of its own (a keyring)."""
        return None

    def code_engine(self) -> CodeEngine | None:
        """Where accounts' TOTP seeds can be kept so that only codes come out (OpenBao's
        TOTP engine); None for a store without one (a keyring)."""
        return None

    def exists(self, path: str, version: int | None = None) -> bool:
        """Whether `version` (default: the newest) of the secret at `path` can still be
        read. This default reads it and drops the value at once; stores that can answer from
        metadata do so."""
        try:
            self.read(path, version)
        except SecretNotFound:
            return False
        return True


__all__ = [
    "BackendUnavailable",
    "SecretBackend",
    "SecretNotFound",
    "VersionConflict",
]
