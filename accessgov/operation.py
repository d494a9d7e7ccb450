"""One change to the register: the unit of work every core function receives.

An `Operation` carries what a change needs and nothing about any rule: the register inside
its open transaction, the moment it happens, who claims to act (and the code they typed),
the secret store, and a journal that seals its audit events. The rules themselves (who may
act, how a code is checked, what an event says) live in the modules that use it; the
Workspace builds one per command and commits or undoes it as a whole.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from accessgov.common import actors
from accessgov.common.timeutil import iso, today
from accessgov.db import seals
from accessgov.db.queries import people, records
from accessgov.db.register import Location, Register, Row
from accessgov.errors import MfaRequired
from accessgov.secrets.base import SecretBackend

SETUP_ACTOR = actors.SETUP
SYSTEM_ACTOR = actors.SYSTEM


class Journal(Protocol):
    """Where an operation's audit events go (the sealed chain, in the same transaction)."""

    def append(self, at: str, actor: str, action: str, subject: str,
               details: Mapping[str, Any]) -> None: ...

    def commit(self) -> None: ...

    def discard(self) -> None: ...


@dataclasses.dataclass(frozen=True)
class Proof:
    """How the operator proved who they are for this command."""

    method: str  # "totp", "session", or "openbao" (a login token from elsewhere)
    reference: str  # the time step of the code, the session id, or the token's accessor

    def describe(self) -> str:
        """`totp code`, `session S-0003` or `openbao login`, as stored on approval records."""
        if self.method == "totp":
            return "totp code"
        return f"session {self.reference}" if self.method == "session" else "openbao login"


@dataclasses.dataclass(frozen=True)
class Seat:
    """Where the command runs: the register file and this user's session folder."""

    db_path: Location
    runtime_folder: Path
    read_ticket: Callable[[], Any]  # the session ticket on this machine, or None


class Operation:
    """The register, the clock, the claimed operator and the store, for one transaction."""

    def __init__(self, register: Register, journal: Journal, now: dt.datetime, *,
                 trust: seals.Trust, operator_id: str | None, code: str | None,
                 store: Callable[[], SecretBackend], seat: Seat) -> None:
        self.register = register
        self.journal = journal
        self.trust = trust
        self.now = now
        self.at = iso(now)
        self.today = today(now)
        self.operator_id = operator_id
        self.code = code
        self.seat = seat
        self.proof: Proof | None = None
        self.attempt: tuple[str, str] | None = None  # (action, subject) being decided
        self.facts: dict[str, object] = {}  # what this change has established once
        self._store = store
        self._undo: list[Callable[[], None]] = []
        self._after_commit: list[Callable[[], None]] = []
        self._warnings: list[str] = []

    @property
    def actor(self) -> str:
        """The name audit events carry for this operation."""
        return self.operator_id or SETUP_ACTOR

    @functools.cached_property
    def operator(self) -> Row:
        """The operator's person record; refuses when nobody is named."""
        if self.operator_id is None:
            raise MfaRequired(
                "name the person acting with --as PERSON (or run 'accessgov login --as PERSON')"
            )
        return people.get(self.register, self.operator_id)

    @functools.cached_property
    def store(self) -> SecretBackend:
        """The secret store this register was set up with."""
        return self._store()

    # -- the secret store -------------------------------------------------------------------

    def write_secret(self, path: str, value: str, *, expect_version: int,
                     metadata: dict[str, str] | None = None) -> int:
        """Write to the secret store; the version is discarded again if this operation
        does not commit, so the register never claims less than the store holds."""
        store = self.store
        version = store.write(path, value, expect_version=expect_version, metadata=metadata)
        self.on_rollback(lambda: store.discard(path, version))
        return version

    def on_rollback(self, undo: Callable[[], None]) -> None:
        """Run `undo` if this operation does not commit (files or store writes it made)."""
        self._undo.append(undo)

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run `action` once the register has committed (removals from the store: the
        register must never claim a secret the store no longer holds)."""
        self._after_commit.append(action)

    def undo_side_effects(self) -> None:
        """Best effort: remove what this operation wrote to the store before it failed."""
        while self._undo:
            with contextlib.suppress(Exception):
                self._undo.pop()()
        self._after_commit.clear()

    def warn(self, message: str) -> None:
        """Something the operator should know once the change has committed."""
        self._warnings.append(message)

    def run_after_commit(self) -> list[str]:
        """Carry out the removals that had to wait for the commit. The change stands even if
        one fails (it only leaves an unused secret behind), so failures come back as text,
        after the change's own warnings."""
        problems = list(self._warnings)
        while self._after_commit:
            try:
                self._after_commit.pop(0)()
            except Exception as error:  # the store is down: the change is already committed
                problems.append(str(error))
        return problems

    # -- recording -------------------------------------------------------------------------

    def record(self, action: str, subject: str, **details: Any) -> None:
        """Append one audit event for this operation (details never hold a secret)."""
        if self.proof is not None:
            details.setdefault("verified_by", self.proof.describe())
        clean = {key: value for key, value in details.items() if value is not None}
        self.journal.append(self.at, self.actor, action, subject, clean)

    def record_system(self, action: str, subject: str, **details: Any) -> None:
        """An event accessgov itself causes (a grant reaching its end date)."""
        self.journal.append(self.at, SYSTEM_ACTOR, action, subject, details)

    def next_id(self, table: str, prefix: str) -> tuple[str, int]:
        """The next short human id for `table` (G-0001, D-0001, S-0001)."""
        number = records.next_number(self.register, table)
        return f"{prefix}-{number:04d}", number
