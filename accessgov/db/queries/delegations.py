"""Named queries of delegations and their scopes."""

from __future__ import annotations

from accessgov.db.queries import records
from accessgov.db.register import Register, Row


def get(register: Register, delegation_id: str) -> Row:
    """One delegation (checked while a change runs), or NotFound."""
    return records.by_id(register, "delegations", "delegation", delegation_id)


def held_by(register: Register, person: str) -> list[Row]:
    """A person's delegations (checked while a change runs), oldest first."""
    return register.sealed_rows(
        "delegations", "SELECT * FROM delegations WHERE delegate = ? ORDER BY num", (person,))


def scopes(register: Register, delegation: str) -> list[Row]:
    """The delegation_accounts rows of one delegation (empty for an all-accounts one)."""
    return register.sealed_rows(
        "delegation_accounts",
        "SELECT * FROM delegation_accounts WHERE delegation = ? ORDER BY account", (delegation,))


def delegates(register: Register) -> list[str]:
    """Everyone who holds or held a delegation."""
    return [row["delegate"] for row in
            register.rows("SELECT DISTINCT delegate FROM delegations ORDER BY delegate")]


def current_given_by(register: Register, person: str, today: str) -> list[Row]:
    """Delegations `person` gave that are in force or still to come (checked while a change
    runs)."""
    return register.sealed_rows(
        "delegations",
        "SELECT * FROM delegations WHERE granted_by = ? AND revoked_at IS NULL "
        "AND (valid_until IS NULL OR valid_until >= ?) ORDER BY num", (person, today))


def current_of(register: Register, person: str, today: str) -> list[Row]:
    """A person's delegations in force or still to come (checked while a change runs)."""
    return register.sealed_rows(
        "delegations",
        "SELECT * FROM delegations WHERE delegate = ? AND revoked_at IS NULL "
        "AND (valid_until IS NULL OR valid_until >= ?) ORDER BY num", (person, today))
