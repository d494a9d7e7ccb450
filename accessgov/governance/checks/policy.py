"""The policy itself: reviewed at least once a year.

"The Senior Management Team are responsible for monitoring and reviewing this policy and
associated arrangements at least annually" ("Monitoring and Reviewing").
"""

from __future__ import annotations

from collections.abc import Iterator

from accessgov.db.queries import findings as rows
from accessgov.governance.checks.base import MONITORING, Context, Finding, PolicyRule

POLICY_REVIEW_DAYS = 365

OVERDUE = PolicyRule("POL-001", "medium",
                     f"the policy has not been reviewed in the last {POLICY_REVIEW_DAYS} days",
                     MONITORING)
RULES = (OVERDUE,)


def findings(context: Context) -> Iterator[Finding]:
    """Every finding of this family."""
    last = rows.last_policy_review(context.register)
    if last is not None and last["reviewed_on"] >= context.days_before(POLICY_REVIEW_DAYS):
        return
    since = f"the last review recorded was on {last['reviewed_on']}" if last else \
        "no review has been recorded"
    yield OVERDUE.finding(
        "policy", f"The Social Media Policy must be reviewed at least once a year, and {since}: "
        "review it, then record it with 'accessgov policy reviewed --date DATE "
        "--board-minute REF'.")
