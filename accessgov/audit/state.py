"""The log as the authority over the state: every sealed row must be explained by an event.

Each change's last event lists the rows it wrote (`+table\\tkey` / `-table\\tkey`), and each
row carries a seal naming that event. Replaying the lists gives, for every row that should
exist, the event that last wrote it; `check_state` compares that with the tables and names
every row inserted, deleted, changed or put back behind the log.

`guard` runs before every change: the log must start with the register's own `init` event,
sealed with this key, and rows still waiting for their first seal (a register made before
seals existed) are sealed once, in a `register.seal` event.
"""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Iterable

from accessgov.audit import chain
from accessgov.db import seals
from accessgov.db.register import Register
from accessgov.errors import Tampered
from accessgov.operation import Operation
from accessgov.secrets.base import SecretNotFound

SEALED_MARKER = "audit/sealed"  # in the secret store: seals are in force for this register


@dataclasses.dataclass(frozen=True)
class Finding:
    """One row that the log does not explain."""

    table: str
    row: str
    problem: str

    def as_dict(self) -> dict[str, str]:
        """The JSON form."""
        return {"table": self.table, "row": self.row, "problem": self.problem}


# -- before every change ------------------------------------------------------------------------

def guard(op: Operation) -> None:
    """Refuse to build on a log that does not start with this register's sealed `init`, and
    give rows from before seals existed their first seal."""
    first = op.register.row("SELECT * FROM audit WHERE seq = 1")
    if first is None or first["action"] != "register.init" or first["prev"] != chain.GENESIS \
            or not chain.event_is_sealed(op.keys.chain, first):
        raise Tampered("the audit log does not start with this register's sealed 'init' event "
                       "(it was emptied, cut or altered): nothing can be changed; run "
                       "'accessgov audit verify'")
    if _has_unsealed_rows(op.register):
        _seal_legacy_rows(op)


def _has_unsealed_rows(register: Register) -> bool:
    # Each lookup uses the partial index of unsealed rows, which is empty in normal use.
    return any(register.value(f"SELECT 1 FROM {table} WHERE seal IS NULL LIMIT 1")
               for table in seals.SEALED)


def _seal_legacy_rows(op: Operation) -> None:
    """A register from before seals: seal what it holds, once, and say so in the log.

    Only while no change has ever been sealed: after that an unsealed row was written behind
    the log. The marker in the secret store keeps a log cut back to before the first seal
    from opening this door again."""
    if op.register.value("SELECT 1 FROM audit WHERE rows != '' LIMIT 1") or _sealed_marker(op):
        return  # decisions refuse such rows one by one, and audit verify names them
    count = 0
    for table in seals.SEALED:
        keys = ", ".join(seals.SEALED[table])
        for row in op.register.rows(f"SELECT {keys} FROM {table} WHERE seal IS NULL"):
            pk = seals.row_key(table, row)
            op.register.conn.execute("INSERT INTO temp.touched (tbl, pk) VALUES (?, ?)",
                                     (table, pk))
            count += 1
    op.write_secret(SEALED_MARKER, op.at, expect_version=0)
    op.record_system("register.seal", op.register.setting("org_slug") or "register",
                     rows_sealed=count)


def _sealed_marker(op: Operation) -> bool:
    try:
        op.store.read(SEALED_MARKER)
    except SecretNotFound:
        return False
    return True


# -- audit verify -----------------------------------------------------------------------------

def expected_rows(events: Iterable[tuple[int, str]]) -> dict[tuple[str, str], int | None]:
    """(table, key) -> the seq of the event that last wrote the row, or None if it was deleted,
    from (seq, rows) of every event in order."""
    expected: dict[tuple[str, str], int | None] = {}
    for seq, rows in events:
        for present, table, key in seals.parse_rows(rows):
            expected[(table, key)] = seq if present else None
    return expected


def check_state(register: Register, key: bytes,
                expected: dict[tuple[str, str], int | None]) -> list[Finding]:
    """Every sealed row the log does not explain, table by table."""
    findings: list[Finding] = []
    for table in seals.SEALED:
        findings += _check_table(register, key, table, expected)
    for (table, row), seq in expected.items():
        if seq is not None and table in seals.SEALED:
            findings.append(Finding(table, row, f"deleted behind the log (event {seq} wrote it)"))
    return findings


def _check_table(register: Register, key: bytes, table: str,
                 expected: dict[tuple[str, str], int | None]) -> list[Finding]:
    names = seals.columns(register, table)
    keys = seals.SEALED[table]
    select = ", ".join([*names, "seal"])
    cursor = register.conn.cursor()
    cursor.row_factory = None  # tuples: this runs over every row of the register
    cursor.execute(f"SELECT {select} FROM {table}")
    seq_at = names.index("sealed_seq")
    key_at = [names.index(column) for column in keys]
    findings = []
    for values in cursor:
        row = "\t".join(str(values[i]) for i in key_at)
        explained = expected.pop((table, row), None)
        problem = _problem(key, table, list(values[:-1]), values[-1], values[seq_at], explained)
        if problem:
            findings.append(Finding(table, row, problem))
    return findings


def _problem(key: bytes, table: str, values: list[object], seal: object, sealed_seq: object,
             explained: int | None) -> str | None:
    if explained is None:
        return "inserted behind the log (no event wrote it)"
    if not isinstance(seal, str) or not hmac.compare_digest(
            seal, hmac.digest(key, seals.message(table, values), "sha256").hex()):
        return "changed behind the log (it fails its seal)"
    if isinstance(sealed_seq, int) and sealed_seq > explained:
        return (f"written by event {sealed_seq}, which is missing from the log "
                "(events were cut off its end)")
    if sealed_seq != explained:
        return (f"an older copy put back behind the log (sealed by event {sealed_seq}, "
                f"last written by event {explained})")
    return None
