"""Named queries of the access report: who can reach each official account.

The matrix has one row per live grant, a row for everyone who could know an account's current
credential without holding a grant on it, and a row for each account's owner (who may reveal
its credentials) when neither of those shows them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from accessgov.db.queries.credentials import known_current_cte
from accessgov.db.queries.grants import APPROVAL_NOTE, CLAIMS_JOIN, LIVE_GRANT
from accessgov.db.register import Register, Row

_ACCOUNT = "a.id AS account, a.platform, a.handle, a.owner, a.mfa_method AS account_mfa"
_PERSON = ("p.id AS person, p.name AS person_name, p.status AS person_status, "
           "COALESCE(m.status, 'none') AS person_mfa")
_NO_GRANT = ('NULL AS role, NULL AS "grant", NULL AS approved_by, NULL AS approved_at, '
             'NULL AS authority, NULL AS approval_note, NULL AS expires')
_GRANTS = f"""
SELECT {_ACCOUNT}, 'grant' AS reach, {_PERSON}, g.role, g.id AS "grant",
       ap.approver AS approved_by, ap.at AS approved_at, ap.authority,
       {APPROVAL_NOTE} AS approval_note, g.expires, k.versions AS exposures
FROM grants g JOIN accounts a ON a.id = g.account JOIN people p ON p.id = g.person
LEFT JOIN approvals ap ON ap.grant_id = g.id AND ap.decision = 'approved'
{CLAIMS_JOIN}
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
# The owner may reveal the account's credentials (and answers for it), whether or not they
# hold a grant: a row of their own unless a grant or a known credential already shows them.
# Every account has an owner, so every active account appears.
_OWNING = f"""
SELECT {_ACCOUNT}, 'owner' AS reach, {_PERSON}, {_NO_GRANT}, NULL AS exposures
FROM accounts a JOIN people p ON p.id = a.owner
LEFT JOIN mfa m ON m.person = p.id
WHERE a.status = 'active' AND {{where}}
AND NOT EXISTS (SELECT 1 FROM grants g WHERE g.account = a.id AND g.person = a.owner
                AND {LIVE_GRANT})
AND NOT EXISTS (SELECT 1 FROM known k WHERE k.account = a.id AND k.person = a.owner)
"""


def matrix(register: Register, columns: Sequence[str], today: str,
           account: str | None) -> Iterator[tuple[Any, ...]]:
    """The access matrix as plain value tuples in `columns` order, ordered by account."""
    where = "a.id = :account" if account else "1 = 1"
    parts = " UNION ALL ".join(part.format(where=where) for part in (_GRANTS, _KNOWING, _OWNING))
    quoted = ", ".join(f'"{column}"' for column in columns)
    sql = (f"WITH {known_current_cte(register.dialect)} SELECT {quoted} "
           f"FROM ({parts}) matrix ORDER BY account, "
           "CASE reach WHEN 'grant' THEN 0 WHEN 'credential' THEN 1 ELSE 2 END, person")
    return register.tuples(sql, {"today": today, "account": account})


def grants_of(register: Register, today: str, person: str, account: str | None) -> list[Row]:
    """A person's live grants as matrix rows (on one account, if given)."""
    where = "g.person = :person" + (" AND a.id = :account" if account else "")
    return register.rows(f"WITH {known_current_cte(register.dialect)} "
                         + _GRANTS.format(where=where),
                         {"today": today, "person": person, "account": account})


def answered_for(register: Register, person: Row, account: str | None) -> list[Row]:
    """Active accounts the person owns, oversees, or whose recovery email is theirs."""
    on_account = " AND a.id = :account" if account else ""
    return register.rows(
        "SELECT a.id, a.platform, a.handle, a.owner, a.mfa_method, a.overseer, "
        "a.recovery_email FROM accounts a WHERE a.status = 'active' "
        "AND (a.owner = :person OR a.overseer = :person OR lower(a.recovery_email) = "
        f"lower(:email)){on_account} ORDER BY a.id",
        {"person": person["id"], "email": person["email"], "account": account})


def account_summaries(register: Register) -> dict[str, Row]:
    """id -> platform, handle, owner and MFA method of every account."""
    return {row["id"]: row for row in register.rows(
        "SELECT id, platform, handle, owner, mfa_method FROM accounts")}


def mfa_status(register: Register, person: str) -> str:
    """A person's MFA status (`none` when not enrolled)."""
    return str(register.value("SELECT status FROM mfa WHERE person = ?", (person,)) or "none")
