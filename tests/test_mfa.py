"""The TOTP rules: RFC 6238 codes, ±1 step, no replay, lock-out after five failures."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest

from accessgov.errors import LockedOut
from accessgov.identity import totp as mfa
from accessgov.identity.totp import CodeRejected

RFC_SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # ASCII "12345678901234567890"
T0 = dt.datetime.fromtimestamp(1111111109, dt.UTC)


def state(last_step: int = 0, failures: int = 0, locked_until: str | None = None) -> dict:
    return {"person": "vperkins", "last_step": last_step, "failures": failures,
            "locked_until": locked_until}


@pytest.mark.parametrize(("timestamp", "eight_digits"), [
    (59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"),
    (1234567890, "89005924"), (2000000000, "69279037"), (20000000000, "65353130"),
])
def test_codes_match_the_rfc_6238_vectors(timestamp: int, eight_digits: str) -> None:
    moment = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    assert mfa.current_code(RFC_SEED, moment) == eight_digits[-6:]


def test_a_code_is_accepted_one_step_either_side_of_now() -> None:
    step = mfa.step_of(T0)
    for offset in (-1, 0, 1):
        code = mfa.code_at_step(RFC_SEED, step + offset)
        assert mfa.check_code(state(), RFC_SEED, code, T0) == step + offset


def test_a_code_two_steps_old_has_expired() -> None:
    code = mfa.code_at_step(RFC_SEED, mfa.step_of(T0) - 2)
    with pytest.raises(CodeRejected, match="expired") as caught:
        mfa.check_code(state(), RFC_SEED, code, T0)
    assert caught.value.failure.reason == "expired"


def test_a_code_is_never_accepted_twice() -> None:
    step = mfa.step_of(T0)
    code = mfa.code_at_step(RFC_SEED, step)
    with pytest.raises(CodeRejected, match="already been used"):
        mfa.check_code(state(last_step=step), RFC_SEED, code, T0)


def test_an_earlier_step_than_the_last_accepted_is_refused_too() -> None:
    step = mfa.step_of(T0)
    code = mfa.code_at_step(RFC_SEED, step - 1)
    with pytest.raises(CodeRejected, match="already been used"):
        mfa.check_code(state(last_step=step), RFC_SEED, code, T0)


def test_wrong_and_malformed_codes_are_rejected() -> None:
    with pytest.raises(CodeRejected, match="not correct"):
        mfa.check_code(state(), RFC_SEED, "000000" if mfa.current_code(RFC_SEED, T0) != "000000"
                       else "111111", T0)
    with pytest.raises(CodeRejected, match="six digits"):
        mfa.check_code(state(), RFC_SEED, "12ab56", T0)


def test_five_failures_in_a_row_lock_the_person_out_for_15_minutes() -> None:
    current = state()
    for _ in range(4):
        current |= mfa.after_failure(current, T0)
        assert current["locked_until"] is None
    current |= mfa.after_failure(current, T0)
    assert current["locked_until"] == "2005-03-18T02:13:29Z"
    assert current["failures"] == 0
    good = mfa.current_code(RFC_SEED, T0)
    with pytest.raises(LockedOut, match="locked out"):
        mfa.check_code(current, RFC_SEED, good, T0)
    later = T0 + dt.timedelta(minutes=15, seconds=1)
    assert mfa.check_code(current, RFC_SEED, mfa.current_code(RFC_SEED, later), later) == \
        mfa.step_of(later)


def test_enrolment_uri_follows_the_key_uri_format() -> None:
    seed = mfa.new_seed()
    uri = mfa.provisioning_uri(seed, "vperkins@interact")
    parsed = pyotp.parse_uri(uri)
    assert uri.startswith("otpauth://totp/accessgov:vperkins%40interact?")
    assert parsed.secret == seed and parsed.issuer == "accessgov"
    assert parsed.digits == 6 and parsed.interval == 30
    assert len(seed) == 32  # 160 bits
