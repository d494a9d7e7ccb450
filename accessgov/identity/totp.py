"""TOTP for operators (RFC 6238 through pyotp): seeds, code checks, replay and lock-out rules.

pyotp keeps no memory, so the rules that make a code single-use live here: a code is
accepted for one 30-second step either side of now, only for a step later than the person's
last accepted one, and five failures in a row lock the person out for 15 minutes.

A lock-out never lasts past 15 minutes after its last failure, by whichever clock: one whose
failure is dated after now was recorded by a clock set ahead (wrong codes typed under a clock
50 years fast would otherwise lock the Board out for 50 years). In vault mode times are the
OpenBao server's, so that never happens; in keyring mode it leaves the clock's own rule to
refuse everything dated before those failures, except the approvers' acknowledgement of the
clock, which a lock from the future must not stop (accessgov.audit.timeline). For the same
reason a last accepted step further ahead than any code accepted now was set by such a clock,
and does not make every code until its time count as "already used".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import re

from accessgov.common.timeutil import iso, parse_iso
from accessgov.db.register import Row
from accessgov.errors import LockedOut, MfaFailed

ISSUER = "accessgov"
STEP_SECONDS = 30
DRIFT_STEPS = 1
EXPIRED_LOOKBACK_STEPS = 10  # only to say "expired" rather than "wrong"; never accepted
MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)

# ASCII digits only: \d would also match full-width and other scripts' digits, which no
# authenticator app shows and which hmac.compare_digest cannot compare.
_CODE = re.compile(r"[0-9]{6}")


def seed_path(person_id: str) -> str:
    """Where a person's TOTP seed lives in the secret backend."""
    return f"mfa/{person_id}"


def new_seed() -> str:
    """A fresh 160-bit base32 seed, as RFC 4226 recommends."""
    import pyotp

    return str(pyotp.random_base32())


def provisioning_uri(seed: str, account_label: str) -> str:
    """The `otpauth://totp/...` URI (Google Authenticator Key URI format) for an app."""
    import pyotp

    uri: str = pyotp.TOTP(seed).provisioning_uri(name=account_label, issuer_name=ISSUER)
    return uri


def step_of(moment: dt.datetime) -> int:
    """The 30-second time step containing `moment`."""
    return int(moment.timestamp()) // STEP_SECONDS


def code_at_step(seed: str, step: int) -> str:
    """The six-digit code for one time step."""
    import pyotp

    return str(pyotp.TOTP(seed).at(step * STEP_SECONDS))


def current_code(seed: str, moment: dt.datetime) -> str:
    """The code an authenticator app shows at `moment`."""
    return code_at_step(seed, step_of(moment))


@dataclasses.dataclass(frozen=True)
class Failure:
    """A rejected code, to be recorded after the command's own transaction rolls back."""

    person: str
    reason: str


class CodeRejected(MfaFailed):
    """A wrong, expired or replayed code; carries what must be recorded."""

    def __init__(self, message: str, failure: Failure) -> None:
        super().__init__(message)
        self.failure = failure


def check_code(state: Row, seed: str, code: str, now: dt.datetime) -> int:
    """The step `code` proves for the person whose MFA row is `state`, or an exception.

    Raises LockedOut while a lock-out runs and CodeRejected for a wrong, expired or reused
    code. Does not write: the caller stores the accepted step or records the failure.
    """
    person = state["person"]
    ensure_not_locked(state, now)
    code = code.strip().replace(" ", "")
    if not _CODE.fullmatch(code):
        # Counted like any wrong code, so that malformed guesses also lead to the lock-out.
        raise CodeRejected("a code is six digits (0-9) from the authenticator app",
                           Failure(person, "malformed"))
    now_step = step_of(now)
    last_step = state["last_step"]
    if last_step > now_step + DRIFT_STEPS:  # set by a clock ahead of this one
        last_step = now_step - DRIFT_STEPS - 1
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if hmac.compare_digest(code_at_step(seed, step), code):
            if step <= last_step:
                raise CodeRejected(
                    "that code has already been used; wait for the next code in the app",
                    Failure(person, "replayed"),
                )
            return step
    oldest = now_step - DRIFT_STEPS - EXPIRED_LOOKBACK_STEPS
    for step in range(oldest, now_step - DRIFT_STEPS):
        if hmac.compare_digest(code_at_step(seed, step), code):
            raise CodeRejected("that code has expired; use the code the app shows now",
                               Failure(person, "expired"))
    raise CodeRejected(f"the code is not correct for {person}", Failure(person, "wrong"))


def ensure_not_locked(state: Row, now: dt.datetime) -> None:
    """Raise LockedOut while the person's lock-out lasts: from its last failure until
    LOCKOUT after it (never before that failure, by this clock: see the module docstring)."""
    locked_until = state["locked_until"]
    if locked_until and locked_since(locked_until) <= now < parse_iso(locked_until):
        raise LockedOut(
            f"{state['person']} is locked out after {MAX_FAILURES} wrong codes in a row; "
            f"try again after {locked_until[11:16]} UTC"
        )


def locked_since(locked_until: str) -> dt.datetime:
    """When a lock-out began: the time of the failure that set it."""
    return parse_iso(locked_until) - LOCKOUT


def after_failure(state: Row, now: dt.datetime) -> dict[str, object]:
    """The MFA row's new failure count and lock-out after one more rejected code."""
    failures = state["failures"] + 1
    if failures >= MAX_FAILURES:
        return {"failures": 0, "locked_until": iso(now + LOCKOUT)}
    return {"failures": failures, "locked_until": state["locked_until"]}
