"""Operator MFA: two-step enrolment, confirmation, and reset.

Bootstrap: on a new register the CEO's first enrolment needs no code; once the CEO has
confirmed, enrolling or resetting anyone needs an enrolled CEO or trustee and their code.
"""

from __future__ import annotations

from accessgov.db.queries import get_person, mfa_state
from accessgov.errors import InputError, NotFound, Refused
from accessgov.identity import authority, sessions, totp
from accessgov.identity.proof import prove
from accessgov.operation import Operation


def enrol(op: Operation, person_id: str) -> str:
    """Store a new pending seed for `person_id` and return its otpauth:// URI."""
    person = get_person(op.register, person_id)
    if person["status"] != "active":
        raise InputError(f"{person_id} has left; there is no need for their MFA")
    state = op.register.row("SELECT status FROM mfa WHERE person = ?", (person_id,))
    if state and state["status"] == "confirmed":
        raise InputError(f"{person_id} already has MFA; use 'accessgov mfa reset {person_id}' "
                         "first to give them a new authenticator")
    if authority.is_set_up(op.register):
        authority.require_board_or_ceo(op.operator, "enrol people in MFA")
        prove(op)
    elif person["category"] != "ceo":
        raise Refused("the CEO must set up and confirm MFA first; until then only the CEO's "
                      "MFA can be enrolled")
    seed = totp.new_seed()
    path = totp.seed_path(person_id)
    store = op.store
    version = op.write_secret(path, seed, expect_version=store.current_version(path))
    op.register.conn.execute(
        "INSERT OR REPLACE INTO mfa (person, status, seed_version, enrolled_by, enrolled_at, "
        "confirmed_at, last_step, failures, locked_until) "
        "VALUES (?, 'pending', ?, ?, ?, NULL, 0, 0, NULL)",
        (person_id, version, op.actor, op.at),
    )
    op.record("mfa.enrol", person_id, stored_at=store.location(path))
    org = op.register.setting("org_slug") or "accessgov"
    return totp.provisioning_uri(seed, f"{person_id}@{org}")


def confirm(op: Operation, person_id: str, code: str) -> bool:
    """Confirm a pending enrolment with the first code from the app.

    Returns True when this confirmation completed the register's bootstrap (the CEO).
    """
    person = get_person(op.register, person_id)
    state = mfa_state(op.register, person_id)
    if state is None:
        raise NotFound(f"{person_id} has no MFA enrolment; run 'accessgov mfa enrol {person_id}'")
    if state["status"] == "confirmed":
        raise InputError(f"{person_id}'s MFA is already confirmed")
    seed = op.store.read(totp.seed_path(person_id), state["seed_version"])
    step = totp.check_code(state, seed, code, op.now)
    op.register.update("mfa", {"person": person_id}, {
        "status": "confirmed", "confirmed_at": op.at, "last_step": step, "failures": 0,
        "locked_until": None,
    })
    bootstraps = person["category"] == "ceo" and not authority.is_set_up(op.register)
    if bootstraps:
        op.register.set_setting("bootstrapped_at", op.at)
    op.record("mfa.confirm", person_id, completes_setup=bootstraps or None)
    return bootstraps


def reset(op: Operation, person_id: str, *, reason: str) -> None:
    """Remove a person's MFA (lost phone, left): their seed is deleted, sessions end."""
    get_person(op.register, person_id)
    state = op.register.row("SELECT status FROM mfa WHERE person = ?", (person_id,))
    if state is None:
        raise InputError(f"{person_id} has no MFA to reset")
    authority.require_board_or_ceo(op.operator, "reset MFA")
    _ensure_someone_can_still_enrol(op, person_id)
    prove(op)
    op.register.conn.execute("DELETE FROM mfa WHERE person = ?", (person_id,))
    ended = sessions.end_sessions(op.register, person_id, "mfa reset", op.at)
    op.record("mfa.reset", person_id, reason=reason, sessions_ended=ended)
    # Only once the register no longer claims the seed: a crash before the commit leaves the
    # enrolment whole, a crash after it leaves an unused seed that the next enrolment replaces.
    store = op.store
    op.after_commit(lambda: store.delete(totp.seed_path(person_id)))


def _ensure_someone_can_still_enrol(op: Operation, person_id: str) -> None:
    others = op.register.value(
        "SELECT COUNT(*) FROM people p JOIN mfa m ON m.person = p.id "
        "WHERE p.status = 'active' AND p.category IN ('ceo', 'trustee') "
        "AND m.status = 'confirmed' AND p.id != ?",
        (person_id,),
    )
    if not others:
        raise Refused(
            f"resetting {person_id}'s MFA would leave no CEO or trustee with MFA, and nobody "
            "could enrol anyone again; enrol another trustee first"
        )
