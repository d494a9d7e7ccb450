"""Named queries of the to-do list of platform removals: grants that ended in the register
(revoked, expired, revoked by a review) and that nobody has yet confirmed removed on the
platform itself. Expiry is read at query time, so a grant past its last day is on the list
the next morning, whether or not a change has recorded the expiry yet."""

from __future__ import annotations

from accessgov.db.register import Register, Row

# A grant that gave access here and ended here: revoked, or past its last day. Not a leaver's
# grant (their offboarding checklist has it), not one already ticked, and not one that had
# ended before it was imported (a record of the past, not access to remove).
_OPEN = """
SELECT g.id AS grant_id, g.person, p.name AS person_name, g.account, a.platform, a.handle,
       a.access, g.role,
       CASE WHEN g.status = 'revoked' THEN 'revoked' ELSE 'expired' END AS ended,
       CASE WHEN g.status = 'revoked' THEN substr(g.revoked_at, 1, 10) ELSE g.expires END
           AS ended_on,
       g.revoked_by, g.revoke_reason, g.status AS recorded_status
FROM grants g
JOIN people p ON p.id = g.person
JOIN accounts a ON a.id = g.account
LEFT JOIN approval_claims cl ON cl.grant_id = g.id
WHERE (g.status IN ('revoked', 'expired')
       OR (g.status = 'active' AND g.expires IS NOT NULL AND g.expires < :today))
  AND NOT EXISTS (SELECT 1 FROM platform_removals r WHERE r.grant_id = g.id)
  AND NOT EXISTS (SELECT 1 FROM offboarding_items i WHERE i.grant_id = g.id)
  AND (cl.grant_id IS NULL
       OR (g.status = 'revoked' AND g.revoked_at > cl.imported_at)
       OR (g.status <> 'revoked' AND g.expires >= substr(cl.imported_at, 1, 10)))
"""


def open_items(register: Register, today: str, *, account: str | None = None,
               grant_id: str | None = None) -> list[Row]:
    """The removals nobody has ticked, oldest ending first."""
    where, params = "", {"today": today}
    if account:
        where += " AND g.account = :account"
        params["account"] = account
    if grant_id:
        where += " AND g.id = :grant"
        params["grant"] = grant_id
    return register.rows(f"{_OPEN}{where} ORDER BY ended_on, g.num", params)


def ticked(register: Register, grant_id: str) -> Row | None:
    """Who ticked a grant's removal, if someone did (checked while a change runs)."""
    return register.sealed_row("platform_removals",
                               "SELECT * FROM platform_removals WHERE grant_id = ?",
                               (grant_id,))
