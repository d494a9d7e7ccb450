"""Named queries of offboarding cases and their checklist items."""

from __future__ import annotations

from accessgov.db.register import Register, Row
from accessgov.errors import NotFound

_UNFINISHED = "status IN ('scheduled', 'open')"


def unfinished_case(register: Register, person: str) -> Row | None:
    """The person's scheduled or open case (checked while a change runs), if any."""
    return register.sealed_row(
        "offboarding_cases", f"SELECT * FROM offboarding_cases WHERE person = ? AND {_UNFINISHED} "
        "ORDER BY num DESC LIMIT 1", (person,))


def latest_case(register: Register, person: str) -> Row | None:
    """The person's most recent case, if any."""
    return register.sealed_row(
        "offboarding_cases",
        "SELECT * FROM offboarding_cases WHERE person = ? ORDER BY num DESC LIMIT 1", (person,))


def due(register: Register, today: str) -> list[Row]:
    """Scheduled cases whose leave date has come (checked while a change runs), oldest first."""
    return register.sealed_rows(
        "offboarding_cases", "SELECT * FROM offboarding_cases WHERE status = 'scheduled' "
        "AND leave_date <= ? ORDER BY num", (today,))


def items_with_accounts(register: Register, case_id: str) -> list[Row]:
    """A case's items in order, each with its account's platform and handle."""
    return register.rows(
        "SELECT i.*, a.platform, a.handle FROM offboarding_items i "
        "LEFT JOIN accounts a ON a.id = i.account WHERE i.case_id = ? ORDER BY i.item",
        (case_id,))


def item(register: Register, case_id: str, number: int) -> Row | None:
    """One item of a case (checked while a change runs), if it exists."""
    return register.sealed_row(
        "offboarding_items", "SELECT * FROM offboarding_items WHERE case_id = ? AND item = ?",
        (case_id, number))


def items(register: Register, case_id: str) -> list[Row]:
    """A case's items in order (checked while a change runs)."""
    return register.sealed_rows("offboarding_items", "SELECT * FROM offboarding_items "
                                "WHERE case_id = ? ORDER BY item", (case_id,))


def open_items(register: Register, case_id: str) -> int:
    """How many items of a case are still open."""
    return int(register.value(
        "SELECT COUNT(*) FROM offboarding_items WHERE case_id = ? AND status = 'open'",
        (case_id,)))


def listing(register: Register, *, unfinished_only: bool = False) -> list[Row]:
    """Every case, oldest first, with how many items each has and how many are open."""
    where = "WHERE c.status IN ('scheduled', 'open')" if unfinished_only else ""
    return register.rows(
        'SELECT c.id AS "case", c.person, p.name, c.status, c.leave_date, c.started_by, '
        "c.started_at, "
        "(SELECT COUNT(*) FROM offboarding_items i WHERE i.case_id = c.id) AS items_total, "
        "(SELECT COUNT(*) FROM offboarding_items i WHERE i.case_id = c.id "
        "AND i.status = 'open') AS items_open, c.closed_at "
        f"FROM offboarding_cases c JOIN people p ON p.id = c.person {where} ORDER BY c.num")


def grants_to_end(register: Register, person: str) -> list[Row]:
    """A leaver's active and pending grants, with their account's platform, handle and
    access model."""
    return register.rows(
        "SELECT g.*, a.platform, a.handle, a.access FROM grants g "
        "JOIN accounts a ON a.id = g.account "
        "WHERE g.person = ? AND g.status IN ('active', 'pending') ORDER BY g.num", (person,))


def expired_grants_of(register: Register, person: str) -> list[Row]:
    """A person's grants that ended by expiry (in the register only: nobody confirmed that
    the platform took them off), with their account's platform, handle and access model."""
    return register.rows(
        "SELECT g.*, a.platform, a.handle, a.access FROM grants g "
        "JOIN accounts a ON a.id = g.account "
        "WHERE g.person = ? AND g.status = 'expired' AND NOT EXISTS "
        "(SELECT 1 FROM platform_removals r WHERE r.grant_id = g.id) ORDER BY g.num",
        (person,))


# Open self-ticking items of open cases that the register now shows settled: a credential
# at a later version that someone other than the leaver typed, was shown or revealed; an
# account with another overseer, owner or recovery email, or archived.
_SATISFIED = """
SELECT i.case_id, i.item, i.kind, i.account, i.field, i.credential_kind,
       c.person, cr.version AS current_version, a.status AS account_status
FROM offboarding_items i
JOIN offboarding_cases c ON c.id = i.case_id
JOIN people p ON p.id = c.person
LEFT JOIN accounts a ON a.id = i.account
LEFT JOIN credentials cr ON cr.account = i.account AND cr.kind = i.credential_kind
WHERE i.status = 'open' AND i.kind IN ('rotate', 'reseed', 'hand-over', 'reassign')
  AND c.status = 'open' AND (
     (i.kind IN ('rotate', 'reseed') AND cr.version > i.version
      -- and someone other than the leaver has the new one, to change it on the platform:
      -- a generated password nobody was shown changes nothing there yet.
      AND EXISTS (SELECT 1 FROM exposures e WHERE e.account = i.account
                  AND e.kind = i.credential_kind AND e.version = cr.version
                  AND e.how IN ('set', 'reveal') AND e.person <> c.person))
  OR (i.kind IN ('hand-over', 'reassign') AND a.status = 'archived')
  OR (i.kind = 'hand-over' AND a.overseer IS DISTINCT FROM c.person)
  OR (i.kind = 'reassign' AND i.field = 'owner' AND a.owner IS DISTINCT FROM c.person)
  OR (i.kind = 'reassign' AND i.field = 'recovery_email'
      AND (a.recovery_email IS NULL OR lower(a.recovery_email) != lower(p.email))))
ORDER BY i.case_id, i.item
"""


def satisfied_items(register: Register) -> list[Row]:
    """Open self-ticking items that the register now shows settled (one indexed query)."""
    return register.rows(_SATISFIED)


def require_case(found: Row | None, person: str) -> Row:
    """`found`, or NotFound saying the person was never offboarded."""
    if found is None:
        raise NotFound(f"{person} has never been offboarded (start with 'accessgov "
                       f"offboard start {person}')")
    return found
