"""Operator MFA: invitation, self-enrolment, confirmation, and reset.

Whoever sees a seed can make that person's codes, so nobody enrols anyone else: a CEO or
trustee *invites* an enrolment (`mfa enrol P`), and P enrols themselves on their own device
(`mfa enrol P --as P`), which shows the QR code to them alone. On a new register the CEO's
own first enrolment needs no code; confirming it ends set-up.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from accessgov.db.queries import mfa, people
from accessgov.db.register import Row
from accessgov.errors import InputError, NotFound, Refused
from accessgov.identity import authority, sessions, totp
from accessgov.identity.login import open_session
from accessgov.operation import Operation, Proof


@dataclasses.dataclass(frozen=True)
class Confirmation:
    """What confirming an enrolment did."""

    completed_setup: bool
    session: Row | None


def enrol(op: Operation, person_id: str) -> str | None:
    """Invite `person_id` (someone else acting), or enrol them (they act themselves).

    Returns the otpauth:// URI of a new pending seed, or None when an invitation was
    recorded.
    """
    person = people.get(op.register, person_id)
    if person["status"] != "active":
        raise InputError(f"{person_id} has left; there is no need for their MFA")
    state = mfa.state(op.register, person_id)
    if state and state["status"] == "confirmed":
        raise InputError(f"{person_id} already has MFA; use 'accessgov mfa reset {person_id}' "
                         "first to give them a new authenticator")
    if op.operator_id is not None and op.operator_id != person_id:
        _invite(op, person_id, state)
        return None
    granted = authority.authorise(op, "mfa.enrol", person_id, concerned=person_id)
    if granted.name == "setup" and person["category"] != "ceo":
        raise Refused("the CEO must set up and confirm MFA first; until then only the CEO's "
                      "MFA can be enrolled")
    if granted.name != "setup" and state is None:
        raise Refused(f"{person_id} has not been invited to enrol: a CEO or trustee first runs "
                      f"'accessgov mfa enrol {person_id}'")
    if op.trust.events.signed:
        _confirm_store_login(op, person_id, person, state)
        return None
    _refuse_watched_enrolment(op, person_id)
    return _new_seed(op, person_id, state)


def _confirm_store_login(op: Operation, person_id: str, person: Row, state: Row | None
                         ) -> None:
    """Where each operator is their own OpenBao identity, their authenticator lives in
    OpenBao's Login MFA: the change is made with the token OpenBao gave them for their
    password and a code (the operator was identified by it), so their enrolment is confirmed
    as it stands. No seed is stored anywhere accessgov or anyone else can read it."""
    values = {"status": "confirmed", "seed_version": 0, "enrolled_by": person_id,
              "enrolled_at": op.at, "confirmed_at": op.at, "last_step": 0, "failures": 0,
              "locked_until": None}
    if state is None:
        op.register.insert("mfa", {"person": person_id, **values})
    else:
        op.register.update("mfa", {"person": person_id}, values)
    op.record("mfa.enrol", person_id, stored_at="OpenBao Login MFA (no seed is readable)",
              invited_by=state["invited_by"] if state else None)
    bootstraps = person["category"] == "ceo" and not authority.is_set_up(op)
    if bootstraps:
        authority.mark_set_up(op)
    op.record("mfa.confirm", person_id, completes_setup=bootstraps or None)


def _refuse_watched_enrolment(op: Operation, person_id: str) -> None:
    """A seed shown where someone else is logged in could be seen by them: the person enrols
    on their own device, or the other person logs out first."""
    session = sessions.current_session(op)  # its ticket checked when the change began
    if session is None or session["person"] == person_id:
        return
    other = session["person"]
    raise Refused(f"{other} is logged in here, so {other} could see {person_id}'s new seed: "
                  f"{person_id} enrols on their own device (or {other} runs 'accessgov "
                  "logout' first)")


def _invite(op: Operation, person_id: str, state: Row | None) -> None:
    authority.authorise(op, "mfa.invite", person_id, concerned=person_id)
    if state is not None:
        raise InputError(f"{person_id} was already invited on {state['enrolled_at'][:10]}; "
                         f"they enrol with 'accessgov mfa enrol {person_id} --as {person_id}'")
    op.register.insert("mfa", {
        "person": person_id, "status": "invited", "seed_version": 0, "enrolled_by": None,
        "enrolled_at": op.at, "confirmed_at": None, "last_step": 0, "failures": 0,
        "locked_until": None, "invited_by": op.operator["id"], "invited_at": op.at,
    })
    op.record("mfa.invite", person_id)


def _new_seed(op: Operation, person_id: str, state: Row | None) -> str:
    seed = totp.new_seed()
    path = totp.seed_path(person_id)
    store = op.store
    version = op.write_secret(path, seed, expect_version=store.current_version(path))
    values = {"status": "pending", "seed_version": version, "enrolled_by": person_id,
              "enrolled_at": op.at, "confirmed_at": None, "last_step": 0, "failures": 0,
              "locked_until": None}
    if state is None:
        op.register.insert("mfa", {"person": person_id, **values})
    else:
        op.register.update("mfa", {"person": person_id}, values)
    op.record("mfa.enrol", person_id, stored_at=store.location(path),
              invited_by=state["invited_by"] if state else None)
    org = op.register.setting("org_slug") or "accessgov"
    return totp.provisioning_uri(seed, f"{person_id}@{org}")


def confirm(op: Operation, person_id: str, code: str,
            session_ttl: dt.timedelta | None = None) -> Confirmation:
    """Confirm a pending enrolment with the first code from the app; with `session_ttl`, the
    same code also opens the person's session (it has just proved who they are)."""
    person = people.get(op.register, person_id)
    state = mfa.state(op.register, person_id)
    if state is None:
        raise NotFound(f"{person_id} has no MFA enrolment; run 'accessgov mfa enrol {person_id}'")
    if state["status"] == "confirmed":
        raise InputError(f"{person_id}'s MFA is already confirmed")
    if state["status"] == "invited":
        raise InputError(f"{person_id} is invited but has not enrolled yet: they run "
                         f"'accessgov mfa enrol {person_id} --as {person_id}' first")
    authority.authorise(op, "mfa.confirm", person_id, concerned=person_id)
    seed = op.store.read(totp.seed_path(person_id), state["seed_version"])
    step = totp.check_code(state, seed, code, op.now)
    op.register.update("mfa", {"person": person_id}, {
        "status": "confirmed", "confirmed_at": op.at, "last_step": step, "failures": 0,
        "locked_until": None,
    })
    bootstraps = person["category"] == "ceo" and not authority.is_set_up(op)
    if bootstraps:
        authority.mark_set_up(op)
    op.record("mfa.confirm", person_id, completes_setup=bootstraps or None)
    session = None
    if session_ttl is not None:
        op.proof = Proof("totp", str(step))
        session = open_session(op, session_ttl, op.proof)
    return Confirmation(bootstraps, session)


def reset(op: Operation, person_id: str, *, reason: str) -> None:
    """Remove a person's MFA (lost phone, left): their seed is deleted, sessions end."""
    people.get(op.register, person_id)
    state = mfa.state(op.register, person_id)
    if state is None:
        raise InputError(f"{person_id} has no MFA to reset")
    authority.authorise(op, "mfa.reset", person_id, concerned=person_id)
    _ensure_someone_can_still_enrol(op, person_id)
    op.register.delete("mfa", {"person": person_id})
    ended = sessions.end_sessions(op.register, person_id, "mfa reset", op.at)
    op.record("mfa.reset", person_id, reason=reason, sessions_ended=ended)
    # Only once the register no longer claims the seed: a crash before the commit leaves the
    # enrolment whole, a crash after it leaves an unused seed that the next enrolment replaces.
    if op.trust.events.signed:
        return  # the authenticator is OpenBao's: its administrator destroys the key
    store = op.store
    op.after_commit(lambda: store.delete(totp.seed_path(person_id)))


def _ensure_someone_can_still_enrol(op: Operation, person_id: str) -> None:
    if not mfa.others_with_board_mfa(op.register, person_id):
        raise Refused(
            f"resetting {person_id}'s MFA would leave no CEO or trustee with MFA, and nobody "
            "could enrol anyone again; enrol another trustee first"
        )
