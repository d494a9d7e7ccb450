"""The access report: who can reach each official account, and on whose approval.

The matrix has one row per live grant (who holds which role, approved by whom, when and under
what authority, the MFA of the account and of the person, the current credential versions
they could know, the grant's end date), a row for everyone who could know an account's
current credential without holding a grant on it, and a row for each account nobody holds.
With a person, it lists everything that one person can reach: their grants, the accounts
they own or oversee or whose recovery email is theirs, and every credential version they
could know (rotated ones included, marked so).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from accessgov.access import exposures
from accessgov.db.queries import accounts, people
from accessgov.db.queries import reach as reach_rows
from accessgov.db.register import Register, Row

COLUMNS = ("account", "platform", "handle", "owner", "reach", "person", "person_name",
           "person_status", "role", "grant", "approved_by", "approved_at", "authority",
           "approval_note", "expires", "account_mfa", "person_mfa", "exposures")
TABLE_COLUMNS = ("account", "reach", "person", "role", "approved_by", "authority",
                 "approval_note", "account_mfa", "person_mfa", "exposures", "expires")
REACH = ("grant", "credential", "owner", "overseer", "recovery email", "none")


def matrix(register: Register, today: str, *, account: str | None = None) -> Iterator[Row]:
    """The access matrix row by row, ordered by account (every active account appears)."""
    for values in matrix_rows(register, today, account=account):
        yield dict(zip(COLUMNS, values, strict=True))


def matrix_rows(register: Register, today: str, *,
                account: str | None = None) -> Iterator[tuple[Any, ...]]:
    """The access matrix as plain value tuples in COLUMNS order (no record per row: the
    matrix of a big register has 100,000 rows)."""
    if account is not None:
        accounts.get(register, account)
    return reach_rows.matrix(register, COLUMNS, today, account)


def reach_of(register: Register, today: str, person: str, *,
             account: str | None = None) -> list[Row]:
    """Everything `person` can reach, ordered by account: live grants, accounts they own,
    oversee or recover, and every credential version they could know."""
    who = people.get(register, person)
    if account is not None:
        accounts.get(register, account)
    rows = reach_rows.grants_of(register, today, person, account)
    rows += _roles_held(register, who, account)
    rows += _credentials_known(register, who, account)
    order = {reach: n for n, reach in enumerate(REACH)}
    return sorted(rows, key=lambda row: (row["account"], order[row["reach"]],
                                         row["exposures"] or ""))


def person_name(register: Register, person: str) -> str | None:
    """The name of the person a report is about."""
    return people.name(register, person)


def _roles_held(register: Register, person: Row, account: str | None) -> list[Row]:
    """Accounts the person owns, oversees, or whose recovery email is theirs."""
    mfa = reach_rows.mfa_status(register, person["id"])
    found = []
    for row in reach_rows.answered_for(register, person, account):
        for reach, holds in (("owner", row["owner"] == person["id"]),
                             ("overseer", row["overseer"] == person["id"]),
                             ("recovery email", (row["recovery_email"] or "").lower()
                              == person["email"].lower())):
            if holds:
                found.append(_row(row, reach, person, mfa))
    return found


def _credentials_known(register: Register, person: Row, account: str | None) -> list[Row]:
    """One row per credential version the person could know, current or rotated since."""
    mfa = reach_rows.mfa_status(register, person["id"])
    summaries = reach_rows.account_summaries(register)
    found = []
    for known in exposures.versions_known_by(register, person["id"]):
        if account is not None and known["account"] != account:
            continue
        state = "current" if known["current"] else "rotated since"
        versions = f"{known['kind']} v{known['version']} ({state}; {known['how']})"
        found.append(_row(summaries[known["account"]], "credential", person, mfa) |
                     {"exposures": versions})
    return found


def _row(account: Row, reach: str, person: Row, mfa: str) -> Row:
    return {"account": account["id"], "platform": account["platform"],
            "handle": account["handle"], "owner": account["owner"], "reach": reach,
            "person": person["id"], "person_name": person["name"],
            "person_status": person["status"], "role": None, "grant": None,
            "approved_by": None, "approved_at": None, "authority": None,
            "approval_note": None, "expires": None,
            "account_mfa": account["mfa_method"], "person_mfa": mfa, "exposures": None}
