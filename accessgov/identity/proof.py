"""How the operator proves who they are: a TOTP code typed now, or an open session.

A code is checked inside the command's own transaction, so the accepted step is stored with
the change it authorises; a rejected code is recorded by `record_code_failure`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from accessgov.common.timeutil import iso
from accessgov.db.queries import mfa
from accessgov.db.register import Register
from accessgov.errors import MfaRequired, Refused
from accessgov.identity import rules, sessions, totp
from accessgov.operation import Journal, Operation, Proof


def prove(op: Operation) -> Proof:
    """Check the operator's TOTP code or open session (once per operation)."""
    if op.proof is None:
        op.proof = _check(op)
    return op.proof


def _check(op: Operation) -> Proof:
    person = op.operator
    if problem := rules.cannot_act(person):
        raise Refused(problem)
    state = mfa.state(op.register, person["id"])
    if state is None or state["status"] != "confirmed":
        raise Refused(
            f"{person['id']} has not enrolled MFA, so cannot approve or change anything "
            "(a CEO or trustee invites them with 'accessgov mfa enrol', then they enrol)"
        )
    if op.trust.events.signed:
        return _proof_by_login(op, person["id"])
    if op.code is not None:
        seed = op.store.read(totp.seed_path(person["id"]), state["seed_version"])
        step = totp.check_code(state, seed, op.code, op.now)
        op.register.update("mfa", {"person": person["id"]},
                           {"last_step": step, "failures": 0, "locked_until": None})
        return Proof("totp", str(step))
    session = sessions.current_session(op)  # its ticket checked when the change began
    if session is not None and session["person"] == person["id"]:
        return Proof("session", session["id"])
    raise MfaRequired(
        f"this needs {person['id']}'s MFA: add --otp CODE, or run 'accessgov login' first"
    )


def _proof_by_login(op: Operation, person: str) -> Proof:
    """Where each operator is their own OpenBao identity, their token is the proof: OpenBao
    issued it only against their password and a code from their authenticator (Login MFA),
    and the change began by asking OpenBao whose it is (`sessions.identify`)."""
    if op.code is not None:
        raise Refused("in this register the code from the authenticator app is typed when "
                      f"logging in to OpenBao, not with --otp: run 'accessgov login --as "
                      f"{person}' first")
    session = sessions.current_session(op)
    if session is not None and session["person"] == person:
        return Proof("session", session["id"])
    return Proof("openbao", "login")


def record_code_failure(register: Register, journal: Journal, failure: totp.Failure,
                        now: dt.datetime) -> None:
    """Count a rejected code against the person, lock them out at the limit, audit it."""
    state = mfa.claimed_state(register, failure.person)
    if state is None:
        return
    changes = totp.after_failure(state, now)
    register.update("mfa", {"person": failure.person}, changes)
    details: dict[str, Any] = {"reason": failure.reason,
                               "failures_in_a_row": state["failures"] + 1}
    if changes["locked_until"] != state["locked_until"]:
        details["locked_until"] = changes["locked_until"]
    journal.append(iso(now), failure.person, "mfa.code_rejected", failure.person, details)
