"""Who could know which secret, since when: the one place that answers it.

An exposure says a person could know one version of a credential: they revealed it, took a
code from its seed, hold a grant on a shared-login account (everyone on such an account
uses its one password), or stored it themselves (typed it in, or had a generated one shown).
A rotation makes a new version, which nobody has been exposed to yet.
"""

from __future__ import annotations

from accessgov.db.queries import accounts, credentials, grants
from accessgov.db.register import Register, Row


def expose(register: Register, person: str, account: str, kind: str, version: int, how: str,
           grant: str | None, at: str) -> None:
    """Record that `person` could know `version` of a credential from `at` on."""
    register.insert("exposures", {"person": person, "account": account, "kind": kind,
                                  "version": version, "at": at, "how": how,
                                  "grant_id": grant})


def expose_grant_holder(register: Register, grant: Row, at: str) -> None:
    """A new grant on a shared-login account exposes its password from the grant's start."""
    account = accounts.get(register, grant["account"])
    credential = credentials.get(register, grant["account"], "password")
    if account["access"] == "shared-login" and credential:
        expose(register, grant["person"], grant["account"], "password", credential["version"],
               "shared-login grant", grant["id"], at)


def expose_grant_holders(register: Register, account: str, version: int, today: str,
                         at: str) -> list[str]:
    """Every holder of a live grant on a shared-login account knows its new password."""
    holders = grants.live_on(register, account, today)
    for holder in holders:
        expose(register, holder["person"], account, "password", version,
               "shared-login grant", holder["id"], at)
    return [holder["person"] for holder in holders]


def current_versions_known_by(register: Register, person: str) -> list[Row]:
    """Every credential whose CURRENT version `person` could know: account, kind, version,
    since (their first exposure to it) and how (each way, comma-separated). A credential
    rotated since their last exposure is not among them."""
    return credentials.current_versions_known_by(register, person)


def versions_known_by(register: Register, person: str) -> list[Row]:
    """Every credential version `person` could ever know, current or rotated since: account,
    kind, version, current (whether it is still the one in use), since (their first exposure)
    and how (each way, comma-separated)."""
    return credentials.versions_known_by(register, person)


def carry_over(register: Register, account: str, kind: str, old: int, new: int) -> None:
    """Whoever could know version `old` could know `new`, the same secret kept elsewhere."""
    for row in credentials.exposures_of_version(register, account, kind, old):
        expose(register, row["person"], account, kind, new, row["how"], row["grant_id"],
               row["at"])
