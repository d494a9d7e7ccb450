"""The policy's own upkeep: its annual review, and the settings the policy checks use.

"The Senior Management Team are responsible for monitoring and reviewing this policy and
associated arrangements at least annually" ("Monitoring and Reviewing"): `policy reviewed`
records each review, and `check` reports when none is recorded for a year.
"""

from __future__ import annotations

from typing import Any

from accessgov.common import validate
from accessgov.common.timeutil import parse_date
from accessgov.db.queries import policy
from accessgov.db.register import Register, Row
from accessgov.db.seals import strip
from accessgov.errors import InputError
from accessgov.governance.checks.credentials import DEFAULT_MAX_AGE_DAYS, MAX_AGE_SETTING
from accessgov.identity.authority import authorise
from accessgov.identity.proof import prove
from accessgov.operation import Operation

# name on the command line -> (settings key, default, description)
SETTINGS = {
    "credential-max-age-days": (
        MAX_AGE_SETTING, DEFAULT_MAX_AGE_DAYS,
        "the longest a shared credential may go without rotation before 'check' reports it"),
}
MAX_DAYS = 3650


def record_review(op: Operation, reviewed_on: str, board_minute: str | None) -> Row:
    """Record that the policy was reviewed on `reviewed_on` (not in the future)."""
    day = parse_date(reviewed_on, "--date")
    if day > op.today:
        raise InputError(f"--date {day} is in the future; record a review once it has happened")
    minute = validate.text(board_minute, "board minute") if board_minute else None
    authority = authorise(op, "policy.review", "policy")
    proof = prove(op)
    review_id, number = op.next_id("policy_reviews", "PR")
    row = {"id": review_id, "num": number, "reviewed_on": day, "board_minute": minute,
           "recorded_by": op.operator["id"], "authority": str(authority),
           "verified_by": proof.describe(), "at": op.at}
    op.register.insert("policy_reviews", row)
    op.record("policy.review", review_id, reviewed_on=day, board_minute=minute,
              authority=str(authority))
    return row


def change_setting(op: Operation, name: str, value: str) -> tuple[str, str]:
    """Change one of the checks' settings; returns (old value, new value)."""
    if name not in SETTINGS:
        raise InputError(f"there is no setting {name!r}; choose one of: {', '.join(SETTINGS)}")
    key, default, _ = SETTINGS[name]
    if not validate.digits(value) or not 1 <= int(value) <= MAX_DAYS:
        raise InputError(f"{name} must be a whole number of days from 1 to {MAX_DAYS}, "
                         f"not {validate.shown(value)}")
    authorise(op, "policy.setting", key)
    old = op.register.setting(key) or str(default)
    op.register.set_setting(key, str(int(value)))
    op.record("policy.setting", key, before=old, after=str(int(value)))
    return old, str(int(value))


def policy_status(register: Register) -> dict[str, Any]:
    """The recorded policy reviews, newest first, and the checks' settings."""
    reviews = [strip(row) for row in policy.reviews(register)]
    for review in reviews:
        del review["num"]
    stored = register.settings()
    settings = [{"name": name, "value": _stored_number(stored.get(key), default),
                 "default": default, "meaning": meaning}
                for name, (key, default, meaning) in SETTINGS.items()]
    return {"reviews": reviews, "settings": settings}


def _stored_number(value: str | None, default: int) -> int:
    """A setting as stored; the default for a value that is not a number (written behind
    the log: `check` then reads the default too)."""
    return int(value) if value and validate.digits(value) else default
