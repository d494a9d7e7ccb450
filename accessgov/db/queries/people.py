"""Named queries of the people table."""

from __future__ import annotations

from accessgov.db.queries import records
from accessgov.db.register import Register, Row


def get(register: Register, person_id: str) -> Row:
    """One person (checked while a change runs), or NotFound."""
    return records.by_id(register, "people", "person", person_id)


def exists(register: Register, person_id: str) -> bool:
    """Whether the register has a person with this id."""
    return records.exists(register, "people", person_id)


def status(register: Register, person_id: str) -> str | None:
    """`active` or `left`, or None when there is no such person."""
    found: str | None = register.value("SELECT status FROM people WHERE id = ?", (person_id,))
    return found


def name(register: Register, person_id: str) -> str | None:
    """The person's name, or None."""
    found: str | None = register.value("SELECT name FROM people WHERE id = ?", (person_id,))
    return found


def active_ceos(register: Register) -> list[str]:
    """The ids of the active people of category ceo (the rules allow one)."""
    return [row["id"] for row in register.rows(
        "SELECT id FROM people WHERE category = 'ceo' AND status = 'active' ORDER BY id")]


def listing(register: Register, *, status: str | None = None,
            category: str | None = None) -> list[Row]:
    """People, optionally filtered, ordered by id, with their MFA status."""
    where, params = [], []
    if status:
        where.append("p.status = ?")
        params.append(status)
    if category:
        where.append("p.category = ?")
        params.append(category)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return register.rows(
        "SELECT p.id, p.name, p.email, p.category, p.title, p.manager, p.status, p.start_date, "
        "p.leave_date, COALESCE(m.status, 'none') AS mfa FROM people p "
        f"LEFT JOIN mfa m ON m.person = p.id {clause} ORDER BY p.id",
        params,
    )
