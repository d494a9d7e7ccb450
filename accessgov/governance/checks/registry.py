"""`accessgov check`: the list of rule families, and running them against the register.

Each rule family is one module of this package (see `base`), listed in FAMILIES. To add a
family, write its module and add it to FAMILIES: nothing else changes.
"""

from __future__ import annotations

from collections.abc import Iterable

from accessgov.governance.checks import (
    accounts,
    approvals,
    credentials,
    grants,
    incidents,
    messaging,
    offboarding,
    policy,
    reviews,
    store,
)
from accessgov.governance.checks.base import SEVERITIES, Context, Family, Finding, PolicyRule

# In the order their findings are listed within a severity.
FAMILIES: tuple[Family, ...] = (
    approvals,
    grants,
    accounts,
    messaging,
    credentials,
    store,
    reviews,
    policy,
    offboarding,
    incidents,
)

__all__ = ["SEVERITIES", "Context", "Finding", "PolicyRule", "all_rules", "at_or_above", "counts",
           "run", "store_reconciled"]


def all_rules() -> list[PolicyRule]:
    """Every rule, family by family."""
    return [rule for family in FAMILIES for rule in family.RULES]


def run(context: Context, threshold: str = "low") -> list[Finding]:
    """Every finding at or above `threshold`, most serious first, then by rule and subject."""
    found = [finding for family in FAMILIES for finding in family.findings(context)]
    order = {rule.id: n for n, rule in enumerate(all_rules())}
    kept = at_or_above(found, threshold)
    return sorted(kept, key=lambda f: (-SEVERITIES.index(f.severity), order[f.rule], f.subject))


def at_or_above(findings: Iterable[Finding], threshold: str) -> list[Finding]:
    """The findings whose severity is `threshold` or worse."""
    floor = SEVERITIES.index(threshold)
    return [finding for finding in findings if SEVERITIES.index(finding.severity) >= floor]


def store_reconciled(context: Context, findings: Iterable[Finding]) -> bool:
    """Whether these findings include the reconciliation with the secret store (it was asked
    for, and it could be checked)."""
    return context.store is not None and context.store_problem is None and not any(
        finding.rule == store.NOT_CHECKED.id for finding in findings)


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    """How many findings of each severity, most serious first."""
    tally = dict.fromkeys(reversed(SEVERITIES), 0)
    for finding in findings:
        tally[finding.severity] += 1
    return tally
