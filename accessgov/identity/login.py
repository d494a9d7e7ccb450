"""login / logout / whoami: one TOTP code opens a short session for a run of work."""

from __future__ import annotations

import datetime as dt
from typing import Any

from accessgov.db.queries import people
from accessgov.db.queries import sessions as session_rows
from accessgov.db.register import Location, Register, Row
from accessgov.errors import MfaRequired
from accessgov.identity import sessions
from accessgov.identity.authority import authorise
from accessgov.identity.proof import prove
from accessgov.operation import Operation, Proof, Seat
from accessgov.secrets.base import SecretBackend


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
        "token_hash": sessions.token_hash(op.trust.sessions, token), "proof": proof.describe(),
        "created_at": op.at, "expires_at": sessions.expiry(op.now, ttl),
    }
    op.register.insert("sessions", session)
    op.record("session.open", session_id, person=person["id"], expires_at=session["expires_at"])
    path = sessions.write_ticket(folder, sessions.Ticket(
        sessions.register_name(op.seat.db_path), person["id"], session_id, token))
    # The ticket must not outlive a transaction that did not commit.
    op.on_rollback(lambda: path.unlink(missing_ok=True))
    return session


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


def whoami(register: Register, session: Row | None, db_path: Location) -> dict[str, Any]:
    """Who `session` (this machine's open session, its ticket checked) belongs to, and until
    when."""
    where = sessions.register_name(db_path)
    if session is None:
        return {"session": None, "person": None, "name": None, "opened_at": None,
                "expires_at": None, "verified_by": None, "register": where}
    name = people.name(register, session["person"])
    return {"session": session["id"], "person": session["person"], "name": name,
            "opened_at": session["created_at"], "expires_at": session["expires_at"],
            "verified_by": session["proof"], "register": where}


# -- where each operator is their own OpenBao identity -----------------------------------------

def login_to_store(store: SecretBackend, seat: Seat, person: str, password: str, code: str,
                   ttl: dt.timedelta, now: dt.datetime) -> str:
    """Log in to OpenBao with the person's password and a code from their authenticator
    (OpenBao's Login MFA) and keep the token as this machine's session for the register
    (0600, in the user's runtime folder); returns when it ends. Nothing is written in the
    register: OpenBao records the login in its own log, and each change the token makes is
    signed with the person's key."""
    sessions.check_ttl(ttl)
    keep_store_session(seat, person, store.login(person, password, code, ttl))
    return sessions.expiry(now, ttl)


def keep_store_session(seat: Seat, person: str, token: str) -> None:
    """Keep `person`'s OpenBao token as this machine's session for the register."""
    sessions.write_ticket(seat.runtime_folder, sessions.Ticket(
        sessions.register_name(seat.db_path), person, STORE_SESSION, token))


def logout_of_store(store: SecretBackend, seat: Seat) -> bool:
    """End this machine's OpenBao session: the token is revoked and its file removed (the
    file first, so the session is unusable here even when OpenBao cannot be reached).
    Returns whether there was one."""
    ticket = seat.read_ticket()
    if ticket is None:
        return False
    sessions.remove_ticket(seat.runtime_folder, seat.db_path)
    store.use_token(ticket.token)
    store.logout()
    return True


STORE_SESSION = "openbao"  # the session id a ticket holding an OpenBao token carries


def whoami_in_store(store: SecretBackend, seat: Seat, now: dt.datetime) -> dict[str, Any]:
    """Whose OpenBao session this machine holds for the register (as `whoami` shows it)."""
    where = sessions.register_name(seat.db_path)
    ticket = seat.read_ticket()
    if ticket is None:
        return {"session": None, "person": None, "name": None, "opened_at": None,
                "expires_at": None, "verified_by": None, "register": where}
    store.use_token(ticket.token)
    person = store.operator()
    return {"session": STORE_SESSION, "person": person, "name": None, "opened_at": None,
            "expires_at": None, "verified_by": "openbao login", "register": where}
