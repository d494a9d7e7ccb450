"""The tamper-evident audit log: a hash chain over every change, sealed in one of two ways.

Each event's `details` is stored as the exact canonical JSON text that was hashed, and the
mac covers the stored strings themselves (length-prefixed, so fields cannot bleed into each
other) and the previous event's mac, so `verify` hashes what it reads without re-serialising
anything.

- **Keyed** (the keyring, or a Vault every operator shares): each mac is an HMAC-SHA256 with
  a random key that lives only in the secret store and never appears in the register.
- **Signed** (OpenBao, each operator their own identity): nobody holds a shared key. Each mac
  is a SHA-256, and the last event of every change is signed by the operator who made it,
  with a key only their own token may use (`signer`, `signature`); the events before it in
  the change are chained into it. A signature is checked against the public keys the store
  gives, so a change written behind the log names its signer, and cannot name another.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from accessgov.common import actors
from accessgov.common.compact_json import compact_encoder
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


_CANONICAL = compact_encoder(sort_keys=True, ensure_ascii=False)


def canonical_details(details: Mapping[str, Any]) -> str:
    """The one JSON spelling of `details` that is stored and hashed (json.dumps with
    sort_keys, compact separators, and text as it is)."""
    return _CANONICAL(details)


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


def event_message(event: Mapping[str, Any]) -> bytes:
    """What one stored event's mac covers."""
    return _message(event["seq"], event["at"], event["actor"], event["action"],
                    event["subject"], event["details"], event["prev"], event["rows"])


class KeyedEventSeals:
    """An HMAC chain with the audit key (see the module docstring)."""

    signed = False

    def __init__(self, key: bytes) -> None:
        self._key = key
        # Copied per event: cheaper than `hmac.digest` starting from the key each time.
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)

    def mac(self, message: bytes) -> str:
        mac = self._keyed.copy()
        mac.update(message)
        return mac.hexdigest()

    def sign(self, mac: str) -> tuple[str, str] | None:
        return None

    def holds(self, event: Mapping[str, Any]) -> bool:
        return hmac.compare_digest(str(event["mac"]), self.mac(event_message(event)))


Signer = Callable[[bytes], tuple[str, str]]  # a change's last mac -> (signer, signature)
# (signer, the signed bytes, signature) -> None if it holds, else why not
SignatureCheck = Callable[[str, bytes, str], str | None]


class SignedEventSeals:
    """A SHA-256 chain whose changes are signed by their actors (see the module docstring).

    `signer` signs with the operator's own key (None where this process only verifies);
    `check` verifies a signature against the public keys the store holds for the signer.
    """

    signed = True

    def __init__(self, signer: Signer | None, check: SignatureCheck) -> None:
        self._signer = signer
        self._check = check
        self._verified: set[tuple[str, str]] = set()

    def mac(self, message: bytes) -> str:
        return hashlib.sha256(message).hexdigest()

    def sign(self, mac: str) -> tuple[str, str] | None:
        if self._signer is None:
            raise AssertionError("a register whose changes are signed was changed without "
                                 "a signer")
        return self._signer(mac.encode("ascii"))

    def signature_problem(self, signer: str | None, mac: str, signature: str | None
                          ) -> str | None:
        """Why a change's signature does not hold, if it does not (each checked once)."""
        if not signer or not signature:
            return "it is not signed"
        if (signer, signature) in self._verified:
            return None
        problem = self._check(signer, mac.encode("ascii"), signature)
        if problem is None:
            self._verified.add((signer, signature))
        return problem

    def holds(self, event: Mapping[str, Any]) -> bool:
        mac = str(event["mac"])
        if not hmac.compare_digest(mac, self.mac(event_message(event))):
            return False
        signature = event.get("signature")
        return signature is None or \
            self.signature_problem(event.get("signer"), mac, signature) is None


EventSealing = KeyedEventSeals | SignedEventSeals


def keyed_trust(audit_key: bytes) -> seals.Trust:
    """The trust of a register sealed with an audit key."""
    keys = seals.Keys.derive(audit_key)
    return seals.Trust(KeyedEventSeals(keys.chain), seals.KeyedRowSeals(keys.rows),
                       keys.sessions)


def signed_trust(signer: Signer | None, check: SignatureCheck) -> seals.Trust:
    """The trust of a register whose changes are signed by their actors."""
    return seals.Trust(SignedEventSeals(signer, check), seals.ListedRowSeals(), None)


class AuditLog:
    """Collects one change's events, then writes them, sealed, with the rows they explain.

    Nothing is written until `commit`, inside the caller's transaction: the last event of
    the change carries the list of rows the change wrote, and those rows are sealed with it.
    """

    def __init__(self, register: Register, trust: seals.Trust) -> None:
        self._register = register
        self._trust = trust
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
        rows = seals.seal_touched(self._trust.rows, self._register, seq + len(self._pending))
        sealing = self._trust.events
        events: list[tuple[Any, ...]] = []
        for number, (at, actor, action, subject, text) in enumerate(self._pending, start=1):
            seq += 1
            listed = rows if number == len(self._pending) else ""
            mac = sealing.mac(_message(seq, at, actor, action, subject, text, prev, listed))
            events.append((seq, at, actor, action, subject, text, prev, mac, listed, None,
                           None))
            prev = mac
        signed = sealing.sign(prev)
        if signed is not None:
            events[-1] = (*events[-1][:-2], *signed)
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
class Proven:
    """How far a signed log was proven before (by this computer's last `audit verify`):
    the head then, and a SHA-256 over the signer and signature of every signed event up to
    it. A chain recomputed to the same head, whose signatures digest to the same value, holds
    the very signatures that were checked then: they need not be checked again."""

    seq: int
    mac: str
    signatures: str


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What `verify` found: how many events checked out and the first bad one, if any.
    `proven`: for a signed log found intact, what a later verify may rely on."""

    events: int
    head: Head | None
    bad_seq: int | None = None
    problem: str | None = None
    proven: Proven | None = None

    @property
    def ok(self) -> bool:
        """True when the whole chain checked out."""
        return self.bad_seq is None


# Actors that are not people: accessgov itself, and an unknown holder of a forged ticket.
# Within a signed change, every event is the signer's or one of these.
_NOT_PEOPLE = (actors.SYSTEM, actors.UNKNOWN)


class _Signatures:
    """The signatures of a signed log as the chain is recomputed: checked as they come, or,
    up to a head proven before, digested and checked only if the digest differs."""

    def __init__(self, sealing: SignedEventSeals, proven: Proven | None) -> None:
        self._sealing = sealing
        self._proven = proven
        self._digest = hashlib.sha256()
        self._deferred: list[tuple[int, str | None, str, str, set[str]]] = []

    def problem(self, seq: int, signer: str | None, mac: str, signature: str,
                actors_seen: set[str]) -> tuple[int, str] | None:
        """The first bad change so far (its seq and why), if any."""
        self._digest.update(f"{seq}\t{signer}\t{signature}\n".encode())
        proven = self._proven
        if proven is not None and seq <= proven.seq:
            self._deferred.append((seq, signer, mac, signature, actors_seen))
            if seq < proven.seq:
                return None
            if mac == proven.mac and self._digest.hexdigest() == proven.signatures:
                self._deferred.clear()  # the very signatures checked before
                return None
            return self.remaining()
        found = _signed_change_problem(self._sealing, signer, mac, signature, actors_seen)
        return (seq, found) if found else None

    def remaining(self) -> tuple[int, str] | None:
        """Check what was put off (the log no longer matches the proven head)."""
        deferred, self._deferred = self._deferred, []
        for seq, signer, mac, signature, actors_seen in deferred:
            found = _signed_change_problem(self._sealing, signer, mac, signature,
                                           actors_seen)
            if found:
                return seq, found
        return None

    def proven_at(self, head: Head) -> Proven:
        return Proven(head.seq, head.mac, self._digest.hexdigest())


def verify_events(sealing: EventSealing, events: Iterable[tuple[Any, ...]],
                  anchor: Head | None = None, proven: Proven | None = None) -> Verdict:
    """Recompute the chain over (seq, at, actor, action, subject, details, prev, mac, rows,
    signer, signature) rows, in seq order. An anchor (an earlier head) must still be present,
    unchanged. Where changes are signed, each signature must hold for its signer, every event
    must belong to a signed change (the events after the last signature have none), and every
    event of a change must be the signer's (or accessgov's own); signatures up to a `proven`
    head are checked again only if the log no longer holds them as they were."""
    expected_seq, prev, count = 1, GENESIS, 0
    anchor_seen = anchor is None
    signed = isinstance(sealing, SignedEventSeals)
    signatures = _Signatures(sealing, proven) if isinstance(sealing, SignedEventSeals) else None
    change_actors: set[str] = set()  # the people acting in the change not yet signed
    last_signed = False
    mac_of = sealing.mac
    for (seq, at, actor, action, subject, details, stored_prev, mac, rows, signer,
         signature) in events:
        problem = None
        if seq != expected_seq:
            problem = f"event {expected_seq} before it is missing (deleted or renumbered)"
        elif stored_prev != prev:
            problem = ("it does not follow the event before it "
                       "(events deleted, inserted or reordered)")
        elif mac != mac_of(_message(seq, at, actor, action, subject, details, prev, rows)):
            problem = "its contents do not match its seal (the event was altered)"
        elif signed:
            if actor not in _NOT_PEOPLE:
                change_actors.add(actor)
            if signature is not None:
                assert signatures is not None
                bad = signatures.problem(seq, signer, mac, signature, change_actors)
                change_actors = set()
                if bad is not None:
                    return Verdict(bad[0] - 1, Head(bad[0], mac), bad_seq=bad[0],
                                   problem=bad[1])
        if problem:
            return Verdict(count, Head(seq, mac), bad_seq=seq, problem=problem)
        if anchor is not None and seq == anchor.seq:
            if mac != anchor.mac:
                return Verdict(count, Head(seq, mac), bad_seq=seq,
                               problem="it differs from the anchored head (history rewritten)")
            anchor_seen = True
        expected_seq, prev, count = seq + 1, mac, count + 1
        last_signed = signature is not None
    head = Head(expected_seq - 1, prev) if count else None
    bad = signatures.remaining() if signatures is not None else None
    if bad is not None:  # the log ends before the head proven before
        return Verdict(bad[0] - 1, head, bad_seq=bad[0], problem=bad[1])
    if signed and count and not last_signed:
        return Verdict(count - 1, head, bad_seq=expected_seq - 1,
                       problem="the last change is not signed by anyone (it was written "
                               "behind the log)")
    if not anchor_seen and anchor is not None:
        return Verdict(count, head, bad_seq=anchor.seq,
                       problem="the anchored event is gone (the log was truncated)")
    return Verdict(count, head, proven=signatures.proven_at(head)
                   if signatures is not None and head is not None else None)


def _signed_change_problem(sealing: SignedEventSeals, signer: str | None, mac: str,
                           signature: str, actors_seen: set[str]) -> str | None:
    problem = sealing.signature_problem(signer, mac, signature)
    if problem:
        return f"its change's signature does not hold ({problem})"
    others = sorted(actors_seen - {signer})
    if others:
        return (f"its change names {', '.join(others)} as acting, but was signed by {signer} "
                "(made with someone else's key)")
    return None


def verify(register: Register, sealing: EventSealing, anchor: Head | None = None,
           proven: Proven | None = None) -> Verdict:
    """Check the register's whole audit chain."""
    return verify_events(sealing, event_rows.chain(register), anchor, proven)


def events(register: Register, *, limit: int | None = None, subject: str | None = None,
           action: str | None = None) -> list[Row]:
    """Events newest-last, optionally only the last `limit`, one subject or one action."""
    return event_rows.listing(register, limit=limit, subject=subject, action=action)
