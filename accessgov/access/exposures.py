"""Who could know which secret, since when: the one place that answers it.

An exposure says a person could know one version of a credential: they revealed it, took a
code from its seed, hold a grant on a shared-login account (everyone on such an account
uses its one password), or stored it themselves (typed it in, or had a generated one shown).
A rotation makes a new version, which nobody has been exposed to yet.
"""

from __future__ import annotations

from accessgov.db.queries import get_account, get_credential, live_grants_on
from accessgov.db.register import Register, Row

# For a credentials row `c`: who could know its current version, as a JSON array of ids.
EXPOSED_TO_CURRENT = (
    "(SELECT json_group_array(person) FROM (SELECT DISTINCT e.person FROM exposures e "
    "WHERE e.account = c.account AND e.kind = c.kind AND e.version = c.version "
    "ORDER BY e.person))"
)


def expose(register: Register, person: str, account: str, kind: str, version: int, how: str,
           grant: str | None, at: str) -> None:
    """Record that `person` could know `version` of a credential from `at` on."""
    register.insert("exposures", {"person": person, "account": account, "kind": kind,
                                  "version": version, "at": at, "how": how,
                                  "grant_id": grant})


def expose_grant_holder(register: Register, grant: Row, at: str) -> None:
    """A new grant on a shared-login account exposes its password from the grant's start."""
    account = get_account(register, grant["account"])
    credential = get_credential(register, grant["account"], "password")
    if account["access"] == "shared-login" and credential:
        expose(register, grant["person"], grant["account"], "password", credential["version"],
               "shared-login grant", grant["id"], at)


def expose_grant_holders(register: Register, account: str, version: int, today: str,
                         at: str) -> list[str]:
    """Every holder of a live grant on a shared-login account knows its new password."""
    holders = live_grants_on(register, account, today)
    for holder in holders:
        expose(register, holder["person"], account, "password", version,
               "shared-login grant", holder["id"], at)
    return [holder["person"] for holder in holders]



def current_versions_known_by(register: Register, person: str) -> list[Row]:
    """Every credential whose CURRENT version `person` could know: account, kind, version,
    since (their first exposure to it) and how (each way, comma-separated). A credential
    rotated since their last exposure is not among them."""
    return register.rows(
        "SELECT c.account, c.kind, c.version, MIN(e.at) AS since, "
        "group_concat(DISTINCT e.how) AS how "
        "FROM exposures e JOIN credentials c "
        "ON c.account = e.account AND c.kind = e.kind AND c.version = e.version "
        "WHERE e.person = ? GROUP BY c.account, c.kind, c.version "
        "ORDER BY c.account, c.kind", (person,))


# Per account and person, the current credential versions they could know, as
# "password v3, totp-seed v1": a CTE named `known` (account, person, versions) for reports
# that list who holds what, joined once rather than asked per row.
KNOWN_CURRENT_CTE = (
    "known AS (SELECT e.account, e.person, group_concat(e.kind || ' v' || e.version, ', ') "
    "AS versions FROM (SELECT DISTINCT e.account, e.person, e.kind, e.version "
    "FROM exposures e JOIN credentials c ON c.account = e.account AND c.kind = e.kind "
    "AND c.version = e.version ORDER BY e.account, e.person, e.kind) e "
    "GROUP BY e.account, e.person)"
)


def versions_known_by(register: Register, person: str) -> list[Row]:
    """Every credential version `person` could ever know, current or rotated since: account,
    kind, version, current (whether it is still the one in use), since (their first exposure)
    and how (each way, comma-separated)."""
    rows = register.rows(
        "SELECT e.account, e.kind, e.version, c.version = e.version AS current, "
        "MIN(e.at) AS since, group_concat(DISTINCT e.how) AS how FROM exposures e "
        "LEFT JOIN credentials c ON c.account = e.account AND c.kind = e.kind "
        "WHERE e.person = ? GROUP BY e.account, e.kind, e.version "
        "ORDER BY e.account, e.kind, e.version", (person,))
    for row in rows:
        row["current"] = bool(row["current"])
    return rows
