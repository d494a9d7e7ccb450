"""The tamper-evident audit log: an HMAC-SHA256 hash chain over every change.

Each event's `details` is stored as the exact canonical JSON text that was hashed, and the
mac covers the stored strings themselves (length-prefixed, so fields cannot bleed into each
other), so `verify` hashes what it reads without re-serialising anything. The key is random,
lives only in the secret backend, and never appears in the register.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from accessgov.db import seals
from accessgov.db.queries import events as event_rows
from accessgov.db.register import Register, Row

KEY_PATH = "audit/key"
GENESIS = "0" * 64


def new_key() -> str:
    """A fresh 256-bit audit key, as text for the secret backend."""
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def decode_key(text: str) -> bytes:
    """The key bytes from the text stored in the backend."""
    return base64.b64decode(text.encode("ascii"), validate=True)


def canonical_details(details: Mapping[str, Any]) -> str:
    """The one JSON spelling of `details` that is stored and hashed."""
    return json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _message(seq: int, at: str, actor: str, action: str, subject: str, details: str,
             prev: str, rows: str) -> bytes:
    # Each field as `<length>:<text>;`, spelt out rather than joined in a loop: verify runs
    # this for every event of the log.
    number = str(seq)
    text = (f"{len(number)}:{number};{len(at)}:{at};{len(actor)}:{actor};"
            f"{len(action)}:{action};{len(subject)}:{subject};{len(details)}:{details};"
            f"{len(prev)}:{prev};")
    if rows:  # events from before row lists keep the message they were sealed with
        text += f"{len(rows)}:{rows};"
    return text.encode("utf-8")


def compute_mac(key: bytes, seq: int, at: str, actor: str, action: str, subject: str,
                details: str, prev: str, rows: str = "") -> str:
    """HMAC-SHA256 of one event and the previous event's mac."""
    message = _message(seq, at, actor, action, subject, details, prev, rows)
    return hmac.digest(key, message, hashlib.sha256).hex()


def event_is_sealed(key: bytes, event: Mapping[str, Any]) -> bool:
    """Whether one stored event carries the mac accessgov gave it (its place in the chain is
    what `verify` checks)."""
    expected = compute_mac(key, event["seq"], event["at"], event["actor"], event["action"],
                           event["subject"], event["details"], event["prev"], event["rows"])
    return hmac.compare_digest(str(event["mac"]), expected)


class AuditLog:
    """Collects one change's events, then writes them, sealed, with the rows they explain.

    Nothing is written until `commit`, inside the caller's transaction: the last event of
    the change carries the list of rows the change wrote, and those rows are sealed with it.
    """

    def __init__(self, register: Register, keys: seals.Keys) -> None:
        self._register = register
        self._keys = keys
        self._pending: list[tuple[str, str, str, str, str]] = []

    def append(self, at: str, actor: str, action: str, subject: str,
               details: Mapping[str, Any]) -> None:
        """Add one event to this change (written, numbered and sealed by `commit`)."""
        self._pending.append((at, actor, action, subject, canonical_details(details)))

    @property
    def pending(self) -> int:
        """How many events wait for `commit`."""
        return len(self._pending)

    def commit(self) -> None:
        """Write the events after the current head and seal the rows the change wrote."""
        if not self._pending:
            if seals.touched(self._register):
                raise AssertionError("a change wrote sealed rows without an audit event")
            return
        seq, prev = self._head()
        rows = seals.seal_touched(self._keys.rows, self._register, seq + len(self._pending))
        events = []
        for number, (at, actor, action, subject, text) in enumerate(self._pending, start=1):
            seq += 1
            listed = rows if number == len(self._pending) else ""
            mac = compute_mac(self._keys.chain, seq, at, actor, action, subject, text, prev,
                              listed)
            events.append((seq, at, actor, action, subject, text, prev, mac, listed))
            prev = mac
        event_rows.append(self._register, events)
        self._pending.clear()

    def discard(self) -> None:
        """Forget events of a change that was abandoned."""
        self._pending.clear()

    def _head(self) -> tuple[int, str]:
        self._register.lock_chain_head()
        head = event_rows.head(self._register)
        return (head["seq"], head["mac"]) if head else (0, GENESIS)


@dataclasses.dataclass(frozen=True)
class Head:
    """The last event of a chain: what an anchor file records."""

    seq: int
    mac: str


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What `verify` found: how many events checked out and the first bad one, if any."""

    events: int
    head: Head | None
    bad_seq: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """True when the whole chain checked out."""
        return self.bad_seq is None


def verify_events(key: bytes, events: Iterable[tuple[Any, ...]],
                  anchor: Head | None = None) -> Verdict:
    """Recompute the chain over (seq, at, actor, action, subject, details, prev, mac, rows)
    rows, in seq order. An anchor (an earlier head) must still be present, unchanged."""
    expected_seq, prev, count = 1, GENESIS, 0
    anchor_seen = anchor is None
    for seq, at, actor, action, subject, details, stored_prev, mac, rows in events:
        problem = None
        if seq != expected_seq:
            problem = f"event {expected_seq} before it is missing (deleted or renumbered)"
        elif stored_prev != prev:
            problem = ("it does not follow the event before it "
                       "(events deleted, inserted or reordered)")
        elif mac != hmac.digest(key, _message(seq, at, actor, action, subject, details, prev,
                                               rows), "sha256").hex():
            problem = "its contents do not match its seal (the event was altered)"
        if problem:
            return Verdict(count, Head(seq, mac), bad_seq=seq, problem=problem)
        if anchor is not None and seq == anchor.seq:
            if mac != anchor.mac:
                return Verdict(count, Head(seq, mac), bad_seq=seq,
                               problem="it differs from the anchored head (history rewritten)")
            anchor_seen = True
        expected_seq, prev, count = seq + 1, mac, count + 1
    head = Head(expected_seq - 1, prev) if count else None
    if not anchor_seen and anchor is not None:
        return Verdict(count, head, bad_seq=anchor.seq,
                       problem="the anchored event is gone (the log was truncated)")
    return Verdict(count, head)


def verify(register: Register, key: bytes, anchor: Head | None = None) -> Verdict:
    """Check the register's whole audit chain."""
    return verify_events(key, event_rows.chain(register), anchor)


def events(register: Register, *, limit: int | None = None, subject: str | None = None,
           action: str | None = None) -> list[Row]:
    """Events newest-last, optionally only the last `limit`, one subject or one action."""
    return event_rows.listing(register, limit=limit, subject=subject, action=action)
