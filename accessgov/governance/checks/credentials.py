"""Shared credentials: nobody who has left still knows one, none goes too long unchanged,
and a TOTP seed has its recovery codes beside it.

"Passwords and access details must never be shared inappropriately or with unauthorised
individuals" ("Access"): someone who has left is no longer authorised, so a password they
could know must be changed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from accessgov.common import validate
from accessgov.db.queries import findings as rows
from accessgov.governance.checks.base import ACCESS, Context, Finding, PolicyRule

LEAVER_KNOWS = PolicyRule("CRD-001", "high", "a credential known to someone who has left, not "
                          "rotated since", ACCESS)
TOO_OLD = PolicyRule("CRD-002", "low", "a credential older than the maximum age (setting "
                     "credential_max_age_days)", ACCESS)
SEED_WITHOUT_CODES = PolicyRule("CRD-003", "medium", "a TOTP seed with nobody recorded as holding "
                                "the account's recovery codes", ACCESS)
RULES = (LEAVER_KNOWS, TOO_OLD, SEED_WITHOUT_CODES)

MAX_AGE_SETTING = "credential_max_age_days"
DEFAULT_MAX_AGE_DAYS = 365


def max_age_days(context: Context) -> int:
    """The longest a credential may go unchanged, in days (a setting; 365 by default)."""
    return max_age_of(context.settings)


def max_age_of(settings: Mapping[str, str]) -> int:
    """The same, from the register's settings (reminders read it too)."""
    value = settings.get(MAX_AGE_SETTING, "")
    return int(value) if validate.digits(value) and int(value) > 0 else DEFAULT_MAX_AGE_DAYS


def findings(context: Context) -> Iterator[Finding]:
    """Every finding of this family."""
    for credential in rows.known_to_leavers(context.register):
        leavers = sorted(credential["leavers"].split(","))
        who = ", ".join(context.name(person) for person in leavers)
        what = f"{credential['account']}'s {credential['kind']}"
        yield LEAVER_KNOWS.finding(
            f"{credential['account']}/{credential['kind']}",
            f"{what} (version {credential['version']}) could be known to {who}, who "
            f"{'has' if len(leavers) == 1 else 'have'} left: change it on the platform and "
            f"record it with 'accessgov cred rotate {credential['account']} --kind "
            f"{credential['kind']}'.", credential["account"], *leavers)
    yield from _too_old(context)
    yield from _seeds_without_codes(context)


def _too_old(context: Context) -> Iterator[Finding]:
    days = max_age_days(context)
    for credential in rows.unchanged_since(context.register, context.days_before(days)):
        yield TOO_OLD.finding(
            f"{credential['account']}/{credential['kind']}",
            f"{credential['account']}'s {credential['kind']} was last changed on "
            f"{credential['changed'][:10]}, more than {days} days ago: rotate it with "
            f"'accessgov cred rotate {credential['account']} --kind {credential['kind']}' "
            "(the limit is changed with 'accessgov policy set credential-max-age-days DAYS').",
            credential["account"])


def _seeds_without_codes(context: Context) -> Iterator[Finding]:
    for seed in rows.seeds_without_codes(context.register):
        account = seed["account"]
        yield SEED_WITHOUT_CODES.finding(
            f"{account}/totp-seed",
            f"{account}'s TOTP seed is kept, but nobody has recorded its recovery codes: if "
            "the seed is lost, the charity cannot sign in. Store them with 'accessgov cred "
            f"set {account} --kind recovery-codes --stdin'.", account)
