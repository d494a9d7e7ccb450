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
import json
import os
from collections.abc import Callable, Iterable

from accessgov.audit import chain
from accessgov.db import seals
from accessgov.db.queries import events
from accessgov.db.register import Register
from accessgov.errors import Tampered
from accessgov.operation import Operation

SEALED_MARKER = "audit/sealed"  # in the secret store: seals are in force for this register


@dataclasses.dataclass(frozen=True)
class UnexplainedRow:
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
    first = events.first(op.register)
    if first is None or first["action"] != "register.init" or first["prev"] != chain.GENESIS \
            or not chain.event_is_sealed(op.keys.chain, first):
        raise Tampered("the audit log does not start with this register's sealed 'init' event "
                       "(it was emptied, cut or altered): nothing can be changed; run "
                       "'accessgov audit verify'")
    if seals.has_unsealed_rows(op.register):
        _seal_legacy_rows(op)


def _seal_legacy_rows(op: Operation) -> None:
    """A register from before seals: seal what it holds, once, and say so in the log.

    Only while no change has ever been sealed: after that an unsealed row was written behind
    the log. The marker in the secret store keeps a log cut back to before the first seal
    from opening this door again."""
    if events.any_row_list(op.register) or op.store.exists(SEALED_MARKER):
        return  # decisions refuse such rows one by one, and audit verify names them
    count = 0
    for table in seals.SEALED:
        for pk in seals.unsealed_keys(op.register, table):
            seals.note_written(op.register, table, pk)
            count += 1
    op.write_secret(SEALED_MARKER, op.at, expect_version=0)
    op.record_system("register.seal", op.register.setting("org_slug") or "register",
                     rows_sealed=count)


# -- audit verify -----------------------------------------------------------------------------

def expected_rows(events: Iterable[tuple[int, str]]) -> dict[tuple[str, str], int | None]:
    """(table, key) -> the seq of the event that last wrote the row, or None if it was deleted,
    from (seq, rows) of every event in order."""
    expected: dict[tuple[str, str], int | None] = {}
    for seq, rows in events:  # lines `+table\tkey` / `-table\tkey`; once per listed row
        for line in rows.split("\n"):
            table, _, key = line[1:].partition("\t")
            expected[(table, key)] = seq if line[0] == "+" else None
    return expected


def check_state(register: Register, key: bytes,
                expected: dict[tuple[str, str], int | None]) -> list[UnexplainedRow]:
    """Every sealed row the log does not explain, table by table. A register from before
    seals (no event of its log lists rows yet) has nothing to compare until its first change
    seals it: then there is nothing to find."""
    if not expected and seals.has_unsealed_rows(register):
        return []
    findings: list[UnexplainedRow] = []
    for table in seals.SEALED:
        findings += _check_table(register, key, table, expected)
    for (table, row), seq in expected.items():
        if seq is not None and table in seals.SEALED:
            findings.append(UnexplainedRow(table, row,
                                           f"deleted behind the log (event {seq} wrote it)"))
    return findings


def _check_table(register: Register, key: bytes, table: str,
                 expected: dict[tuple[str, str], int | None]) -> list[UnexplainedRow]:
    names = seals.columns(register, table)
    keys = seals.SEALED[table]
    seq_at = names.index("sealed_seq")
    key_at = [names.index(column) for column in keys]
    single = key_at[0] if len(key_at) == 1 else None
    pop, seal_of = expected.pop, seals.seal_of
    findings = []
    # The loop is spelt out for speed: it runs once per row of the register.
    for values in seals.scan(register, table):
        row = str(values[single]) if single is not None else \
            "\t".join(str(values[i]) for i in key_at)
        explained = pop((table, row), None)
        seal = values[-1]
        if explained is not None and values[seq_at] == explained and \
                seal == seal_of(key, table, list(values[:-1])):
            continue
        problem = _problem(key, table, list(values[:-1]), seal, values[seq_at], explained)
        if problem:
            findings.append(UnexplainedRow(table, row, problem))
    return findings


def _problem(key: bytes, table: str, values: list[object], seal: object, sealed_seq: object,
             explained: int | None) -> str | None:
    if explained is None:
        return "inserted behind the log (no event wrote it)"
    if not seals.holds(key, table, values, seal):
        return "changed behind the log (it fails its seal)"
    if isinstance(sealed_seq, int) and sealed_seq > explained:
        return (f"written by event {sealed_seq}, which is missing from the log "
                "(events were cut off its end)")
    if sealed_seq != explained:
        return (f"an older copy put back behind the log (sealed by event {sealed_seq}, "
                f"last written by event {explained})")
    return None


# -- the whole state, in one snapshot --------------------------------------------------------

# From this many events on, the state is checked in a second process while this one checks the
# chain: both are CPU-bound (an HMAC per event, one per row), and the two use two cores.
PARALLEL_FROM = 20_000


@dataclasses.dataclass(frozen=True)
class StateCheck:
    """Every sealed row compared with the row lists of the log, as of one snapshot."""

    head: tuple[int, str] | None  # the log's last (seq, mac) in that snapshot
    findings: tuple[UnexplainedRow, ...]
    rows_checked: int


def check_snapshot(register: Register, key: bytes) -> StateCheck:
    """Read the log's row lists and every sealed row in one read transaction, and compare."""
    with register.snapshot():  # one for the lists and the rows (WAL readers never block)
        head = events.head(register)
        expected = expected_rows(events.row_lists(register))
        rows = seals.count_rows(register)
        findings = check_state(register, key, expected)
    return StateCheck((head["seq"], head["mac"]) if head else None, tuple(findings), rows)


def check_in_background(register: Register, key: bytes) -> Callable[[], StateCheck] | None:
    """Start `check_snapshot` in a forked child on its own connection, when the log is long
    enough to gain from it and the platform can fork; returns how to collect the result."""
    if events.last_seq(register) < PARALLEL_FROM or not hasattr(os, "fork"):
        return None
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child, which reports through the pipe
        _report_from_child(register, key, writer)
    os.close(writer)
    return lambda: _collect(child, reader)


def _report_from_child(register: Register, key: bytes, writer: int) -> None:
    status = 1
    try:
        result = check_snapshot(register.reopen(), key)
        payload = {"head": result.head, "rows": result.rows_checked,
                   "findings": [finding.as_dict() for finding in result.findings]}
        with os.fdopen(writer, "w", encoding="utf-8") as pipe:
            json.dump(payload, pipe)
        status = 0
    finally:
        os._exit(status)


def _collect(child: int, reader: int) -> StateCheck:
    with os.fdopen(reader, encoding="utf-8") as pipe:
        text = pipe.read()
    _, status = os.waitpid(child, 0)
    if status != 0 or not text:
        raise RuntimeError("the state check in the second process failed")
    data = json.loads(text)
    head = tuple(data["head"]) if data["head"] else None
    return StateCheck(head, tuple(UnexplainedRow(**f) for f in data["findings"]),
                      data["rows"])
