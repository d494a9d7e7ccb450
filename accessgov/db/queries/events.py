"""Named queries of the audit log's events (the chain itself is accessgov.audit.chain)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from accessgov.db.register import Register, Row

# The columns the chain's mac covers, in the order it reads them.
CHAIN_COLUMNS = "seq, at, actor, action, subject, details, prev, mac, rows, signer, signature"


def setup_completed(register: Register) -> Row | None:
    """The event of the CEO's confirmed enrolment that ended set-up, if the log has one."""
    return register.row("SELECT * FROM audit WHERE action = 'mfa.confirm' "
                        "AND details LIKE '%\"completes_setup\":true%' ORDER BY seq LIMIT 1")


def placing(register: Register, person: str) -> list[Row]:
    """The events by which anyone (the person included) put `person` in place, oldest first
    (added, made an approver, imported, reinstated, enrolled their MFA, delegated to them):
    whole events, so that their seals can be checked."""
    delegate = register.dialect.json_text("details", "delegate")
    return register.rows(
        "SELECT * FROM audit WHERE subject = :person AND action IN "
        "('person.add', 'person.update', 'person.import', 'person.reinstate', 'mfa.enrol') "
        "UNION ALL SELECT * FROM audit WHERE action IN ('delegation.add', "
        f"'delegation.import') AND {delegate} = :person ORDER BY seq", {"person": person})


def by_seq(register: Register, seq: int) -> Row | None:
    """One whole event, by its number."""
    return register.row("SELECT * FROM audit WHERE seq = ?", (seq,))


def first(register: Register) -> Row | None:
    """The log's first event (seq 1), if any."""
    return register.row("SELECT * FROM audit WHERE seq = 1")


def first_action(register: Register) -> str | None:
    """The action of the log's earliest event."""
    found: str | None = register.value("SELECT action FROM audit ORDER BY seq LIMIT 1")
    return found


def head(register: Register) -> Row | None:
    """The log's last event's seq, time and mac."""
    return register.row("SELECT seq, at, mac FROM audit ORDER BY seq DESC LIMIT 1")


def last_seq(register: Register) -> int:
    """The seq of the last event (0 for an empty log)."""
    return int(register.value("SELECT MAX(seq) FROM audit") or 0)


def append(register: Register, events: list[tuple[Any, ...]]) -> None:
    """Write sealed events, given as tuples in CHAIN_COLUMNS order."""
    register.insert_many("audit", CHAIN_COLUMNS.split(", "), events)


def chain(register: Register) -> Iterator[tuple[Any, ...]]:
    """Every event as a tuple in CHAIN_COLUMNS order, oldest first (200,000 of them: tuples,
    read as they come)."""
    return register.tuples(f"SELECT {CHAIN_COLUMNS} FROM audit ORDER BY seq")


def row_lists(register: Register) -> Iterator[tuple[int, str]]:
    """(seq, rows) of every event that lists the rows its change wrote, oldest first."""
    return register.tuples("SELECT seq, rows FROM audit WHERE rows != '' ORDER BY seq")


def signers(register: Register) -> dict[int, str]:
    """Who signed each signed event (where changes are signed by their actors)."""
    return {seq: signer for seq, signer in
            register.tuples("SELECT seq, signer FROM audit WHERE signer IS NOT NULL")}


def any_row_list(register: Register) -> bool:
    """Whether any event of the log lists rows (seals were ever in force)."""
    return register.value("SELECT 1 FROM audit WHERE rows != '' LIMIT 1") is not None


def listing(register: Register, *, limit: int | None = None, subject: str | None = None,
            action: str | None = None) -> list[Row]:
    """Events newest-last, optionally only the last `limit`, one subject or one action."""
    where, params = [], []
    if subject:
        where.append("subject = ?")
        params.append(subject)
    if action:
        where.append("(action = ? OR action LIKE ?)")
        params += [action, f"{action}.%"]
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    sql = f"SELECT seq, at, actor, action, subject, details FROM audit {clause} ORDER BY seq DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    rows = register.rows(sql, params)
    rows.reverse()
    for row in rows:
        row["details"] = json.loads(row["details"])
    return rows


def of_action(register: Register, action: str, subject: str) -> list[Row]:
    """Whole events of one action on one subject, oldest first (to check their seals)."""
    return register.rows("SELECT * FROM audit WHERE action = ? AND subject = ? ORDER BY seq",
                         (action, subject))


def holds(register: Register, seq: int, mac: str) -> bool:
    """Whether the log's event `seq` carries `mac` (a head recorded elsewhere is ours)."""
    return register.value("SELECT 1 FROM audit WHERE seq = ? AND mac = ?", (seq, mac)) is not None


def out_of_time(register: Register, latest: str) -> list[Row]:
    """Events dated before the event before them, or after `latest`: seq, at, action, actor,
    details and the previous event's time (`before`), oldest first.

    The event before is found by its key (seq - 1), ten times faster than a window over the
    whole log; where a seq is missing (events deleted, which the chain names) the latest
    earlier event stands in, looked up for that row only."""
    before = ("COALESCE(b.at, (SELECT p.at FROM audit p WHERE p.seq < a.seq "
              "ORDER BY p.seq DESC LIMIT 1))")
    return register.rows(
        f"SELECT a.seq, a.at, a.action, a.actor, a.details, {before} AS before FROM audit a "
        f"LEFT JOIN audit b ON b.seq = a.seq - 1 WHERE a.at < {before} OR a.at > ? "
        "ORDER BY a.seq", (latest,))


def recorded_head_version(register: Register, setting: str) -> Row | None:
    """The chain head version a register's last change recorded (`value`), and the event
    that sealed it (`sealed_seq`): a settings row, read here beside the log it belongs to,
    and checked by the change's verifier (edited in the file, it refuses the change)."""
    return register.sealed_row("settings", "SELECT * FROM settings WHERE key = ?", (setting,))
