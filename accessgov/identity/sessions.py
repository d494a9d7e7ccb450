"""Operator sessions, as sudo does it: one TOTP code opens a short session on this machine.

The random token lives in a 0600 file in the user's runtime folder (one file per register);
the register keeps only its SHA-256, so a copied register opens no session.
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

from accessgov.common.timeutil import iso, parse_iso
from accessgov.db.queries import sessions as session_rows
from accessgov.db.register import Register, Row
from accessgov.errors import InputError

MAX_TTL = dt.timedelta(hours=12)


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


def ticket_path(folder: Path, register: Path) -> Path:
    """One session file per register, so two registers never share a session."""
    digest = hashlib.sha256(str(register.resolve()).encode()).hexdigest()[:16]
    return folder / f"session-{digest}.json"


def read_ticket(folder: Path, register: Path) -> Ticket | None:
    """The session ticket for this register, if a readable one is on disk."""
    path = ticket_path(folder, register)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        ticket = Ticket(**data)
    except (OSError, ValueError, TypeError):
        return None
    return ticket if ticket.register == str(register.resolve()) else None


def write_ticket(folder: Path, ticket: Ticket) -> Path:
    """Write the ticket 0600 inside a 0700 folder that we own."""
    _ensure_private_folder(folder)
    path = ticket_path(folder, Path(ticket.register))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(dataclasses.asdict(ticket), handle)
    return path


def remove_ticket(folder: Path, register: Path) -> None:
    """Delete this register's session file, if any."""
    ticket_path(folder, register).unlink(missing_ok=True)


def _ensure_private_folder(folder: Path) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise InputError(f"{folder} must belong to you and be private (mode 0700)")


def token_hash(key: bytes, token: str) -> str:
    """What the register stores instead of the token: an HMAC with a key from the secret
    store, so a row written into the file with a token of one's choosing opens nothing."""
    return hmac.digest(key, token.encode("ascii"), hashlib.sha256).hex()


def new_token() -> str:
    """A random session token (256 bits)."""
    return secrets.token_urlsafe(32)


def check_ttl(ttl: dt.timedelta) -> dt.timedelta:
    """A session lasts at least a minute and at most 12 hours."""
    if not dt.timedelta(minutes=1) <= ttl <= MAX_TTL:
        raise InputError("a session lasts between 1 minute and 12 hours (e.g. --ttl 15m)")
    return ttl


def _open(row: Row | None, ticket: Ticket, now: dt.datetime) -> Row | None:
    if row is None or row["person"] != ticket.person or row["ended_at"]:
        return None
    return row if parse_iso(row["expires_at"]) > now else None


def claimed_session(register: Register, ticket: Ticket, now: dt.datetime) -> Row | None:
    """The session row `ticket` names, if open and unexpired, WITHOUT checking its token:
    enough to decide whether to ask for a code; never enough to act on."""
    return _open(session_rows.claimed(register, ticket.session_id), ticket, now)


def live_session(register: Register, ticket: Ticket, now: dt.datetime,
                 key: bytes) -> Row | None:
    """The register's session row for `ticket` if its token matches and it has not ended;
    once the token matches, the row is read again through the checked read path (a row
    written behind the log opens nothing, and says so)."""
    row = claimed_session(register, ticket, now)
    if row is None or not hmac.compare_digest(row["token_hash"], token_hash(key, ticket.token)):
        return None
    return session_rows.get(register, ticket.session_id)


def end_sessions(register: Register, person: str, reason: str, at: str) -> int:
    """End every open session of `person` (logout, MFA reset, offboarding)."""
    return session_rows.end_all_of(register, person, reason, at)


def expiry(now: dt.datetime, ttl: dt.timedelta) -> str:
    """When a session opened now ends."""
    return iso(now + ttl)
