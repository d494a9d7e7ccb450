"""login / logout / whoami: one TOTP code opens a short session for a run of work."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from accessgov.db.queries import people
from accessgov.db.queries import sessions as session_rows
from accessgov.db.register import Register, Row
from accessgov.errors import MfaRequired
from accessgov.identity import sessions
from accessgov.identity.authority import authorise
from accessgov.identity.proof import prove
from accessgov.operation import Operation, Proof


def login(op: Operation, ttl: dt.timedelta, code_given: bool) -> Row:
    """Verify the operator's code and open a session; returns the session record."""
    sessions.check_ttl(ttl)
    if not code_given:
        raise MfaRequired("logging in needs a code from your authenticator app (--otp CODE)")
    person = op.operator
    authorise(op, "session.open", person["id"], concerned=person["id"])
    return open_session(op, ttl, prove(op))


def open_session(op: Operation, ttl: dt.timedelta, proof: Proof) -> Row:
    """A new session for the operator, whose identity `proof` has just established.

    The session whose ticket it replaces on this machine ends, if that ticket is genuine
    (checked when the change began) and its session still open; the person's sessions on
    other machines stay open.
    """
    person = op.operator
    folder = op.seat.runtime_folder
    replaced = sessions.current_session(op)
    if replaced is not None:
        session_rows.end(op.register, replaced["id"], "replaced by a new login", op.at)
    session_id, number = op.next_id("sessions", "S")
    token = sessions.new_token()
    session = {
        "id": session_id, "num": number, "person": person["id"],
        "token_hash": sessions.token_hash(_session_key(op), token), "proof": proof.describe(),
        "created_at": op.at, "expires_at": sessions.expiry(op.now, ttl),
    }
    op.register.insert("sessions", session)
    op.record("session.open", session_id, person=person["id"], expires_at=session["expires_at"])
    path = sessions.write_ticket(folder, sessions.Ticket(
        str(op.seat.db_path.resolve()), person["id"], session_id, token))
    # The ticket must not outlive a transaction that did not commit.
    op.on_rollback(lambda: path.unlink(missing_ok=True))
    return session


def _session_key(op: Operation) -> bytes:
    key = op.trust.sessions
    if key is None:
        raise AssertionError("sessions are the secret store's own tokens in this register")
    return key


def logout(op: Operation) -> str | None:
    """Record the end of the session this machine's ticket stands for; returns its id, or
    None when the ticket named no session or its session had already ended.

    The ticket's token was checked when the change began (`sessions.identify`): a forged
    one ends nothing and is refused. The caller removes the ticket file first, so the
    session is unusable even when the register cannot be written (the secret store holding
    the audit key is down); the register's row then stays open until it expires, since
    without the key the token cannot be checked.
    """
    session = sessions.ticket_session(op)
    if session is None or session["ended_at"]:
        return None
    op.attempt = ("session.close", session["id"])
    session_rows.end(op.register, session["id"], "logout", op.at)
    op.record("session.close", session["id"], person=session["person"])
    return str(session["id"])


def whoami(register: Register, session: Row | None, db_path: Path) -> dict[str, Any]:
    """Who `session` (this machine's open session, its ticket checked) belongs to, and until
    when."""
    where = str(db_path.resolve())
    if session is None:
        return {"session": None, "person": None, "name": None, "opened_at": None,
                "expires_at": None, "verified_by": None, "register": where}
    name = people.name(register, session["person"])
    return {"session": session["id"], "person": session["person"], "name": name,
            "opened_at": session["created_at"], "expires_at": session["expires_at"],
            "verified_by": session["proof"], "register": where}
