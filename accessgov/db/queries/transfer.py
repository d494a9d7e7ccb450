"""Named queries of import and export: the whole register's people, accounts, delegations
and grants, in the form the spreadsheet holds them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from accessgov.db.queries.grants import CLAIMS_JOIN, EFFECTIVE_STATUS
from accessgov.db.register import Register, Row

# An imported grant goes out as its file recorded it (its claim): imported again, it is the
# new importer's approval, with the same claim.
_GRANTS = f"""
SELECT g.id, g.person, g.account, g.role, g.reason, {EFFECTIVE_STATUS} AS status, g.expires,
       g.requested_by, g.requested_at, COALESCE(cl.claimed_by, ap.approver) AS decided_by,
       COALESCE(cl.authority, ap.authority) AS authority,
       COALESCE(cl.claimed_at, ap.at) AS decided_at,
       CASE WHEN cl.grant_id IS NULL THEN ap.board_minute ELSE cl.board_minute END
           AS board_minute, g.revoked_by, g.revoked_at, g.revoke_reason
FROM grants g LEFT JOIN approvals ap ON ap.grant_id = g.id {CLAIMS_JOIN}
"""
GRANT_COLUMNS = ("id", "num", "person", "account", "role", "reason", "requested_by",
                 "requested_at", "expires", "status", "decided_at", "revoked_by", "revoked_at",
                 "revoke_reason")
APPROVAL_COLUMNS = ("grant_id", "decision", "approver", "authority", "board_minute",
                    "mfa_verified", "verified_by", "at")
CLAIM_COLUMNS = ("grant_id", "claimed_by", "authority", "claimed_at", "board_minute",
                 "imported_by", "imported_at")


def people(register: Register) -> list[Row]:
    """Everyone, by id."""
    return register.rows("SELECT * FROM people ORDER BY id")


def accounts(register: Register) -> list[Row]:
    """Every account, by id."""
    return register.rows("SELECT * FROM accounts ORDER BY id")


def delegations(register: Register) -> list[Row]:
    """Every delegation, oldest first."""
    return register.rows("SELECT * FROM delegations ORDER BY num")


def delegation_scopes(register: Register) -> dict[str, list[str]]:
    """delegation -> the accounts of its scope, by account."""
    scopes: dict[str, list[str]] = {}
    for scope in register.rows("SELECT delegation, account FROM delegation_accounts "
                               "ORDER BY account"):
        scopes.setdefault(scope["delegation"], []).append(scope["account"])
    return scopes


def grants(register: Register, today: str) -> list[Row]:
    """Every grant with its decision, oldest first."""
    return register.rows(f"{_GRANTS} ORDER BY g.num", {"today": today})


def grant(register: Register, grant_id: str, today: str) -> Row | None:
    """One grant with its decision, if the register has it."""
    return register.row(f"{_GRANTS} WHERE g.id = :id", {"id": grant_id, "today": today})


def grant_keys(register: Register) -> Iterator[tuple[Any, ...]]:
    """(id, num, person, account, status) of every grant, as they come (100,000 of them)."""
    return register.tuples("SELECT id, num, person, account, status FROM grants")


def shared_password_versions(register: Register) -> dict[str, int]:
    """Shared-login account -> the version of its password."""
    return {row["account"]: row["version"] for row in register.rows(
        "SELECT c.account, c.version FROM credentials c JOIN accounts a "
        "ON a.id = c.account WHERE a.access = 'shared-login' AND c.kind = 'password'")}


def insert_grants(register: Register, rows: Iterable[tuple[Any, ...]]) -> None:
    """Write grants given as tuples in GRANT_COLUMNS order, in one statement."""
    register.insert_many("grants", GRANT_COLUMNS, rows)


def insert_approvals(register: Register, rows: Iterable[tuple[Any, ...]]) -> None:
    """Write approvals given as tuples in APPROVAL_COLUMNS order, in one statement."""
    register.insert_many("approvals", APPROVAL_COLUMNS, rows)


def insert_claims(register: Register, rows: Iterable[tuple[Any, ...]]) -> None:
    """Write imported approvals' claims given as tuples in CLAIM_COLUMNS order."""
    register.insert_many("approval_claims", CLAIM_COLUMNS, rows)
