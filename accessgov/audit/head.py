"""The chain head in the secret store: a register put back from an older copy is refused.

After every change that writes audit events, the newest event's sequence and mac are written
to the secret store at `audit/head` with check-and-set: in OpenBao as a KV v2 record (through
`accessgov.secrets.openbao.head`, no hvac), elsewhere as one JSON secret through the store's
own versions (the keyring emulates them; only the newest is kept there). Before every change,
and in `audit verify`, the register is compared with that record.

Content alone cannot tell a copy from the original when every operator may write the record:
an insider who puts last week's register back can also write last week's head back. The
store's version can: it only goes up, and no operator can make it go down. So each change
also records, in the register, in the same transaction and under the same seal as its events,
the version its record write will produce (`audit_head_version`: the version it read, plus
one, since check-and-set makes exactly that). A copy of the register remembers an older
version than the store has. A refused attempt (a wrong code, no authority) moves the record
too, so that putting back a copy cannot erase it, but leaves the register's version alone, so
that it changes nothing but its own event: each adds one event and at most one version, which
bounds how far the store may be ahead of the recorded version.

Why the record is written after COMMIT, not inside the transaction like other store writes:
written before, a change that then failed to commit (a crash, a full disk) would leave the
store one change ahead of an honest register, exactly as a copy from just before the last
change would look, so either the honest register is stranded or that copy is let through (a
"withdrawn" record written on rollback does not help: an insider can write that too). Written
after, a failed write leaves the store one version behind, never ahead, and the register
still says which version it expected. So the judgement (`problem`) is, with V the version the
register recorded and N the number of events (refused attempts) after the one that sealed V:

- the head the record names is not an event of this register's own chain, or the record's
  version is above V + N: changes this register does not have were recorded since:
  **restored from a copy?**, refused;
- the version is from V - 1 (that change's own write failed, or a change running at the same
  moment won the race) to V + N, and it names one of our events: accepted; the next change's
  write catches the store up;
- the record erased, or reset below V - 1: refused.

A register made before this check (no `audit_head_version`) is judged by content alone until
its next change records its first head. What this cannot see: a copy put back while the
record write of every change since the copy was taken failed (each said so in a warning).
Restoring a real backup is a deliberate, audited step that moves the record.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from typing import TYPE_CHECKING, Protocol

from accessgov.db.queries import events
from accessgov.db.register import Register
from accessgov.errors import AccessGovError
from accessgov.secrets.base import SecretBackend, SecretNotFound, VersionConflict
from accessgov.secrets.openbao.head import Head, RolledBack, StoredHead
from accessgov.secrets.openbao.layout import HEAD_PATH

if TYPE_CHECKING:
    from accessgov.secrets.openbao.client import OpenBaoClient
    from accessgov.secrets.openbao.layout import Layout

VERSION_SETTING = "audit_head_version"  # the store version this register's last change wrote
ADOPTED = "head_adopted"  # in Operation.facts: what a deliberate restore built over

__all__ = ["ADOPTED", "HEAD_PATH", "VERSION_SETTING", "HeadRecord", "Moving", "RolledBack",
           "Tracker", "check", "problem", "record_of"]


class HeadRecord(Protocol):
    """Where the chain head is kept: read it with its version, or move it by check-and-set."""

    def read(self) -> StoredHead: ...

    def write(self, head: Head, expect_version: int) -> int: ...

    def where(self) -> str: ...


class KvRecord:
    """The head in OpenBao's KV v2 (`<prefix>/<org>/audit/head`), one request each way."""

    def __init__(self, client: OpenBaoClient, layout: Layout) -> None:
        self.client = client
        self.layout = layout

    def read(self) -> StoredHead:
        """The record and its KV version."""
        from accessgov.secrets.openbao import head

        return head.read_head(self.client, self.layout)

    def write(self, head: Head, expect_version: int) -> int:
        """The next KV version, if the current one is still `expect_version`."""
        from accessgov.secrets.openbao import head as kv

        return kv.write_head(self.client, self.layout, head, expect_version)

    def where(self) -> str:
        """The record's KV path, as `bao kv get` takes it."""
        return f"{self.layout.kv_mount}/{self.layout.area}/{HEAD_PATH}"


class StoreRecord:
    """The head as one JSON secret in any secret store, moved by the store's check-and-set.

    Only the newest version is kept (a keyring holds each version as an entry of its own,
    and a register makes thousands of changes); the version counter still only goes up.
    """

    def __init__(self, store: SecretBackend) -> None:
        self.store = store

    def read(self) -> StoredHead:
        """The record and its version (a record that cannot be read names no head)."""
        version = self.store.current_version(HEAD_PATH)
        if version == 0:
            return StoredHead(None, 0)
        try:
            return StoredHead(_parsed(self.store.read(HEAD_PATH, version)), version)
        except SecretNotFound:
            return StoredHead(None, version)

    def write(self, head: Head, expect_version: int) -> int:
        """Store `head` as the next version; the one before it is no longer needed."""
        version = self.store.write(HEAD_PATH, json.dumps(dataclasses.asdict(head)),
                                   expect_version=expect_version)
        if expect_version:
            with contextlib.suppress(AccessGovError):
                self.store.discard(HEAD_PATH, expect_version)
        return version

    def where(self) -> str:
        """The record's place, in the store's own words."""
        return self.store.location(HEAD_PATH)


def record_of(store: SecretBackend) -> HeadRecord:
    """Where `store` keeps the chain head: OpenBao's KV v2 if it has a server, else itself."""
    server = store.openbao()
    return KvRecord(*server) if server is not None else StoreRecord(store)


def problem(register: Register, stored: StoredHead, where: str) -> str | None:
    """Why this register cannot be trusted against the head record (None when it can): see
    the module docstring for each case."""
    newest = events.head(register)
    sequence = int(newest["seq"]) if newest else 0
    noted = events.recorded_head_version(register, VERSION_SETTING)
    recorded = int(noted["value"]) if noted and str(noted["value"]).isdigit() else None
    since = sequence - int(noted["sealed_seq"] or sequence) if noted else 0
    head = stored.head
    if head is None:
        if stored.version == 0 and (recorded or 0) <= 1:
            return None  # nothing recorded yet, or the first record was never written
        return (f"the record of the audit chain's head is gone from the secret store "
                f"({where}), though this register's last change wrote version {recorded}: it "
                "was deleted, and a register put back from a copy can no longer be told apart")
    ahead = recorded is not None and stored.version > recorded + since
    if ahead or not events.holds(register, head.sequence, head.digest):
        return (f"this register is older than its last recorded change: restored from a copy? "
                f"(its newest event is {sequence}; the secret store's record of the chain head "
                f"names event {head.sequence}, version {stored.version}, at {where})")
    if recorded is not None and stored.version < recorded - 1:
        return (f"the record of the audit chain's head ({where}) is at version "
                f"{stored.version}, but this register's last change wrote version {recorded}:"
                " the record was reset in the secret store")
    return None


def check(register: Register, record: HeadRecord) -> StoredHead:
    """The head record, after checking the register against it (RolledBack if it fails)."""
    stored = record.read()
    if found := problem(register, stored, record.where()):
        raise RolledBack(f"{found}; nothing can be changed until this is put right (see "
                         "'accessgov audit verify')")
    return stored


class Tracker:
    """One change's part in the head: checked under the write lock before anything else,
    noted in the register just before a change's events are sealed, and written to the
    store once the register has committed."""

    def __init__(self, record: HeadRecord) -> None:
        self.record = record
        self.stored: StoredHead | None = None
        self.moves = False

    def check(self, register: Register) -> None:
        """Refuse a register that is behind the record (RolledBack)."""
        self.stored = check(register, self.record)

    def adopt(self, register: Register) -> dict[str, object]:
        """A deliberate restore (accessgov.governance.restore): read the record without
        judging the register against it, so that this change moves it to the register's
        head; what the record said, and the register's own head, for the restore's event."""
        self.stored = self.record.read()
        newest = events.head(register)
        head = self.stored.head
        return {"sequence": head.sequence if head else 0, "version": self.stored.version,
                "actor": head.actor if head else "",
                "restored_head": int(newest["seq"]) if newest else 0,
                "problem": problem(register, self.stored, self.record.where())}

    def note(self, register: Register) -> None:
        """A change with events to seal: record in the register, sealed with them, the
        version this change's head write will produce."""
        if self.stored is not None:
            register.set_setting(VERSION_SETTING, str(self.stored.version + 1))
            self.moves = True

    def note_attempt(self) -> None:
        """A refused attempt put on record: the head moves, the register's version stays."""
        self.moves = self.stored is not None

    def publish(self, register: Register, actor: str) -> list[str]:
        """After the commit: move the record to the register's new head. A failure leaves the
        store one version behind, which the next change accepts and repairs; it comes back as
        a warning. A lost race needs no word: the winner's head is one of ours."""
        if not self.moves or self.stored is None:
            return []
        return _published(self.record, register, actor, self.stored.version)


class Moving(Tracker):
    """The change that moves the register to another secret store (accessgov.governance.
    store_move): judged against the old store's record like any change, and then both
    records are moved to its head: the new store's, by which the register is judged from
    now on (its first version), and the old store's, so that a copy of the register from
    before the move, which still points there, is refused there too."""

    def __init__(self, record: HeadRecord, new_record: HeadRecord) -> None:
        super().__init__(record)
        self.new_record = new_record
        self.new_stored: StoredHead | None = None
        self.switched = False

    def check(self, register: Register) -> None:
        """Refuse a register behind the old record, or a new store that records a head."""
        super().check(register)
        self.new_stored = self.new_record.read()
        if self.new_stored.version or self.new_stored.head is not None:
            raise RolledBack(
                f"the new secret store already records an audit chain's head "
                f"({self.new_record.where()}): it belongs to another register (or an earlier "
                "move); move to an empty area")

    def note(self, register: Register) -> None:
        """The version the new store's first record will be is the one the register keeps."""
        if self.new_stored is not None:
            register.set_setting(VERSION_SETTING, str(self.new_stored.version + 1))
            self.moves = self.switched = True

    def publish(self, register: Register, actor: str) -> list[str]:
        """After the commit: the new record first (the register is judged by it now), then
        the old one; a refused attempt moves the old one only."""
        warnings: list[str] = []
        if self.switched and self.new_stored is not None:
            warnings += _published(self.new_record, register, actor, self.new_stored.version)
        if self.moves and self.stored is not None:
            warnings += _published(self.record, register, actor, self.stored.version)
        return warnings


def _published(record: HeadRecord, register: Register, actor: str, expect: int) -> list[str]:
    """Move `record` to the register's new head. A failure leaves the store one version
    behind, which the next change accepts and repairs; it comes back as a warning. A lost
    race needs no word: the winner's head is one of ours."""
    newest = events.head(register)
    if newest is None:
        return []
    head = Head(sequence=int(newest["seq"]), digest=str(newest["mac"]), actor=actor)
    try:
        record.write(head, expect)
    except VersionConflict:
        return []
    except AccessGovError as error:
        return [f"the change is saved, but the audit chain's head could not be recorded in "
                f"the secret store ({error}); the next change records it"]
    return []


def _parsed(text: str) -> Head | None:
    """The head a JSON record names, or None if it is not one accessgov wrote."""
    try:
        data = json.loads(text)
        return Head(sequence=int(data["sequence"]), digest=str(data["digest"]),
                    actor=str(data.get("actor") or ""),
                    signature=str(data.get("signature") or ""))
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
