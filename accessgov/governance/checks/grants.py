"""Grants that should have ended: held by someone who has left, or past their last day.

Access is for authorised contributors ("Access"); someone who has left is no longer one, and
a grant's end date is part of what was approved.
"""

from __future__ import annotations

from collections.abc import Iterator

from accessgov.db.queries import findings as rows
from accessgov.governance.checks.base import ACCESS, Context, Finding, PolicyRule

LEAVER = PolicyRule("GRT-001", "high", "someone who has left still holds a grant", ACCESS)
PAST_EXPIRY = PolicyRule("GRT-002", "medium", "a grant past its last day still recorded as active",
                         ACCESS)
RULES = (LEAVER, PAST_EXPIRY)


def findings(context: Context) -> Iterator[Finding]:
    """Every finding of this family."""
    for grant in rows.held_by_leavers(context.register):
        left = f" on {grant['leave_date']}" if grant["leave_date"] else ""
        yield LEAVER.finding(
            grant["id"], f"{context.name(grant['person'])} left{left} but still holds "
            f"{grant['id']} ({grant['role']} on {grant['account']}): revoke it and remove them "
            "on the platform too.", grant["person"], grant["account"])
    for grant in rows.past_expiry(context.register, context.today):
        yield PAST_EXPIRY.finding(
            grant["id"], f"{grant['id']} ({context.name(grant['person'])}, {grant['role']} on "
            f"{grant['account']}) ended on {grant['expires']}: make sure they have been removed "
            "on the platform (the register marks it expired at its next change).",
            grant["person"], grant["account"])
