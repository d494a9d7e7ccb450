"""Grants that should have ended: held by someone who has left, or past their last day.

Access is for authorised contributors ("Access"); someone who has left is no longer one, and
a grant's end date is part of what was approved.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator

from accessgov.db.queries import findings as rows
from accessgov.db.queries import removals
from accessgov.db.register import Row
from accessgov.governance.checks.base import ACCESS, Context, Finding, PolicyRule

LEAVER = PolicyRule("GRT-001", "high", "someone who has left still holds a grant", ACCESS)
PAST_EXPIRY = PolicyRule("GRT-002", "medium", "a grant past its last day still recorded as active",
                         ACCESS)
REMOVAL_OVERDUE = PolicyRule("GRT-003", "medium", "people still to be removed on a platform more "
                             "than 7 days after their grant ended in the register", ACCESS)
RULES = (LEAVER, PAST_EXPIRY, REMOVAL_OVERDUE)
OVERDUE_DAYS = 7


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
            "on the platform, then tick it with 'accessgov todo done "
            f"{grant['id']}'.", grant["person"], grant["account"])
    yield from _overdue_removals(context)


def _overdue_removals(context: Context) -> Iterator[Finding]:
    """One finding per account: the removals on 'accessgov todo' waiting over a week (a grant
    past its last day but not yet recorded so is GRT-002's)."""
    since = (dt.date.fromisoformat(context.today) - dt.timedelta(days=OVERDUE_DAYS)).isoformat()
    waiting: dict[str, list[Row]] = defaultdict(list)
    for item in removals.open_items(context.register, context.today):
        if (item["ended_on"] or "") < since and item["recorded_status"] != "active":
            waiting[item["account"]].append(item)
    for account, items in waiting.items():
        who = ", ".join(f"{item['person']} ({item['grant_id']}, {item['ended']} "
                        f"{item['ended_on']})" for item in items[:10])
        more = f" and {len(items) - 10:,} more" if len(items) > 10 else ""
        yield REMOVAL_OVERDUE.finding(
            account, f"{account}: {who}{more} may still be on the platform, more than "
            f"{OVERDUE_DAYS} days after their access ended in the register: remove them "
            "there ('accessgov todo' has the steps), then tick each with 'accessgov todo "
            "done GRANT'.", *(item["grant_id"] for item in items[:10]))
