"""Offboarding that has stalled: a checklist left undone, or a leave date gone by unheeded.

"Passwords and access details must never be shared inappropriately or with unauthorised
individuals" ("Access"): someone who has left is no longer authorised, so their checklist
(platform roles, passwords they could know, accounts they recover) must be worked through,
not left open. The findings about a leaver themselves are other families' (a grant they still
hold: GRT-001, a credential they could know: CRD-001, an account they recover: SEC-006, own:
SEC-004 or oversee: MSG-001); these are about the offboarding itself.
"""

from __future__ import annotations

from collections.abc import Iterator

from accessgov.db.queries import findings as rows
from accessgov.governance.checks.base import ACCESS, Context, Finding, PolicyRule

STALLED = PolicyRule("OFB-001", "medium", "an offboarding checklist with items still to do a week "
                     "after it was carried out", ACCESS)
NOT_CARRIED_OUT = PolicyRule("OFB-002", "high", "an offboarding whose leave date has passed but "
                             "which has not been carried out yet", ACCESS)
RULES = (STALLED, NOT_CARRIED_OUT)
DAYS_TO_FINISH = 7


def findings(context: Context) -> Iterator[Finding]:
    """Every finding of this family."""
    for case in rows.stalled_offboarding(context.register,
                                         context.days_before(DAYS_TO_FINISH)):
        yield STALLED.finding(
            case["id"], f"{context.name(case['person'])} was offboarded on "
            f"{case['carried_out_at'][:10]} ({case['id']}), and {case['still']} checklist "
            f"item{'s are' if case['still'] != 1 else ' is'} still to do: see 'accessgov "
            f"offboard show {case['person']}'.", case["person"])
    for case in rows.offboarding_due(context.register, context.today):
        yield NOT_CARRIED_OUT.finding(
            case["id"], f"{context.name(case['person'])} left on {case['leave_date']} "
            f"({case['id']}), but the register still counts them as here: the next change "
            "carries the offboarding out (their access is refused already).", case["person"])
