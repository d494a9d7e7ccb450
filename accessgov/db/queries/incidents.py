"""Named queries of incidents and their checklists."""

from __future__ import annotations

from accessgov.db.queries import records
from accessgov.db.register import Register, Row
from accessgov.errors import NotFound


def get(register: Register, incident_id: str) -> Row:
    """One incident (checked while a change runs), or NotFound."""
    return records.by_id(register, "incidents", "incident", incident_id)


def items(register: Register, incident_id: str) -> list[Row]:
    """The incident's checklist, in order (checked while a change runs)."""
    return register.sealed_rows("incident_items", "SELECT * FROM incident_items "
                                "WHERE incident_id = ? ORDER BY item", (incident_id,))


def item(register: Register, incident_id: str, number: int) -> Row:
    """One item, or NotFound."""
    found = register.sealed_row("incident_items", "SELECT * FROM incident_items "
                                "WHERE incident_id = ? AND item = ?", (incident_id, number))
    if found is None:
        raise NotFound(f"{incident_id} has no item {number}")
    return found


def listing(register: Register, *, open_only: bool = False) -> list[Row]:
    """Incidents, newest first, with how many items are still open."""
    where = "WHERE i.status = 'open'" if open_only else ""
    return register.rows(
        "SELECT i.id, i.subject_kind, i.subject, i.kind, i.summary, i.status, i.opened_by, "
        "i.opened_at, i.report, i.closed_at, (SELECT COUNT(*) FROM incident_items t WHERE "
        "t.incident_id = i.id AND t.status = 'open') AS open_items FROM incidents i "
        f"{where} ORDER BY i.num DESC")


def stale(register: Register, before: str) -> list[Row]:
    """Open incidents opened before the day `before`."""
    return register.rows("SELECT id, subject, kind, opened_at FROM incidents WHERE "
                         "status = 'open' AND substr(opened_at, 1, 10) < ? ORDER BY num",
                         (before,))


def any_open(register: Register) -> bool:
    """Whether an incident is open (one indexed lookup: most changes need no more)."""
    return register.value("SELECT 1 FROM incidents WHERE status = 'open' LIMIT 1") is not None


# Open self-ticking items the register now shows settled: a credential at a later version
# than the one recorded when the incident was opened; an operator's MFA reset or re-enrolled
# since; a grant no longer active.
_SATISFIED = """
SELECT t.incident_id, t.item, t.kind, t.account, t.credential_kind, t.person, t.grant_id,
       cr.version AS current_version, g.status AS grant_status
FROM incident_items t
JOIN incidents i ON i.id = t.incident_id
LEFT JOIN credentials cr ON cr.account = t.account AND cr.kind = t.credential_kind
LEFT JOIN grants g ON g.id = t.grant_id
LEFT JOIN mfa m ON m.person = t.person
WHERE i.status = 'open' AND t.status = 'open' AND (
     (t.kind IN ('rotate', 'reseed') AND cr.version > t.version)
  OR (t.kind = 'operator-mfa' AND (m.person IS NULL OR m.status <> 'confirmed'
                                   OR m.seed_version > t.version))
  OR (t.kind = 'grant' AND g.status <> 'active'))
ORDER BY t.incident_id, t.item
"""


def satisfied_items(register: Register) -> list[Row]:
    """Open items of open incidents that the register now shows done."""
    return register.rows(_SATISFIED)
