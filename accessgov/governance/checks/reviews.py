"""Access reviews: one closed every quarter, none left open past its due date.

"The CEO and Board of Trustees will maintain oversight of: account access ... authorised
contributors" ("Access"), and the arrangements are monitored and reviewed ("Monitoring and
Reviewing"): the quarterly access review is how that oversight is shown.
"""

from __future__ import annotations

from collections.abc import Iterator

from accessgov.db.queries import findings as rows
from accessgov.governance.checks.base import MONITORING, Context, Finding, PolicyRule

REVIEW_INTERVAL_DAYS = 92  # a quarter, and a day or two to close it

OVERDUE = PolicyRule("REV-001", "medium", "an access review past its due date and not closed",
                     MONITORING)
NONE_RECENT = PolicyRule("REV-002", "medium",
                         f"no access review closed in the last {REVIEW_INTERVAL_DAYS} days",
                         MONITORING)
RULES = (OVERDUE, NONE_RECENT)


def findings(context: Context) -> Iterator[Finding]:
    """Every finding of this family."""
    for campaign in rows.overdue_reviews(context.register, context.today):
        yield OVERDUE.finding(
            campaign["id"], f"The {campaign['id']} access review was due on {campaign['due']} "
            f"and is still open ({campaign['decided']} of {campaign['items']} items decided): "
            f"decide the rest and close it with 'accessgov review close {campaign['id']}'.")
    last = rows.last_closed_review(context.register)
    if last is None or last["closed_at"][:10] < context.days_before(REVIEW_INTERVAL_DAYS):
        since = (f"the last was {last['id']}, closed on {last['closed_at'][:10]}" if last
                 else "none has ever been closed")
        yield NONE_RECENT.finding(
            "access reviews", f"No access review has been closed in the last "
            f"{REVIEW_INTERVAL_DAYS} days ({since}): start one with 'accessgov review start', "
            "decide every grant and close it.")
