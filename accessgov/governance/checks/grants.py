"""Grants that should have ended: held by someone who has left, or past their last day.

Access is for authorised contributors ("Access"); someone who has left is no longer one, and
a grant's end date is part of what was approved.
"""

from __future__ import annotations

from collections.abc import Iterator

from accessgov.governance.checks.base import ACCESS, Context, Finding, Rule

LEAVER = Rule("GRT-001", "high", "someone who has left still holds a grant", ACCESS)
PAST_EXPIRY = Rule("GRT-002", "medium", "a grant past its last day still recorded as active",
                   ACCESS)
RULES = (LEAVER, PAST_EXPIRY)


def findings(context: Context) -> Iterator[Finding]:
    """Every finding of this family."""
    leavers = ("SELECT g.id, g.person, g.account, g.role, p.leave_date FROM grants g "
               "JOIN people p ON p.id = g.person "
               "WHERE g.status = 'active' AND p.status = 'left' ORDER BY g.num")
    for grant in context.rows(leavers):
        left = f" on {grant['leave_date']}" if grant["leave_date"] else ""
        yield LEAVER.finding(
            grant["id"], f"{context.name(grant['person'])} left{left} but still holds "
            f"{grant['id']} ({grant['role']} on {grant['account']}): revoke it and remove them "
            "on the platform too.", grant["person"], grant["account"])
    expired = ("SELECT g.id, g.person, g.account, g.role, g.expires FROM grants g "
               "WHERE g.status = 'active' AND g.expires < :today ORDER BY g.num")
    for grant in context.rows(expired):
        yield PAST_EXPIRY.finding(
            grant["id"], f"{grant['id']} ({context.name(grant['person'])}, {grant['role']} on "
            f"{grant['account']}) ended on {grant['expires']}: make sure they have been removed "
            "on the platform (the register marks it expired at its next change).",
            grant["person"], grant["account"])
