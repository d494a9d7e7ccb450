"""Named queries of operators' sessions."""

from __future__ import annotations

from accessgov.db.register import Register, Row


def get(register: Register, session_id: str) -> Row | None:
    """One session (checked while a change runs), if it exists."""
    return register.sealed_row("sessions", "SELECT * FROM sessions WHERE id = ?",
                               (session_id,))


def claimed(register: Register, session_id: str) -> Row | None:
    """One session as the file holds it, unchecked: only to decide whether to ask for a
    code, never to act on."""
    return register.row("SELECT * FROM sessions WHERE id = ?", (session_id,))


def end(register: Register, session_id: str, reason: str, at: str) -> None:
    """End one session (logout, or replaced by a new login on the same machine)."""
    register.update("sessions", {"id": session_id}, {"ended_at": at, "ended_reason": reason})


def end_all_of(register: Register, person: str, reason: str, at: str) -> int:
    """End every open, unexpired session of `person`; returns how many ended."""
    return register.execute(
        "UPDATE sessions SET ended_at = ?, ended_reason = ? "
        "WHERE person = ? AND ended_at IS NULL AND expires_at > ?",
        (at, reason, person, at))
