"""Named queries of credentials (metadata only: the secrets are in the store), their
versions, and exposures: who could know which version, since when."""

from __future__ import annotations

import json

from accessgov.db.register import Dialect, Register, Row


def exposed_to_current(dialect: Dialect) -> str:
    """For a credentials row `c`: who could know its current version, as a JSON array of
    ids."""
    return (f"(SELECT {dialect.json_array('person')} FROM (SELECT DISTINCT e.person "
            "FROM exposures e WHERE e.account = c.account AND e.kind = c.kind "
            "AND e.version = c.version ORDER BY e.person) p)")


def known_current_cte(dialect: Dialect) -> str:
    """Per account and person, the current credential versions they could know, as
    "password v3, totp-seed v1": a CTE named `known` (account, person, versions) for reports
    that list who holds what, joined once rather than asked per row."""
    versions = dialect.joined("e.kind || ' v' || e.version", ", ")
    return (f"known AS (SELECT e.account, e.person, {versions} AS versions FROM ("
            "SELECT DISTINCT e.account, e.person, e.kind, e.version "
            "FROM exposures e JOIN credentials c ON c.account = e.account AND c.kind = e.kind "
            "AND c.version = e.version ORDER BY e.account, e.person, e.kind) e "
            "GROUP BY e.account, e.person)")


def get(register: Register, account: str, kind: str) -> Row | None:
    """The register's record of one credential (checked while a change runs), if any."""
    return register.sealed_row(
        "credentials", "SELECT * FROM credentials WHERE account = ? AND kind = ?",
        (account, kind))


def kinds_of(register: Register, account: str) -> list[str]:
    """The kinds of credential an account has."""
    return [row["kind"] for row in
            register.rows("SELECT kind FROM credentials WHERE account = ?", (account,))]


def listing(register: Register, account: str | None = None) -> list[Row]:
    """Credential metadata with who has been exposed to each current version."""
    where, params = ("WHERE c.account = ?", [account]) if account else ("", [])
    rows = register.rows(
        "SELECT c.account, a.platform, a.access, c.kind, c.backend, c.reference, c.version, "
        "c.set_by, c.set_at, COALESCE(c.rotated_by, c.set_by) AS last_changed_by, "
        "COALESCE(c.rotated_at, c.set_at) AS last_changed_at, "
        f"{exposed_to_current(register.dialect)} AS exposed_to_current "
        f"FROM credentials c JOIN accounts a ON a.id = c.account {where} "
        "ORDER BY c.account, c.kind",
        params,
    )
    for row in rows:
        row["exposed_to_current"] = json.loads(row["exposed_to_current"])
    return rows


def approved_holders(register: Register, account: str) -> list[Row]:
    """The account's active grants with their approvers (id, approver), oldest first."""
    return register.rows(
        "SELECT g.id, a.approver FROM grants g JOIN approvals a ON a.grant_id = g.id "
        "WHERE g.account = ? AND g.status = 'active' AND a.decision = 'approved' ORDER BY g.num",
        (account,))


def current_versions_known_by(register: Register, person: str) -> list[Row]:
    """Every credential whose CURRENT version `person` could know: account, kind, version,
    since (their first exposure to it) and how (each way, comma-separated)."""
    return register.rows(
        "SELECT c.account, c.kind, c.version, MIN(e.at) AS since, "
        f"{register.dialect.joined('e.how', distinct=True)} AS how "
        "FROM exposures e JOIN credentials c "
        "ON c.account = e.account AND c.kind = e.kind AND c.version = e.version "
        "WHERE e.person = ? GROUP BY c.account, c.kind, c.version "
        "ORDER BY c.account, c.kind", (person,))


def versions_known_by(register: Register, person: str) -> list[Row]:
    """Every credential version `person` could ever know, current or rotated since."""
    rows = register.rows(
        "SELECT e.account, e.kind, e.version, c.version = e.version AS current, "
        f"MIN(e.at) AS since, {register.dialect.joined('e.how', distinct=True)} AS how "
        "FROM exposures e LEFT JOIN credentials c ON c.account = e.account AND c.kind = e.kind "
        "WHERE e.person = ? GROUP BY e.account, e.kind, e.version, c.version "
        "ORDER BY e.account, e.kind, e.version", (person,))
    for row in rows:
        row["current"] = bool(row["current"])
    return rows


def exposures_of_version(register: Register, account: str, kind: str, version: int
                         ) -> list[Row]:
    """Every exposure to one version (person, how, grant_id, at), oldest first."""
    return register.rows("SELECT person, how, grant_id, at FROM exposures WHERE account = ? "
                         "AND kind = ? AND version = ? ORDER BY id", (account, kind, version))
