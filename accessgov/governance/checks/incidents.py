"""Incidents left open: an account compromised or a device lost whose checklist (credentials
to rotate, sessions to end, the decision on reporting to the Charity Commission) is still
not done a week later.

"Reporting Non-Compliance": what is reported must be dealt with, and the Board must decide
whether a serious incident is reported to the Charity Commission.
"""

from __future__ import annotations

from collections.abc import Iterator

from accessgov.db.queries import incidents as rows
from accessgov.governance.checks.base import REPORTING, Context, Finding, PolicyRule

OPEN_TOO_LONG = PolicyRule("INC-001", "high", "an incident still open a week after it was "
                           "reported", REPORTING)
RULES = (OPEN_TOO_LONG,)
DAYS_TO_CLOSE = 7


def findings(context: Context) -> Iterator[Finding]:
    """Every finding of this family."""
    for incident in rows.stale(context.register, context.days_before(DAYS_TO_CLOSE)):
        yield OPEN_TOO_LONG.finding(
            incident["id"], f"{incident['id']} ({incident['kind']}, {incident['subject']}) was "
            f"opened on {incident['opened_at'][:10]} and is still open: work its checklist "
            f"('accessgov incident show {incident['id']}') and close it.", incident["subject"])
