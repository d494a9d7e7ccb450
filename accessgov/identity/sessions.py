"""Operator sessions, as sudo does it: one TOTP code opens a short session on this machine.

The random token lives in a 0600 file (the ticket) in the user's runtime folder, one per
register; the register keeps only an HMAC of it, keyed from the secret store, so a copied
register opens no session. A ticket is only a claim: every change checks its token against
the register before anything else (`identify`), and a ticket whose token does not match the
session it names is refused as forged. Whoever holds a forged ticket is unknown, so the
refusal is recorded under `UNKNOWN_ACTOR`, never under the person the ticket names.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

from accessgov.common import actors
from accessgov.common.timeutil import iso, parse_iso
from accessgov.db.queries import sessions as session_rows
from accessgov.db.register import Location, Register, Row
from accessgov.errors import InputError, Refused

if TYPE_CHECKING:
    from accessgov.operation import Operation

MAX_TTL = dt.timedelta(hours=12)
UNKNOWN_ACTOR = actors.UNKNOWN  # the log's actor for whoever held a forged ticket
_CHECKED = "session ticket"  # op.facts: this machine's ticket, once its token checked out


@dataclasses.dataclass(frozen=True)
class Ticket:
    """What the session file holds: which register, whose session, and the token."""

    register: str
    person: str
    session_id: str
    token: str


def runtime_folder(env: dict[str, str]) -> Path:
    """The per-user runtime folder (XDG_RUNTIME_DIR on Linux), private to the user.

    Without XDG_RUNTIME_DIR (cron, SSH, containers) the fallback is chosen quietly: the
    systemd folder /run/user/<uid> when it exists, else a folder of our own in the temp
    area; either way it must be ours and 0700 before a session file goes in it.
    """
    if env.get("XDG_RUNTIME_DIR"):
        return Path(env["XDG_RUNTIME_DIR"]) / "accessgov"
    if sys.platform == "darwin" or sys.platform == "win32":
        import platformdirs

        return Path(platformdirs.user_runtime_dir("accessgov", appauthor=False))
    systemd = Path(f"/run/user/{os.getuid()}")
    if systemd.is_dir():
        return systemd / "accessgov"
    import tempfile

    return Path(tempfile.gettempdir()) / f"accessgov-{os.getuid()}"


def register_name(register: Location) -> str:
    """How a ticket names its register: the file's absolute path, or the database's URL
    without its password."""
    return str(register.resolve())


def ticket_path(folder: Path, register: Location | str) -> Path:
    """One session file per register, so two registers never share a session."""
    name = register if isinstance(register, str) else register_name(register)
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return folder / f"session-{digest}.json"


def read_ticket(folder: Path, register: Location) -> Ticket | None:
    """The session ticket for this register, if a readable one is on disk."""
    path = ticket_path(folder, register)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        ticket = Ticket(**data)
    except (OSError, ValueError, TypeError):
        return None
    return ticket if ticket.register == register_name(register) else None


def write_ticket(folder: Path, ticket: Ticket) -> Path:
    """Write the ticket 0600 inside a 0700 folder that we own."""
    _ensure_private_folder(folder)
    path = ticket_path(folder, ticket.register)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(dataclasses.asdict(ticket), handle)
    return path


def remove_ticket(folder: Path, register: Location) -> None:
    """Delete this register's session file, if any."""
    ticket_path(folder, register).unlink(missing_ok=True)


def _ensure_private_folder(folder: Path) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise InputError(f"{folder} must belong to you and be private (mode 0700)")


def token_hash(key: bytes | None, token: str) -> str:
    """What the register stores instead of the token: an HMAC with a key from the secret
    store, so a row written into the file with a token of one's choosing opens nothing. Where
    the token is the secret store's own (OpenBao, each operator their own identity), a plain
    hash: the token is then what OpenBao itself honours, and a row needs a signed change."""
    if key is None:
        return hashlib.sha256(token.encode("ascii")).hexdigest()
    return hmac.digest(key, token.encode("ascii"), hashlib.sha256).hex()


def new_token() -> str:
    """A random session token (256 bits)."""
    return secrets.token_urlsafe(32)


def check_ttl(ttl: dt.timedelta) -> dt.timedelta:
    """A session lasts at least a minute and at most 12 hours."""
    if not dt.timedelta(minutes=1) <= ttl <= MAX_TTL:
        raise InputError("a session lasts between 1 minute and 12 hours (e.g. --ttl 15m)")
    return ttl


class ForgedTicket(Refused):
    """A session ticket that does not match the session it names: accessgov did not write it
    for whoever holds it, so it opens nothing and names no operator."""

    def __init__(self, ticket: Ticket, problem: str) -> None:
        super().__init__(
            f"the session file on this machine claims {ticket.person}'s session "
            f"{ticket.session_id}, but {problem}, so it opens nothing and nothing was done "
            "('accessgov logout' removes the file)")
        self.ticket = ticket
        self.problem = problem

    def details(self) -> dict[str, str]:
        """What the refusal's audit event says about the ticket (never its token)."""
        return {"claimed_session": self.ticket.session_id,
                "claimed_person": self.ticket.person, "problem": self.problem}


def check_ticket(register: Register, ticket: Ticket, key: bytes | None) -> Row | None:
    """The register's row for the session `ticket` names, in whatever state, once the
    ticket's token proves that accessgov wrote it for that session.

    None when the register holds no such session (a stale file, say of a register made
    again at the same path: it names nobody). ForgedTicket when the session exists but the
    token, or the person, does not match it. The row is read unchecked, to decide; a change
    acting on the session reads it again through the checked path (`ticket_session`).
    """
    row = session_rows.claimed(register, ticket.session_id)
    if row is None:
        return None
    if not hmac.compare_digest(row["token_hash"], token_hash(key, ticket.token)):
        raise ForgedTicket(ticket, "its token does not match that session")
    if row["person"] != ticket.person:
        raise ForgedTicket(ticket, f"that session is not {ticket.person}'s")
    return row


def is_open(row: Row, now: dt.datetime) -> bool:
    """Whether a session has neither ended nor expired."""
    return not row["ended_at"] and parse_iso(row["expires_at"]) > now


def identify(op: Operation) -> None:
    """The first step of every change: check this machine's ticket. A forged one refuses
    the change (ForgedTicket); a genuine one makes its person the operator when nobody is
    named with --as, even once its session has ended (it then proves nothing: the code is
    asked for)."""
    ticket = _checked_ticket(op)
    if op.trust.events.signed:
        _identify_by_token(op)
    elif ticket is not None and op.operator_id is None:
        op.operator_id = ticket.person


def _identify_by_token(op: Operation) -> None:
    """Where each operator is their own OpenBao identity, the operator is whoever the token
    in use belongs to (OpenBao says so, after their login with password and code): naming
    someone else with --as is refused."""
    person = op.store.operator()
    named, op.operator_id = op.operator_id, person  # a refusal is recorded as theirs
    if named is not None and named != person:
        op.attempt = ("act as", named)
        raise Refused(f"you are logged in to OpenBao as {person}, so you cannot act as "
                      f"{named}; {named} logs in on their own device")


def ticket_session(op: Operation) -> Row | None:
    """The session this machine's checked ticket stands for, in whatever state, read through
    the checked path (a row written behind the log is refused, and says so)."""
    ticket = _checked_ticket(op)
    return session_rows.get(op.register, ticket.session_id) if ticket else None


def current_session(op: Operation) -> Row | None:
    """This machine's session, if its ticket is genuine and it is still open."""
    row = ticket_session(op)
    return row if row is not None and is_open(row, op.now) else None


def _checked_ticket(op: Operation) -> Ticket | None:
    """This machine's ticket if genuine, checked once per change."""
    if _CHECKED not in op.facts:
        ticket = op.seat.read_ticket()
        if op.trust.events.signed:
            # The ticket holds an OpenBao token, which OpenBao itself checks (identify).
            ticket = None
        elif ticket is not None and \
                check_ticket(op.register, ticket, op.trust.sessions) is None:
            ticket = None
        op.facts[_CHECKED] = ticket
    return cast("Ticket | None", op.facts[_CHECKED])


def end_sessions(register: Register, person: str, reason: str, at: str) -> int:
    """End every open session of `person` (MFA reset, offboarding)."""
    return session_rows.end_all_of(register, person, reason, at)


def expiry(now: dt.datetime, ttl: dt.timedelta) -> str:
    """When a session opened now ends."""
    return iso(now + ttl)
