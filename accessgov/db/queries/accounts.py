"""Named queries of the official accounts."""

from __future__ import annotations

from accessgov.db.queries import records
from accessgov.db.queries.grants import LIVE_GRANT
from accessgov.db.register import Register, Row


def get(register: Register, account_id: str) -> Row:
    """One account (checked while a change runs), or NotFound."""
    return records.by_id(register, "accounts", "account", account_id)


def exists(register: Register, account_id: str) -> bool:
    """Whether the register has an account with this id."""
    return records.exists(register, "accounts", account_id)


def listing(register: Register, today: str, *, status: str | None = None,
            platform: str | None = None) -> list[Row]:
    """Accounts ordered by id, with how many people hold live grants on each."""
    where, params = [], {"today": today}
    if status:
        where.append("a.status = :status")
        params["status"] = status
    if platform:
        where.append("a.platform = :platform")
        params["platform"] = platform
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return register.rows(
        "SELECT a.id, a.platform, a.handle, a.url, a.purpose, a.owner, a.kind, a.access, "
        "a.mfa_method, a.mfa_verified_on, a.overseer, a.status, "
        f"(SELECT COUNT(*) FROM grants g WHERE g.account = a.id AND {LIVE_GRANT}) "
        f"AS active_grants FROM accounts a {clause} ORDER BY a.id",
        params,
    )


def answered_for_by(register: Register, field: str, person: str, email: str) -> list[Row]:
    """Active accounts (id, platform, handle) whose `field` (owner, overseer, recovery_email)
    is this person (or, for the recovery email, their email)."""
    condition = {"owner": "owner = ?", "overseer": "overseer = ?",
                 "recovery_email": "lower(recovery_email) = lower(?)"}[field]
    value = email if field == "recovery_email" else person
    return register.rows(f"SELECT id, platform, handle FROM accounts WHERE {condition} "
                         "AND status = 'active' ORDER BY id", (value,))


def shared_login_exception(register: Register, account_id: str) -> Row | None:
    """The recorded exception of a shared-login account, if any (checked while a change runs)."""
    return register.sealed_row("account_exceptions",
                               "SELECT * FROM account_exceptions WHERE account = ?",
                               (account_id,))


def shared_logins(register: Register) -> list[Row]:
    """Every active shared-login account with its recorded exception, if any (controls,
    recorded_by, recorded_at: None when there is none)."""
    return register.rows(
        "SELECT a.id AS account, a.platform, a.handle, a.owner, e.controls, e.recorded_by, "
        "e.recorded_at, e.authority FROM accounts a LEFT JOIN account_exceptions e "
        "ON e.account = a.id WHERE a.status = 'active' AND a.access = 'shared-login' "
        "ORDER BY a.id")
