"""Named queries of grants and their approval records."""

from __future__ import annotations

from collections.abc import Iterator

from accessgov.db.queries import records
from accessgov.db.register import Register, Row
from accessgov.errors import NotFound

# A grant's effective status: an active grant past its end date reads as expired even before
# a write command gets round to recording the expiry. Needs the `:today` parameter.
EFFECTIVE_STATUS = ("CASE WHEN g.status = 'active' AND g.expires IS NOT NULL "
                    "AND g.expires < :today THEN 'expired' ELSE g.status END")
# The one spelling of "a grant that gives access today" (alias g, parameter :today).
LIVE_GRANT = "g.status = 'active' AND (g.expires IS NULL OR g.expires >= :today)"

# An imported grant's file named who approved it: that claim, beside the importer's own
# approval, in words (alias cl for approval_claims; NULL for a grant not imported).
CLAIMS_JOIN = "LEFT JOIN approval_claims cl ON cl.grant_id = g.id"
APPROVAL_NOTE = (
    "CASE WHEN cl.grant_id IS NULL THEN NULL ELSE 'recorded as ' || "
    "CASE WHEN g.status = 'declined' THEN 'declined' ELSE 'approved' END || ' by ' || "
    "cl.claimed_by || ' on ' || substr(cl.claimed_at, 1, 10) || ' (imported by ' || "
    "cl.imported_by || CASE WHEN cl.confirmed_at IS NULL THEN '' "
    "WHEN cl.claimed_by = cl.imported_by THEN '' "
    "ELSE '; confirmed by ' || cl.claimed_by || ' on ' || substr(cl.confirmed_at, 1, 10) END "
    "|| ')' END")

_WITH_APPROVAL = f"""
SELECT g.id, g.person, p.name AS person_name, g.account, a.platform, g.role, g.reason,
       {EFFECTIVE_STATUS} AS status,
       g.requested_by, g.requested_at, g.expires,
       ap.decision, ap.approver AS decided_by, ap.authority, ap.board_minute,
       ap.mfa_verified, ap.verified_by, ap.at AS decided_at,
       g.revoked_by, g.revoked_at, g.revoke_reason, {APPROVAL_NOTE} AS approval_note
FROM grants g
JOIN people p ON p.id = g.person
JOIN accounts a ON a.id = g.account
LEFT JOIN approvals ap ON ap.grant_id = g.id
{CLAIMS_JOIN}
"""


def get(register: Register, grant_id: str) -> Row:
    """The grants table's row for one grant, or NotFound; while a change runs, checked, and
    refused if its approval record is missing behind the log."""
    grant = records.by_id(register, "grants", "grant", grant_id)
    _require_approval(register, grant_id)
    return grant


def _require_approval(register: Register, grant_id: str) -> None:
    """While a change runs: a grant's approval is part of what decisions on it rest on, so it
    is read through the checked path too (and none may be missing behind the log)."""
    if register.verifier is not None:
        records.require_children(register, "approvals", grant_id)
        register.sealed_row("approvals", "SELECT * FROM approvals WHERE grant_id = ?",
                            (grant_id,))


def with_approval(register: Register, grant_id: str, today: str) -> Row:
    """One grant with its approval record, or NotFound."""
    found = listing(register, today, grant_id=grant_id)
    if not found:
        raise NotFound(f"there is no grant {grant_id!r} in the register")
    return found[0]


def listing(register: Register, today: str, *, person: str | None = None,
            account: str | None = None, status: str | None = None,
            grant_id: str | None = None) -> list[Row]:
    """Grants with their approval records, oldest first; `status` is the effective one."""
    where, params = [], {"today": today}
    for column, value in (("g.person", person), ("g.account", account), ("g.id", grant_id)):
        if value:
            name = column[2:]
            where.append(f"{column} = :{name}")
            params[name] = value
    if status == "expired":
        where.append("(g.status = 'expired' OR (g.status = 'active' AND g.expires < :today))")
    elif status == "active":
        where.append(LIVE_GRANT)
    elif status:
        where.append("g.status = :status")
        params["status"] = status
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = register.rows(f"{_WITH_APPROVAL} {clause} ORDER BY g.num", params)
    for row in rows:
        row["mfa_verified"] = None if row["mfa_verified"] is None else bool(row["mfa_verified"])
    return rows


def live_grant_of(register: Register, person: str, account: str, today: str) -> Row | None:
    """`person`'s live grant on `account` (checked while a change runs, with its approval),
    if they hold one."""
    grant = register.sealed_row(
        "grants", f"SELECT g.* FROM grants g WHERE g.person = :person AND g.account = :account "
        f"AND {LIVE_GRANT} ORDER BY g.num DESC LIMIT 1",
        {"person": person, "account": account, "today": today})
    if grant is not None:
        _require_approval(register, grant["id"])
    return grant


def live_on(register: Register, account: str, today: str) -> list[Row]:
    """Every live grant on `account` (id, person, role), oldest first."""
    return register.rows(
        f"SELECT g.id, g.person, g.role FROM grants g WHERE g.account = :account "
        f"AND {LIVE_GRANT} ORDER BY g.num", {"account": account, "today": today})


def live_ids(register: Register, today: str) -> Iterator[str]:
    """The ids of every live grant, by account then age (a review's snapshot)."""
    for (grant_id,) in register.tuples(
            f"SELECT g.id FROM grants g WHERE {LIVE_GRANT} ORDER BY g.account, g.num",
            {"today": today}):
        yield grant_id


def open_one(register: Register, person: str, account: str) -> str | None:
    """The id of `person`'s active or pending grant on `account`, if any."""
    found: str | None = register.value(
        "SELECT id FROM grants WHERE person = ? AND account = ? "
        "AND status IN ('active', 'pending')", (person, account))
    return found


def open_count_on(register: Register, account: str) -> int:
    """How many active or pending grants `account` has."""
    return int(register.value(
        "SELECT COUNT(*) FROM grants WHERE account = ? AND status IN ('active', 'pending')",
        (account,)))


def held_or_asked(register: Register, *, today: str, person: str | None = None,
                  account: str | None = None) -> list[Row]:
    """A person's (or an account's) active and pending grants, as `show` lists them."""
    column = "person" if person else "account"
    return register.rows(
        f"SELECT g.id, g.{'account' if person else 'person'}, g.role, "
        f"{EFFECTIVE_STATUS} AS status, g.expires FROM grants g "
        f"WHERE g.{column} = :who AND g.status IN ('active', 'pending') ORDER BY g.num",
        {"who": person or account, "today": today})


def past_their_end(register: Register, today: str) -> list[Row]:
    """Active grants whose end date has passed (id, person, account)."""
    return register.rows(
        "SELECT id, person, account FROM grants "
        "WHERE status = 'active' AND expires IS NOT NULL AND expires < ?", (today,))


def open_of_person(register: Register, person: str) -> list[Row]:
    """A person's active and pending grants, whole (checked while a change runs)."""
    return register.sealed_rows(
        "grants", "SELECT * FROM grants WHERE person = ? AND status IN ('active', 'pending') "
        "ORDER BY num", (person,))


def claim(register: Register, grant_id: str) -> Row | None:
    """An imported grant's claim (checked while a change runs), if the grant has one."""
    return register.sealed_row("approval_claims",
                               "SELECT * FROM approval_claims WHERE grant_id = ?", (grant_id,))


def claims_to_confirm(register: Register, person: str) -> list[str]:
    """The grants imported by someone else whose claims name `person` and wait for them."""
    return [row["id"] for row in register.rows(
        "SELECT g.id FROM approval_claims cl JOIN grants g ON g.id = cl.grant_id "
        "WHERE cl.claimed_by = ? AND cl.confirmed_at IS NULL AND cl.imported_by <> cl.claimed_by "
        "ORDER BY g.num", (person,))]


def unconfirmed_live_claims(register: Register, today: str) -> list[Row]:
    """Live imported grants whose claim names someone other than the importer who has not
    confirmed it and has not left, by claimant and importer."""
    return register.rows(
        "SELECT g.id, g.person, g.account, cl.claimed_by, cl.imported_by "
        "FROM approval_claims cl JOIN grants g ON g.id = cl.grant_id "
        "JOIN people c ON c.id = cl.claimed_by "
        f"WHERE cl.confirmed_at IS NULL AND cl.imported_by <> cl.claimed_by AND {LIVE_GRANT} "
        "AND c.status <> 'left' ORDER BY cl.claimed_by, cl.imported_by, g.num",
        {"today": today})
