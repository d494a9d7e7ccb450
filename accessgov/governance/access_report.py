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
from accessgov.db.queries import LIVE_GRANT, get_account, get_person
from accessgov.db.register import Register, Row

COLUMNS = ("account", "platform", "handle", "owner", "reach", "person", "person_name",
           "person_status", "role", "grant", "approved_by", "approved_at", "authority",
           "expires", "account_mfa", "person_mfa", "exposures")
TABLE_COLUMNS = ("account", "reach", "person", "role", "approved_by", "authority",
                 "account_mfa", "person_mfa", "exposures", "expires")
REACH = ("grant", "credential", "owner", "overseer", "recovery email", "none")

_ACCOUNT = "a.id AS account, a.platform, a.handle, a.owner, a.mfa_method AS account_mfa"
_PERSON = ("p.id AS person, p.name AS person_name, p.status AS person_status, "
           "COALESCE(m.status, 'none') AS person_mfa")
_NO_GRANT = ('NULL AS role, NULL AS "grant", NULL AS approved_by, NULL AS approved_at, '
             'NULL AS authority, NULL AS expires')
_GRANTS = f"""
SELECT {_ACCOUNT}, 'grant' AS reach, {_PERSON}, g.role, g.id AS "grant",
       ap.approver AS approved_by, ap.at AS approved_at, ap.authority, g.expires,
       k.versions AS exposures
FROM grants g JOIN accounts a ON a.id = g.account JOIN people p ON p.id = g.person
LEFT JOIN approvals ap ON ap.grant_id = g.id AND ap.decision = 'approved'
LEFT JOIN mfa m ON m.person = p.id
LEFT JOIN known k ON k.account = g.account AND k.person = g.person
WHERE {LIVE_GRANT} AND a.status = 'active' AND {{where}}
"""
_KNOWING = f"""
SELECT {_ACCOUNT}, 'credential' AS reach, {_PERSON}, {_NO_GRANT}, k.versions AS exposures
FROM known k JOIN accounts a ON a.id = k.account JOIN people p ON p.id = k.person
LEFT JOIN mfa m ON m.person = p.id
WHERE a.status = 'active' AND {{where}} AND NOT EXISTS (SELECT 1 FROM grants g
    WHERE g.account = k.account AND g.person = k.person AND {LIVE_GRANT})
"""
_NOBODY = f"""
SELECT {_ACCOUNT}, 'none' AS reach, NULL AS person, NULL AS person_name,
       NULL AS person_status, NULL AS person_mfa, {_NO_GRANT}, NULL AS exposures
FROM accounts a WHERE a.status = 'active' AND {{where}}
AND NOT EXISTS (SELECT 1 FROM grants g WHERE g.account = a.id AND {LIVE_GRANT})
AND NOT EXISTS (SELECT 1 FROM known k WHERE k.account = a.id)
"""


def matrix(register: Register, today: str, *, account: str | None = None) -> Iterator[Row]:
    """The access matrix row by row, ordered by account (every active account appears)."""
    for values in matrix_rows(register, today, account=account):
        yield dict(zip(COLUMNS, values, strict=True))


def matrix_rows(register: Register, today: str, *,
                account: str | None = None) -> Iterator[tuple[Any, ...]]:
    """The access matrix as plain value tuples in COLUMNS order (no record per row: the
    matrix of a big register has 100,000 rows)."""
    if account is not None:
        get_account(register, account)
    where = "a.id = :account" if account else "1"
    parts = " UNION ALL ".join(part.format(where=where) for part in (_GRANTS, _KNOWING, _NOBODY))
    sql = (f"WITH {exposures.KNOWN_CURRENT_CTE} SELECT {', '.join(_quoted(COLUMNS))} "
           f"FROM ({parts}) ORDER BY account, "
           "CASE reach WHEN 'grant' THEN 0 WHEN 'credential' THEN 1 ELSE 2 END, person")
    cursor = register.conn.cursor()
    cursor.row_factory = None
    yield from cursor.execute(sql, {"today": today, "account": account})


def _quoted(columns: tuple[str, ...]) -> list[str]:
    return [f'"{column}"' for column in columns]


def reach_of(register: Register, today: str, person: str, *,
             account: str | None = None) -> list[Row]:
    """Everything `person` can reach, ordered by account: live grants, accounts they own,
    oversee or recover, and every credential version they could know."""
    who = get_person(register, person)
    if account is not None:
        get_account(register, account)
    params = {"today": today, "person": person, "account": account}
    rows = register.rows(f"WITH {exposures.KNOWN_CURRENT_CTE} "
                         + _GRANTS.format(where="g.person = :person"
                                          + (" AND a.id = :account" if account else "")),
                         params)
    rows += _roles_held(register, who, account)
    rows += _credentials_known(register, who, account)
    order = {reach: n for n, reach in enumerate(REACH)}
    return sorted(rows, key=lambda row: (row["account"], order[row["reach"]],
                                         row["exposures"] or ""))


def _roles_held(register: Register, person: Row, account: str | None) -> list[Row]:
    """Accounts the person owns, oversees, or whose recovery email is theirs."""
    mfa = register.value("SELECT status FROM mfa WHERE person = ?", (person["id"],)) or "none"
    found = []
    for row in register.rows(
            "SELECT a.id, a.platform, a.handle, a.owner, a.mfa_method, a.overseer, "
            "a.recovery_email FROM accounts a WHERE a.status = 'active' "
            "AND (a.owner = :person OR a.overseer = :person OR lower(a.recovery_email) = "
            "lower(:email)) AND (:account IS NULL OR a.id = :account) ORDER BY a.id",
            {"person": person["id"], "email": person["email"], "account": account}):
        for reach, holds in (("owner", row["owner"] == person["id"]),
                             ("overseer", row["overseer"] == person["id"]),
                             ("recovery email", (row["recovery_email"] or "").lower()
                              == person["email"].lower())):
            if holds:
                found.append(_row(row, reach, person, mfa))
    return found


def _credentials_known(register: Register, person: Row, account: str | None) -> list[Row]:
    """One row per credential version the person could know, current or rotated since."""
    mfa = register.value("SELECT status FROM mfa WHERE person = ?", (person["id"],)) or "none"
    accounts = {row["id"]: row for row in register.rows(
        "SELECT id, platform, handle, owner, mfa_method FROM accounts")}
    found = []
    for known in exposures.versions_known_by(register, person["id"]):
        if account is not None and known["account"] != account:
            continue
        state = "current" if known["current"] else "rotated since"
        versions = f"{known['kind']} v{known['version']} ({state}; {known['how']})"
        found.append(_row(accounts[known["account"]], "credential", person, mfa) |
                     {"exposures": versions})
    return found


def _row(account: Row, reach: str, person: Row, mfa: str) -> Row:
    return {"account": account["id"], "platform": account["platform"],
            "handle": account["handle"], "owner": account["owner"], "reach": reach,
            "person": person["id"], "person_name": person["name"],
            "person_status": person["status"], "role": None, "grant": None,
            "approved_by": None, "approved_at": None, "authority": None, "expires": None,
            "account_mfa": account["mfa_method"], "person_mfa": mfa, "exposures": None}
