"""Named queries of access review campaigns, their items and decisions.

A campaign's snapshot is a JSON array of grant ids in its sealed row (item N is the Nth);
each item's details are read from the grant and its approval, which never change.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from accessgov.db.queries.credentials import known_current_cte
from accessgov.db.queries.grants import APPROVAL_NOTE, CLAIMS_JOIN, EFFECTIVE_STATUS
from accessgov.db.register import Dialect, Register, Row

if TYPE_CHECKING:
    from accessgov.db.ahead import ReadAhead, ReadNow

# From this many items on, an export reads the items' two halves at once (on a server).
READ_IN_HALVES_FROM = 10_000


def _items_sql(dialect: Dialect) -> str:
    """One row per item of a campaign, in item order: the snapshot's grant with its approval,
    the person's and the account's MFA, the current credential versions the person could
    know on the account, and the item's decision if any."""
    return f"""
WITH {known_current_cte(dialect)}
SELECT j.key + 1 AS item, g.id AS grant_id, g.account, a.platform, a.handle, g.person,
       p.name AS person_name, p.status AS person_status, g.role,
       {EFFECTIVE_STATUS} AS grant_status, g.expires,
       ap.approver AS approved_by, ap.at AS approved_at, ap.authority,
       {APPROVAL_NOTE} AS approval_note,
       a.mfa_method AS account_mfa, COALESCE(m.status, 'none') AS person_mfa,
       k.versions AS exposures,
       d.decision, d.decided_by, d.decided_at, d.authority AS decided_authority, d.note
FROM review_campaigns c CROSS JOIN {dialect.json_items("c.grants", "j")}
JOIN grants g ON g.id = j.value
JOIN people p ON p.id = g.person
JOIN accounts a ON a.id = g.account
LEFT JOIN approvals ap ON ap.grant_id = g.id AND ap.decision = 'approved'
{CLAIMS_JOIN}
LEFT JOIN mfa m ON m.person = g.person
LEFT JOIN known k ON k.account = g.account AND k.person = g.person
LEFT JOIN review_decisions d ON d.campaign = c.id AND d.item = j.key + 1
WHERE c.id = :campaign
"""


def get(register: Register, quarter: str) -> Row | None:
    """One campaign (checked while a change runs), if it exists."""
    return register.sealed_row("review_campaigns",
                               "SELECT * FROM review_campaigns WHERE id = ?", (quarter,))


def ids(register: Register) -> list[str]:
    """Every campaign's quarter, in order."""
    return [row["id"] for row in register.rows("SELECT id FROM review_campaigns ORDER BY id")]


def open_one(register: Register) -> str | None:
    """The quarter of the open campaign, if one is open."""
    found: str | None = register.value("SELECT id FROM review_campaigns WHERE status = 'open'")
    return found


def current(register: Register) -> Row | None:
    """The open campaign, else the latest one started."""
    return register.row("SELECT * FROM review_campaigns ORDER BY status = 'open' DESC, "
                        "started_at DESC, id DESC LIMIT 1")


def listing(register: Register) -> list[Row]:
    """Every campaign, newest first."""
    return register.rows("SELECT * FROM review_campaigns ORDER BY started_at DESC, id DESC")


def previous_closed(register: Register, campaign: Row) -> Row | None:
    """The last campaign closed before this one started."""
    return register.row(
        "SELECT * FROM review_campaigns WHERE status = 'closed' AND id != ? "
        "AND started_at < ? ORDER BY started_at DESC, id DESC LIMIT 1",
        (campaign["id"], campaign["started_at"]))


def items(register: Register, quarter: str, today: str, *,
          account: str | None = None) -> Iterator[Row]:
    """The campaign's items in order, one at a time (a campaign may hold 100,000)."""
    sql, params = _items_sql(register.dialect), {"campaign": quarter, "today": today}
    if account is not None:
        sql += " AND g.account = :account"
        params["account"] = account
    return register.stream(sql + " ORDER BY j.key", params)


def item_tuples(register: Register, quarter: str, today: str) -> Iterator[tuple[Any, ...]]:
    """The campaign's items as plain value tuples (in the items' column order), for exports
    of 100,000 items that need no record per row."""
    return register.tuples(_items_sql(register.dialect) + " ORDER BY j.key",
                           {"campaign": quarter, "today": today})


def item_tuples_ahead(register: Register, quarter: str, today: str,
                      items: int) -> ReadAhead | ReadNow:
    """`item_tuples` of a campaign of `items` items, asked for now on connections of their
    own (see `Register.tuples_ahead`): a large campaign's two halves at once, where the
    database reads them in parallel."""
    sql, params = _items_sql(register.dialect), {"campaign": quarter, "today": today}
    if items < READ_IN_HALVES_FROM or not register.parallel_reads:
        return register.tuples_ahead([(sql + " ORDER BY j.key", params)])
    # The halves split the snapshot's positions, whatever the count says: every item is in
    # exactly one of them.
    halves = params | {"half": items // 2}
    return register.tuples_ahead([(sql + " AND j.key < :half ORDER BY j.key", halves),
                                  (sql + " AND j.key >= :half ORDER BY j.key", halves)])


def decision_counts(register: Register, quarter: str) -> dict[str, int]:
    """How many items of a campaign were decided keep and revoke."""
    return {row["decision"]: row["n"] for row in register.rows(
        "SELECT decision, COUNT(*) AS n FROM review_decisions WHERE campaign = ? "
        "GROUP BY decision", (quarter,))}


def holdings(register: Register, quarter: str) -> Iterator[Row]:
    """The grant (account, person, person_name, role, grant_id) of each item of a campaign."""
    return register.stream(
        "SELECT g.account, g.person, p.name AS person_name, g.role, g.id AS grant_id "
        f"FROM review_campaigns c, {register.dialect.json_items('c.grants', 'j')} "
        "JOIN grants g ON g.id = j.value "
        "JOIN people p ON p.id = g.person WHERE c.id = ?", (quarter,))


def endings(register: Register, grant_ids: list[str]) -> dict[str, Row]:
    """How each grant stands now, for saying why it left the register's live grants: status,
    end date, who revoked it and why, and whether its holder has left."""
    if not grant_ids:
        return {}
    marks = ", ".join("?" for _ in grant_ids)
    return {row["id"]: row for row in register.rows(
        "SELECT g.id, g.status, g.expires, g.revoked_by, g.revoked_at, g.revoke_reason, "
        "p.status AS person_status, p.leave_date FROM grants g "
        f"JOIN people p ON p.id = g.person WHERE g.id IN ({marks})", tuple(grant_ids))}


def undecided_on(register: Register, quarter: str, account: str | None) -> list[Row]:
    """The undecided items (item, grant_id) of a campaign on one account (or all), in order."""
    on_account = " AND g.account = ?" if account else ""
    return register.rows(
        "SELECT j.key + 1 AS item, j.value AS grant_id FROM review_campaigns c, "
        f"{register.dialect.json_items('c.grants', 'j')} JOIN grants g ON g.id = j.value "
        f"WHERE c.id = ?{on_account} AND NOT EXISTS (SELECT 1 FROM review_decisions d "
        "WHERE d.campaign = c.id AND d.item = j.key + 1) ORDER BY j.key",
        (quarter, account) if account else (quarter,))


def decision(register: Register, quarter: str, item: int) -> Row | None:
    """The decision on one item (decision, decided_by, decided_at), if it was decided."""
    return register.row("SELECT decision, decided_by, decided_at FROM review_decisions "
                        "WHERE campaign = ? AND item = ?", (quarter, item))


def decisions(register: Register, quarter: str) -> list[Row]:
    """Every decision of a campaign (checked while a change runs), by item."""
    return register.sealed_rows(
        "review_decisions", "SELECT * FROM review_decisions WHERE campaign = ? ORDER BY item",
        (quarter,))


def kept_persons(register: Register, quarter: str) -> tuple[str, ...]:
    """Everyone whose grant a campaign keeps (decided keep)."""
    return tuple(row["person"] for row in register.rows(
        "SELECT DISTINCT g.person FROM review_decisions d JOIN grants g ON g.id = d.grant_id "
        "WHERE d.campaign = ? AND d.decision = 'keep' ORDER BY g.person", (quarter,)))


def decided_count(register: Register, quarter: str) -> int:
    """The campaign record's own count of decided items."""
    return int(register.value("SELECT decided FROM review_campaigns WHERE id = ?", (quarter,)))


def grant_changes_between(register: Register, start: str, end: str) -> list[Row]:
    """Grants approved, revoked or run out between two times (start exclusive, end inclusive),
    one row per change, oldest first, with who decided it."""
    return register.rows(
        "SELECT ap.at AS at, 'approved' AS change, g.id AS grant_id, g.person, g.account, "
        "g.role, ap.approver AS decided_by, ap.authority, g.status AS status_now "
        "FROM approvals ap JOIN grants g ON g.id = ap.grant_id "
        "WHERE ap.decision = 'approved' AND ap.at > :start AND ap.at <= :end "
        "UNION ALL "
        "SELECT g.revoked_at, 'revoked', g.id, g.person, g.account, g.role, g.revoked_by, "
        "g.revoke_reason, g.status FROM grants g "
        "WHERE g.revoked_at IS NOT NULL AND g.revoked_at > :start AND g.revoked_at <= :end "
        "UNION ALL "
        "SELECT g.expires, 'expired', g.id, g.person, g.account, g.role, 'accessgov', "
        "'its end date', g.status FROM grants g "
        "WHERE g.expires IS NOT NULL AND g.status IN ('active', 'expired') "
        "AND g.expires >= substr(:start, 1, 10) AND g.expires < substr(:end, 1, 10) "
        "ORDER BY 1, 3", {"start": start, "end": end})
