"""Named queries of `accessgov remind`: what falls due soon, and who must act on it. Each
takes the last day it looks ahead to (`until`) and, where an account is concerned, names
its owner and whether they are still here."""

from __future__ import annotations

from accessgov.db.register import Register, Row


def board(register: Register) -> list[Row]:
    """The CEO and the trustees who are still here (id, name, email, category)."""
    return register.rows("SELECT id, name, email, category FROM people WHERE status = "
                         "'active' AND category IN ('ceo', 'trustee') ORDER BY id")


def people_by_id(register: Register, ids: list[str]) -> list[Row]:
    """id, name, email and status of these people."""
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    return register.rows(f"SELECT id, name, email, status FROM people WHERE id IN ({marks})",
                         ids)


def open_reviews(register: Register) -> list[Row]:
    """Open review campaigns (id, due, items, decided)."""
    return register.rows("SELECT id, due, items, decided FROM review_campaigns "
                         "WHERE status = 'open' ORDER BY id")


def review_of(register: Register, quarter: str) -> Row | None:
    """The campaign of this quarter, whatever its state."""
    return register.row("SELECT id, status FROM review_campaigns WHERE id = ?", (quarter,))


def expiring_grants(register: Register, today: str, until: str) -> list[Row]:
    """Live grants whose last day is from today to `until`, with the account's owner."""
    return register.rows(
        "SELECT g.id, g.person, g.account, g.role, g.expires, a.owner FROM grants g "
        "JOIN accounts a ON a.id = g.account WHERE g.status = 'active' "
        "AND g.expires IS NOT NULL AND g.expires >= :today AND g.expires <= :until "
        "ORDER BY g.expires, g.num", {"today": today, "until": until})


def open_offboarding_items(register: Register) -> list[Row]:
    """Open items of carried-out offboarding cases, with the leaver and the account's owner."""
    return register.rows(
        "SELECT i.case_id, i.item, i.kind, i.action, i.account, c.person AS leaver, "
        "substr(c.carried_out_at, 1, 10) AS since, a.owner FROM offboarding_items i "
        "JOIN offboarding_cases c ON c.id = i.case_id LEFT JOIN accounts a ON a.id = i.account "
        "WHERE c.status = 'open' AND i.status = 'open' ORDER BY c.num, i.item")


def open_incident_items(register: Register) -> list[Row]:
    """Open items of open incidents, with the account's owner (none for items about no
    account) and the day the incident was opened."""
    return register.rows(
        "SELECT t.incident_id, t.item, t.kind, t.action, t.account, "
        "substr(i.opened_at, 1, 10) AS opened, a.owner FROM incident_items t "
        "JOIN incidents i ON i.id = t.incident_id LEFT JOIN accounts a ON a.id = t.account "
        "WHERE i.status = 'open' AND t.status = 'open' ORDER BY i.num, t.item")


def credentials_due(register: Register, oldest: str) -> list[Row]:
    """Credentials of active accounts last changed before `oldest`, with the owner."""
    return register.rows(
        "SELECT c.account, c.kind, substr(COALESCE(c.rotated_at, c.set_at), 1, 10) AS changed, "
        "a.owner FROM credentials c JOIN accounts a ON a.id = c.account "
        "WHERE a.status = 'active' AND substr(COALESCE(c.rotated_at, c.set_at), 1, 10) < :oldest "
        "ORDER BY c.account, c.kind", {"oldest": oldest})


def sent_on(register: Register, day: str) -> set[tuple[str, str]]:
    """(person, digest) of every reminder recorded as sent on `day`."""
    import json

    rows = register.rows("SELECT subject, details FROM audit WHERE action = 'reminder.sent' "
                         "AND substr(at, 1, 10) = ?", (day,))
    return {(row["subject"], str(json.loads(row["details"]).get("digest"))) for row in rows}
