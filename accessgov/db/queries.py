"""Queries more than one part of accessgov needs: one spelling each, here.

Unknown ids fail here with NotFound, so every command says the same thing about a typo.
"""

from __future__ import annotations

from accessgov.db.register import Register, Row
from accessgov.errors import NotFound

# A grant's effective status: an active grant past its end date reads as expired even before
# a write command gets round to recording the expiry. Needs the `:today` parameter.
EFFECTIVE_STATUS = ("CASE WHEN g.status = 'active' AND g.expires IS NOT NULL "
                    "AND g.expires < :today THEN 'expired' ELSE g.status END")
LIVE_GRANT = ("g.status = 'active' AND (g.expires IS NULL OR g.expires >= :today)")


def _by_id(register: Register, table: str, what: str, record_id: str) -> Row:
    row = register.row(f"SELECT * FROM {table} WHERE id = ?", (record_id,))
    if row is None:
        raise NotFound(f"there is no {what} {record_id!r} in the register")
    return row


def get_person(register: Register, person_id: str) -> Row:
    """One person, or NotFound."""
    return _by_id(register, "people", "person", person_id)


def get_account(register: Register, account_id: str) -> Row:
    """One account, or NotFound."""
    return _by_id(register, "accounts", "account", account_id)


def get_grant_row(register: Register, grant_id: str) -> Row:
    """The grants table's row for one grant, or NotFound."""
    return _by_id(register, "grants", "grant", grant_id)


def get_delegation(register: Register, delegation_id: str) -> Row:
    """One delegation row, or NotFound."""
    return _by_id(register, "delegations", "delegation", delegation_id)


def delegations_of(register: Register, person: str) -> list[Row]:
    """A person's delegations (rows as stored, seals included), oldest first."""
    return register.rows("SELECT * FROM delegations WHERE delegate = ? ORDER BY num", (person,))


def delegation_scopes(register: Register, delegation: str) -> list[Row]:
    """The delegation_accounts rows of one delegation (empty for an all-accounts one)."""
    return register.rows(
        "SELECT * FROM delegation_accounts WHERE delegation = ? ORDER BY account", (delegation,))


def live_grant_of(register: Register, person: str, account: str, today: str) -> str | None:
    """The id of `person`'s live grant on `account`, if they hold one today."""
    found = register.value(
        f"SELECT g.id FROM grants g WHERE g.person = :person AND g.account = :account "
        f"AND {LIVE_GRANT} ORDER BY g.num DESC LIMIT 1",
        {"person": person, "account": account, "today": today},
    )
    return str(found) if found else None


def live_grants_on(register: Register, account: str, today: str) -> list[Row]:
    """Every live grant on `account` (id, person, role), oldest first."""
    return register.rows(
        f"SELECT g.id, g.person, g.role FROM grants g WHERE g.account = :account "
        f"AND {LIVE_GRANT} ORDER BY g.num",
        {"account": account, "today": today},
    )


def mfa_state(register: Register, person: str) -> Row | None:
    """A person's MFA enrolment row, if any."""
    return register.row("SELECT * FROM mfa WHERE person = ?", (person,))


def get_credential(register: Register, account: str, kind: str) -> Row | None:
    """The register's record of one credential, if any."""
    return register.row("SELECT * FROM credentials WHERE account = ? AND kind = ?",
                        (account, kind))
