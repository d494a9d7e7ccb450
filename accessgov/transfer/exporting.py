"""`accessgov export`: the whole register except secrets, as JSON that `import` reads back.

"The whole register" is what the organisation's authority rests on and what can be moved to
another register: its people, accounts, delegations (with their scope) and grants with their
approval records. Importing the file into a new register and exporting that gives the same
file (schemas/export.schema.json describes it). Left out, on purpose:

- secrets, and the credentials' metadata and exposures: they point into this register's
  secret store (store them again in the new one with `cred set` or `cred adopt`);
- MFA enrolments and sessions: nobody's seed moves; people enrol again in the new register;
- the audit log: the new register starts its own chain, whose import events name the file;
- how the approvers proved who they were (session or code): that was this register's check,
  and stays in this register's log. An imported grant goes out as its file recorded its
  decision (its claim), not as the importer's approval: imported again, it becomes the new
  importer's approval with the same claim;
- review campaigns, offboarding cases and policy reviews: this register's own workflows.

Timestamps of creation (created_at, updated_at) are bookkeeping and are left out, so that a
round trip gives the same file; the dates that mean something (start and leave dates, when
access was requested, decided and revoked) are kept.
"""

from __future__ import annotations

from typing import Any

from accessgov.db.queries import transfer
from accessgov.db.register import Register, Row

FORMAT = "accessgov-register"
VERSION = 1
PERSON_FIELDS = ("id", "name", "email", "category", "title", "manager", "status",
                 "start_date", "leave_date")
ACCOUNT_FIELDS = ("id", "platform", "handle", "url", "purpose", "owner", "kind", "access",
                  "mfa_method", "mfa_verified_on", "recovery_email", "recovery_phone",
                  "overseer", "status", "archived_at")
DELEGATION_FIELDS = ("id", "delegate", "all_accounts", "accounts", "granted_by",
                     "valid_from", "valid_until", "created_at", "revoked_by", "revoked_at",
                     "revoke_reason")
GRANT_FIELDS = ("id", "person", "account", "role", "reason", "status", "expires",
                "requested_by", "requested_at", "decided_by", "authority", "decided_at",
                "board_minute", "revoked_by", "revoked_at", "revoke_reason")


def person_record(row: Row) -> dict[str, Any]:
    """A person as exported (and as an import row is compared with)."""
    return {field: row[field] for field in PERSON_FIELDS}


def account_record(row: Row) -> dict[str, Any]:
    """An account as exported."""
    return {field: row[field] for field in ACCOUNT_FIELDS}


def delegation_record(row: Row, accounts: list[str]) -> dict[str, Any]:
    """A delegation and its scope as exported."""
    record = {field: row.get(field) for field in DELEGATION_FIELDS}
    return record | {"all_accounts": bool(row["all_accounts"]), "accounts": sorted(accounts)}


def grant_record(row: Row) -> dict[str, Any]:
    """A grant with its decision as exported."""
    return {field: row[field] for field in GRANT_FIELDS}


def grant_by_id(register: Register, grant_id: str, today: str) -> dict[str, Any] | None:
    """The exported form of one grant, if the register has it."""
    row = transfer.grant(register, grant_id, today)
    return None if row is None else grant_record(row)


def export_register(register: Register, today: str) -> dict[str, Any]:
    """The whole register except secrets (schemas/export.schema.json)."""
    scopes = transfer.delegation_scopes(register)
    return {
        "format": FORMAT,
        "version": VERSION,
        "organisation": register.setting("org"),
        "people": [person_record(row) for row in transfer.people(register)],
        "accounts": [account_record(row) for row in transfer.accounts(register)],
        "delegations": [delegation_record(row, scopes.get(row["id"], []))
                        for row in transfer.delegations(register)],
        "grants": [grant_record(row) for row in transfer.grants(register, today)],
    }
