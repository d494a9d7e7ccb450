"""The security of each active account: its MFA, its owner, enough admins not to be locked
out, and a recovery contact who is still here; and of the register itself, whose approvers
a keyring cannot keep apart.

"The CEO and Board of Trustees will maintain oversight of: account access; passwords and
login arrangements; authorised contributors; and account security arrangements" ("Access").
"""

from __future__ import annotations

from collections.abc import Iterator

from accessgov.access import catalogue
from accessgov.db.queries import accounts
from accessgov.db.queries import findings as rows
from accessgov.governance.checks.base import ACCESS, Context, Finding, PolicyRule
from accessgov.identity.rules import is_approver_category

NO_MFA = PolicyRule("SEC-001", "high", "an account without MFA", ACCESS)
SMS_ONLY = PolicyRule("SEC-002", "medium", "an account whose only MFA is a text message (SMS)",
                      ACCESS)
MFA_UNKNOWN = PolicyRule("SEC-003", "medium", "an account whose MFA nobody has recorded", ACCESS)
NO_OWNER = PolicyRule("SEC-004", "high", "an account without an active owner", ACCESS)
FEW_ADMINS = PolicyRule("SEC-005", "medium", "fewer than two active admins on an account that "
                        "has admins (lock-out risk)", ACCESS)
LEAVER_RECOVERY = PolicyRule("SEC-006", "high", "an account whose recovery email belongs to "
                             "someone who has left", ACCESS)
KEYRING_APPROVERS = PolicyRule("SEC-007", "medium", "more than one approver acting in a register "
                               "whose secrets are in one computer's keyring", ACCESS)
SHARED_NO_EXCEPTION = PolicyRule("SEC-008", "medium", "a shared login with no recorded "
                                 "exception and compensating controls", ACCESS)
RULES = (NO_MFA, SMS_ONLY, MFA_UNKNOWN, NO_OWNER, FEW_ADMINS, LEAVER_RECOVERY, KEYRING_APPROVERS,
         SHARED_NO_EXCEPTION)

_MFA = {
    "none": (NO_MFA, "has no MFA: anyone with its password can sign in. Turn on an "
                     "authenticator app or a security key and record it with 'accessgov "
                     "account update {id} --mfa totp'."),
    "sms": (SMS_ONLY, "relies on codes sent by text message, which can be stolen by moving "
                      "the phone number to another SIM: switch to an authenticator app or a "
                      "security key."),
    "unknown": (MFA_UNKNOWN, "has no MFA method recorded: check it on the platform and record "
                             "it with 'accessgov account update {id} --mfa METHOD'."),
}


def findings(context: Context) -> Iterator[Finding]:
    """Every finding of this family."""
    leavers = {row["email"].lower(): row["id"] for row in context.people.values()
               if row["status"] == "left"}
    for account in rows.active_accounts(context.register):
        yield from _account(context, account, leavers)
    yield from _few_admins(context)
    yield from _keyring_approvers(context)
    yield from _shared_without_exception(context)


def _shared_without_exception(context: Context) -> Iterator[Finding]:
    """A shared login is one password several people know: acceptable only as a recorded
    exception, with what compensates for it (Cyber Essentials' user access control)."""
    for account in accounts.shared_logins(context.register):
        if account["controls"] is None:
            name = account["account"]
            yield SHARED_NO_EXCEPTION.finding(
                name, f"{name} ({account['platform']}) is one login shared by everyone who "
                "uses it, and nobody has recorded why that is accepted or what compensates "
                "for it. The CEO or a trustee records it with 'accessgov account update "
                f"{name} --shared-login-exception \"...\"' (e.g. the password only in "
                "accessgov, rotated when anyone leaves; MFA codes from accessgov), or moves "
                "the account to personal logins.", account["owner"])


def _account(context: Context, account: dict[str, str], leavers: dict[str, str]
             ) -> Iterator[Finding]:
    name = account["id"]
    if account["mfa_method"] in _MFA:
        rule, text = _MFA[account["mfa_method"]]
        yield rule.finding(name, f"{name} ({account['platform']}) {text.format(id=name)}")
    if account["owner_status"] != "active":
        yield NO_OWNER.finding(
            name, f"{name}'s owner {context.name(account['owner'])} has left: nobody answers "
            f"for it. An approver gives it a new owner with 'accessgov account update {name} "
            "--owner PERSON'.", account["owner"])
    recovery = (account["recovery_email"] or "").lower()
    if recovery in leavers:
        leaver = leavers[recovery]
        yield LEAVER_RECOVERY.finding(
            name, f"{name}'s recovery email {account['recovery_email']} is that of "
            f"{context.name(leaver)}, who has left: they could take the account over with a "
            f"password reset. Change it on the platform and with 'accessgov account update "
            f"{name} --recovery-email ...'.", leaver)


def _few_admins(context: Context) -> Iterator[Finding]:
    """Delegated accounts on platforms with an admin role: each needs two admins who are still
    here, or losing one locks the charity out (shared logins have no admins to count)."""
    with_admins = [p.id for p in catalogue.all_platforms()
                   if "admin" in p.roles and p.delegated_access]
    short = list(rows.short_of_admins(context.register, context.today, with_admins))
    for account in short:
        if account["admins"]:
            yield FEW_ADMINS.finding(
                account["id"], f"{account['id']} has only one active admin "
                f"({account['admins']}) recorded: if that access is lost, nobody can manage "
                "the account. Grant admin to a second trusted person.")
    # Accounts with no admin at all are one finding, not one each: a new register has many.
    none = [account["id"] for account in short if not account["admins"]]
    if none:
        shown = ", ".join(none[:10]) + (f" and {len(none) - 10:,} more" if len(none) > 10
                                         else "")
        these = "it" if len(none) == 1 else "each"
        yield FEW_ADMINS.finding(
            "accounts with no admin", f"{shown} {'has' if len(none) == 1 else 'have'} no "
            f"active admin recorded: if the platform access is lost, nobody can manage "
            f"{'it' if len(none) == 1 else 'them'}. Grant admin to two trusted people on "
            f"{these} ('accessgov grant add PERSON ACCOUNT --role admin').",
            *(none if len(none) <= 10 else ()))


def _keyring_approvers(context: Context) -> Iterator[Finding]:
    """In keyring mode one OS login holds every operator's seed: whoever controls it can act
    as any approver, so several approvers there are kept apart by trust alone."""
    if context.settings.get("backend") != "keyring":
        return
    approvers = [row["id"] for row in rows.approvers_and_delegates(context.register,
                                                                   context.today)
                 if row["mfa"] == "confirmed"
                 and (is_approver_category(row["category"]) or row["delegations"])]
    if len(approvers) < 2:
        return
    yield KEYRING_APPROVERS.finding(
        "keyring", f"{len(approvers)} approvers ({', '.join(approvers)}) act in a register "
        "whose secrets, their authenticator seeds among them, are in this computer's keyring: "
        "whoever controls this OS login can act as any of them whose codes they can produce, "
        "so the register cannot keep them apart. Keep one custodian per keyring register, or "
        "move to OpenBao, where each operator signs in and signs on their own (README, 'Who "
        "may do what').", *approvers)
