"""The log as the authority over the state: every sealed row must be explained by an event.

Each change's last event lists the rows it wrote (`+table\\tkey` / `-table\\tkey`), and each
row carries a seal naming that event. Replaying the lists gives, for every row that should
exist, the event that last wrote it; `check_state` compares that with the tables and names
every row inserted, deleted, changed or put back behind the log; `check_snapshot` does it
for the whole register as of one moment.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from accessgov.db import seals
from accessgov.db.queries import events
from accessgov.db.register import Register


@dataclasses.dataclass(frozen=True)
class UnexplainedRow:
    """One row that the log does not explain."""

    table: str
    row: str
    problem: str

    def as_dict(self) -> dict[str, str]:
        """The JSON form."""
        return {"table": self.table, "row": self.row, "problem": self.problem}


# -- audit verify -----------------------------------------------------------------------------

Expected = dict[tuple[str, str], int | None]
ListedSeals = dict[tuple[str, str], str]


def expected_rows(events: Iterable[tuple[int, str]]) -> tuple[Expected, ListedSeals]:
    """(table, key) -> the seq of the event that last wrote the row, or None if it was deleted,
    from (seq, rows) of every event in order; and, where the lists carry seals
    (`+table\\tkey\\tseal`), the seal each row was last written with."""
    expected: Expected = {}
    listed: ListedSeals = {}
    one_column = {table for table, keys in seals.SEALED.items() if len(keys) == 1}
    for seq, rows in events:  # lines `+table\tkey` / `-table\tkey`; once per listed row
        for line in rows.split("\n"):
            table, _, key = line[1:].partition("\t")
            seal = None
            if "\t" in key:  # a key of several columns, or a listed seal after the key
                if table in one_column:  # the common case, spelt out: once per row
                    key, _, rest = key.partition("\t")
                    seal = rest.partition("\t")[0]
                else:
                    key, seal = _key_and_seal(table, key)
            expected[(table, key)] = seq if line[0] == "+" else None
            if seal is not None and line[0] == "+":
                listed[(table, key)] = seal
    return expected, listed


def _key_and_seal(table: str, rest: str) -> tuple[str, str | None]:
    """A row list line's key columns and the seal listed after them, if any."""
    parts = rest.split("\t")
    width = len(seals.SEALED.get(table, ("",)))
    if len(parts) > width:
        return "\t".join(parts[:width]), parts[width]
    return rest, None


def check_state(register: Register, sealer: seals.RowSeals, expected: Expected,
                listed: ListedSeals | None = None,
                signers: dict[int, str] | None = None) -> list[UnexplainedRow]:
    """Every sealed row the log does not explain, table by table. A register from before
    seals (no event of its log lists rows yet) has nothing to compare until its first change
    seals it: then there is nothing to find."""
    if not expected and seals.has_unsealed_rows(register):
        return []
    findings: list[UnexplainedRow] = []
    for table in seals.SEALED:
        findings += _check_table(register, sealer, table, expected, listed or {})
    if signers is not None:
        findings += _decided_in_another_name(register, signers)
    for (table, row), seq in expected.items():
        if seq is not None and table in seals.SEALED:
            findings.append(UnexplainedRow(table, row,
                                           f"deleted behind the log (event {seq} wrote it)"))
    return findings


def _decided_in_another_name(register: Register, signers: dict[int, str]
                             ) -> list[UnexplainedRow]:
    """Decisions (approvals, review decisions) written by a change someone else signed."""
    findings = []
    for table, column in seals.DECIDED_BY.items():
        names = seals.columns(register, table)
        at, seq_at = names.index(column), names.index("sealed_seq")
        keys = [names.index(key) for key in seals.SEALED[table]]
        for values in seals.scan(register, table):
            signer = signers.get(values[seq_at])
            if signer is not None and values[at] != signer:
                findings.append(UnexplainedRow(
                    table, "\t".join(str(values[i]) for i in keys),
                    f"names {values[at]} as deciding, but the change that wrote it was "
                    f"signed by {signer} (a decision made in someone else's name)"))
    return findings


def _check_table(register: Register, sealer: seals.RowSeals, table: str, expected: Expected,
                 listed: ListedSeals) -> list[UnexplainedRow]:
    names = seals.columns(register, table)
    keys = seals.SEALED[table]
    seq_at = names.index("sealed_seq")
    key_at = [names.index(column) for column in keys]
    single = key_at[0] if len(key_at) == 1 else None
    pop, seal_of, vouched = expected.pop, sealer.of_table(table), listed.get if sealer.listed \
        else None
    findings = []
    # The loop is spelt out for speed: it runs once per row of the register.
    for values in seals.scan(register, table):
        row = str(values[single]) if single is not None else \
            "\t".join(str(values[i]) for i in key_at)
        explained = pop((table, row), None)
        seal = values[-1]
        if explained is not None and values[seq_at] == explained and \
                seal == seal_of(values[:-1]) and \
                (vouched is None or vouched((table, row)) == seal):
            continue
        problem = _problem(sealer, table, list(values[:-1]), seal, values[seq_at], explained,
                           None if vouched is None else vouched((table, row)))
        if problem:
            findings.append(UnexplainedRow(table, row, problem))
    return findings


def _problem(sealer: seals.RowSeals, table: str, values: list[object], seal: object,
             sealed_seq: object, explained: int | None, vouched: str | None) -> str | None:
    if explained is None:
        return "inserted behind the log (no event wrote it)"
    if not sealer.holds(table, values, seal):
        return "changed behind the log (it fails its seal)"
    if sealer.listed and seal != vouched:
        return "changed behind the log (not as its signed change lists it)"
    if isinstance(sealed_seq, int) and sealed_seq > explained:
        return (f"written by event {sealed_seq}, which is missing from the log "
                "(events were cut off its end)")
    if sealed_seq != explained:
        return (f"an older copy put back behind the log (sealed by event {sealed_seq}, "
                f"last written by event {explained})")
    return None


# -- the whole state, in one snapshot --------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class StateCheck:
    """Every sealed row compared with the row lists of the log, as of one snapshot."""

    head: tuple[int, str] | None  # the log's last (seq, mac) in that snapshot
    findings: tuple[UnexplainedRow, ...]
    rows_checked: int


def check_snapshot(register: Register, sealer: seals.RowSeals, *,
                   decisions: bool = True) -> StateCheck:
    """Read the log's row lists and every sealed row in one read transaction, and compare.
    `decisions=False` leaves out `decisions_in_another_name` (which `audit verify` runs beside
    this, in the other process)."""
    with register.snapshot():  # one for the lists and the rows (WAL readers never block)
        head = events.head(register)
        expected, listed = expected_rows(events.row_lists(register))
        rows = seals.count_rows(register)
        signers = events.signers(register) if sealer.listed and decisions else None
        findings = check_state(register, sealer, expected, listed, signers)
    return StateCheck((head["seq"], head["mac"]) if head else None, tuple(findings), rows)


def decisions_in_another_name(register: Register) -> list[UnexplainedRow]:
    """Where changes are signed: decisions written by a change someone else signed, as of
    one snapshot."""
    with register.snapshot():
        return _decided_in_another_name(register, events.signers(register))
