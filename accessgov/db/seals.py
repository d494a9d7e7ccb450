"""Row seals: every row that authority depends on carries an HMAC that only accessgov can make.

A seal is HMAC-SHA256, keyed from the audit key (which lives in the secret store, never in the
register), over the table's name and the row's values, including `sealed_seq`: the audit event
that explains the row's current state. So a row inserted or edited with sqlite3 on the file has
no valid seal, and a row put back as an older copy names an older event than the log does.

Which rows a change wrote is not left to each caller to remember: temporary triggers on the
register's connection note every insert, update and delete of a sealed table, and
`seal_touched` seals them all at the end of the change and returns the list the audit event
records (`+people\tjdoe`, `-mfa\tjdoe`).
"""

from __future__ import annotations

import abc
import dataclasses
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from accessgov.common.compact_json import compact_encoder
from accessgov.db.register import Register, Row
from accessgov.errors import Tampered

# Sealed tables and their key columns. The audit log and schema history are not sealed rows:
# the log is its own chain, and the history is written before any key is at hand.
SEALED: dict[str, tuple[str, ...]] = {
    "settings": ("key",),
    "people": ("id",),
    "accounts": ("id",),
    "grants": ("id",),
    "approvals": ("id",),
    "delegations": ("id",),
    "delegation_accounts": ("delegation", "account"),
    "mfa": ("person",),
    "sessions": ("id",),
    "credentials": ("id",),
    "credential_versions": ("id",),
    "exposures": ("id",),
    "policy_reviews": ("id",),
    "review_campaigns": ("id",),
    "review_decisions": ("campaign", "item"),
    "offboarding_cases": ("id",),
    "offboarding_items": ("case_id", "item"),
    "approval_claims": ("grant_id",),
    "platform_removals": ("grant_id",),
    "account_exceptions": ("account",),
    "incidents": ("id",),
    "incident_items": ("incident_id", "item"),
}
SEAL_COLUMNS = ("sealed_seq", "seal")

# Child tables whose rows each parent row counts (parent table, the child's column naming the
# parent): `counts` in the parent's sealed row says how many there should be.
COUNTED: dict[str, tuple[str, str]] = {
    "delegations": ("people", "delegate"),
    "exposures": ("people", "person"),
    "approvals": ("grants", "grant_id"),
    "approval_claims": ("grants", "grant_id"),
    "incident_items": ("incidents", "incident_id"),
    "offboarding_items": ("offboarding_cases", "case_id"),
}
COUNTING = sorted({parent for parent, _ in COUNTED.values()})

# Where changes are signed by their actors: rows written once, by the decision they record,
# whose column names who decided (so the change that wrote one must be signed by them). A row
# of a change signed by someone else is a decision made in another's name.
DECIDED_BY = {"approvals": "approver", "review_decisions": "decided_by"}


@dataclasses.dataclass(frozen=True)
class Keys:
    """The keys derived from the audit key, one per purpose, so no MAC can stand for another."""

    chain: bytes  # the audit chain (the audit key itself, as every register has used)
    rows: bytes
    sessions: bytes

    @classmethod
    def derive(cls, audit_key: bytes) -> Keys:
        """The row and session keys from the audit key."""
        def sub(purpose: str) -> bytes:
            return hmac.digest(audit_key, f"accessgov/{purpose}".encode(), "sha256")

        return cls(chain=audit_key, rows=sub("rows"), sessions=sub("sessions"))


class EventSeals(Protocol):
    """How the audit log's events are sealed (implemented in accessgov.audit.chain): an HMAC
    chain with the audit key, or a hash chain whose changes are signed by their actors."""

    signed: bool

    def mac(self, message: bytes) -> str:
        """The mac of one event's message (which includes the previous event's mac)."""

    def sign(self, mac: str) -> tuple[str, str] | None:
        """(signer, signature) over a change's last mac, when changes are signed."""

    def holds(self, event: Mapping[str, Any]) -> bool:
        """Whether one stored event carries its mac (and, if it has one, a good signature)."""


@dataclasses.dataclass(frozen=True)
class Trust:
    """What a register's seals rest on: how events and rows are sealed, and the key that
    binds session tokens (None where sessions are the secret store's own tokens)."""

    events: EventSeals
    rows: RowSeals
    sessions: bytes | None


def row_key(table: str, row: Mapping[str, Any]) -> str:
    """The row's key columns as one string: `jdoe`, `D-0001\tinstagram-main`, `17`."""
    return "\t".join(str(row[column]) for column in SEALED[table])


# A row's values (text, numbers and NULLs) as compact ASCII JSON.
_ENCODE = compact_encoder(sort_keys=False, ensure_ascii=True)


def message(table: str, values: list[Any]) -> bytes:
    """What a row's seal covers: the table's name and the row's values, as compact JSON."""
    return _message_of_row([table, *values])


def _message_of_row(table_and_values: list[Any]) -> bytes:
    # Trailing NULLs are left out, so a nullable column added by a later migration does not
    # change the seals of rows written before it. JSON tells NULL, text and numbers apart.
    while table_and_values[-1] is None:  # the table's name, first, is never None
        table_and_values.pop()
    return _ENCODE(table_and_values).encode()


def columns(register: Register, table: str) -> list[str]:
    """The table's columns in schema order, without the seal itself."""
    return [name for name in register.columns(table) if name != "seal"]


def seal_of(key: bytes, table: str, values: list[Any]) -> str:
    """The keyed seal of a row of `table` whose values (seal left out) are `values`, in schema
    order: the one spelling of the row-seal HMAC."""
    return hmac.digest(key, message(table, values), "sha256").hex()


class RowSeals(abc.ABC):
    """How a register's rows are sealed.

    With the audit key (keyring, or a store every operator shares) a seal is an HMAC only
    accessgov can make. Where changes are signed by their actors, nobody holds a shared key:
    a seal is then a plain hash of the row, and the change's signed last event lists each row
    with its seal (`listed`), so a row is trusted when a signed change vouches for it.
    """

    listed = False

    @abc.abstractmethod
    def of(self, table: str, values: list[Any]) -> str:
        """The seal of a row of `table` whose values (seal left out) are `values`."""

    def holds(self, table: str, values: list[Any], seal: object) -> bool:
        """Whether `seal` is the seal of these values."""
        return isinstance(seal, str) and hmac.compare_digest(seal, self.of(table, values))

    def of_table(self, table: str) -> Callable[[Sequence[Any]], str]:
        """`of` for the rows of one table, made once for a loop over all of them."""
        return lambda values: self.of(table, list(values))


class KeyedRowSeals(RowSeals):
    """Seals made with a key derived from the audit key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def of(self, table: str, values: list[Any]) -> str:
        return seal_of(self._key, table, values)

    def of_table(self, table: str) -> Callable[[Sequence[Any]], str]:
        # The key's HMAC state is made once and copied per row: a third less work per seal
        # than `hmac.digest`, which starts from the key each time (audit verify seals every
        # row of the register).
        keyed = hmac.new(self._key, digestmod=hashlib.sha256)

        def seal(values: Sequence[Any]) -> str:
            mac = keyed.copy()
            mac.update(_message_of_row([table, *values]))
            return mac.hexdigest()
        return seal


class ListedRowSeals(RowSeals):
    """Plain hashes, vouched for by the signed change that lists them."""

    listed = True

    def of(self, table: str, values: list[Any]) -> str:
        return hashlib.sha256(message(table, values)).hexdigest()

    def of_table(self, table: str) -> Callable[[Sequence[Any]], str]:
        return lambda values: hashlib.sha256(_message_of_row([table, *values])).hexdigest()


def is_sealed(sealer: RowSeals, register: Register, table: str,
              row: Mapping[str, Any]) -> bool:
    """True when the row carries the seal accessgov gave it."""
    values = [row[name] for name in columns(register, table)]
    return sealer.holds(table, values, row.get("seal"))


def require_sealed(sealer: RowSeals, register: Register, table: str,
                   row: Row | None) -> Row | None:
    """`row` if its seal holds; a refusal naming it if it was written behind the log."""
    if row is not None and not is_sealed(sealer, register, table, row):
        raise Tampered(
            f"the register was changed outside accessgov: the {table} row "
            f"{row_key(table, row)!r} does not carry accessgov's seal, so it is not trusted; "
            "run 'accessgov audit verify'"
        )
    return row


# The action family whose events write a table's rows, with the row's key as their subject:
# an event of that family about a row, later than the row's seal, means the row was put back.
FAMILIES = {"people": "person.%", "accounts": "account.%", "grants": "grant.%",
            "delegations": "delegation.%", "mfa": "mfa.%", "sessions": "session.%",
            "review_campaigns": "review.%", "approval_claims": "grant.confirm"}


LATER_EVENT = "SELECT MAX(seq) FROM audit WHERE subject = ? AND action LIKE ? AND seq > ?"


def require_current(register: Register, table: str, row: Row) -> None:
    """Refuse a sealed row that is an older copy: the log has a later event about it."""
    family = FAMILIES.get(table)
    if family is None:
        return
    later = register.value(LATER_EVENT, (row_key(table, row), family, row["sealed_seq"]))
    if later is not None:
        raise Tampered(
            f"the register was changed outside accessgov: the {table} row "
            f"{row_key(table, row)!r} is an older copy (event {later} changed it since); "
            "run 'accessgov audit verify'"
        )


def strip(row: Row) -> Row:
    """The row without its seal columns (and its children's counts, which go with the seal),
    for display."""
    for column in (*SEAL_COLUMNS, "counts"):
        row.pop(column, None)
    return row


# -- reading every sealed row ---------------------------------------------------------------

def has_unsealed_rows(register: Register) -> bool:
    """Whether any sealed table has a row still waiting for its first seal (a register from
    before seals). Each lookup uses the partial index of unsealed rows, empty in normal use."""
    return any(register.value(f"SELECT 1 FROM {table} WHERE seal IS NULL LIMIT 1")
               for table in SEALED)


def unsealed_keys(register: Register, table: str) -> list[str]:
    """The keys of the rows of `table` that have no seal yet."""
    keys = ", ".join(SEALED[table])
    return [row_key(table, row) for row in
            register.rows(f"SELECT {keys} FROM {table} WHERE seal IS NULL")]


def scan(register: Register, table: str) -> Iterable[tuple[Any, ...]]:
    """Every row of `table` as a tuple of `columns(register, table)` then the seal, read as
    they come (this visits every row of the register)."""
    select = ", ".join([*columns(register, table), "seal"])
    return register.tuples(f"SELECT {select} FROM {table}")


def count_rows(register: Register) -> int:
    """How many rows the sealed tables hold."""
    return sum(int(register.value(f"SELECT COUNT(*) FROM {table}")) for table in SEALED)


# -- noting what a change wrote ------------------------------------------------------------

def note_written(register: Register, table: str, pk: str) -> None:
    """Note a row as written by the change under way, so that it is sealed with it (a row
    given its first seal, which no trigger sees being written)."""
    register.execute("INSERT INTO touched (tbl, pk, how) VALUES (?, ?, 'UPDATE')", (table, pk))


def track(register: Register) -> None:
    """Note every write to a sealed table on this connection in `touched`, and the parent of
    every counted child written in `counted` (idempotent)."""
    register.start_tracking(SEALED, COUNTED)


def counts_sql(parent: str) -> str:
    """The SQL expression giving a `parent` row's counts text (`delegations=1;exposures=3`)."""
    children = sorted((child, column) for child, (table, column) in COUNTED.items()
                      if table == parent)
    parts = [f"'{child}=' || (SELECT COUNT(*) FROM {child} c WHERE c.{column} = "
             f"{parent}.id)" for child, column in children]
    return " || ';' || ".join(parts)


def recount(register: Register) -> None:
    """Bring the counts of every parent this change touched (or whose children it touched) up
    to date, before the change is sealed."""
    for parent in COUNTING:
        register.execute(
            f"UPDATE {parent} SET counts = {counts_sql(parent)} WHERE id IN "
            f"(SELECT parent FROM counted WHERE tbl = '{parent}' "
            f"UNION SELECT pk FROM touched WHERE tbl = '{parent}') "
            f"AND counts IS DISTINCT FROM {counts_sql(parent)}")
    register.execute("DELETE FROM counted")


def count_sealed_uncounted(register: Register, trusted: Callable[[str, Row], bool]) -> int:
    """Give every parent row that has never been counted, and is `trusted` (the change's own
    check, which then trusts the row the change rewrites), its counts (a register from before
    counts; they are sealed with the change). A row not trusted was written behind the log:
    it is left as it is, for decisions to refuse."""
    counted = 0
    for parent in COUNTING:
        rows = register.rows(f"SELECT * FROM {parent} WHERE counts IS NULL")
        ids = [row["id"] for row in rows if trusted(parent, row)]
        for start in range(0, len(ids), 500):
            batch = ids[start:start + 500]
            marks = ", ".join("?" for _ in batch)
            counted += register.execute(
                f"UPDATE {parent} SET counts = {counts_sql(parent)} "
                f"WHERE id IN ({marks})", batch)
    return counted


def parse_counts(text: str | None) -> dict[str, int] | None:
    """`delegations=1;exposures=3` -> {"delegations": 1, "exposures": 3} (None: never
    counted)."""
    if text is None:
        return None
    return {name: int(number) for name, _, number in
            (part.partition("=") for part in text.split(";")) if name}


def children_written(register: Register, parent: str, key: str) -> bool:
    """Whether the change under way inserted or deleted a counted child of this parent row
    (its counts are brought up to date only when the change is sealed)."""
    return register.value(
        "SELECT 1 FROM counted WHERE tbl = ? AND parent = ? AND how != 'UPDATE' LIMIT 1",
        (parent, key)) is not None


def has_uncounted_rows(register: Register) -> bool:
    """Whether a parent row has never been counted (each lookup uses a partial index that is
    empty in normal use)."""
    return any(register.value(f"SELECT 1 FROM {parent} WHERE counts IS NULL LIMIT 1")
               for parent in COUNTING)


def created_here(register: Register, table: str, pk: str) -> bool:
    """Whether the change under way created this row (its first write was an insert)."""
    first = register.value("SELECT how FROM touched WHERE tbl = ? AND pk = ? "
                           "ORDER BY n LIMIT 1", (table, pk))
    return bool(first == "INSERT")


def touched(register: Register) -> list[tuple[str, str]]:
    """(table, key) of every sealed row written since the last `seal_touched`, in order."""
    # Tuples: a big change writes 200,000 rows.
    return list(dict.fromkeys(register.tuples("SELECT tbl, pk FROM touched ORDER BY n")))


def seal_touched(sealer: RowSeals, register: Register, seq: int) -> str:
    """Seal every row this change wrote as explained by event `seq`; returns the event's row
    list (`+table\\tkey` for a row now present, `-table\\tkey` for one deleted; with
    `+table\\tkey\\tseal` where the sealer lists seals).

    Table by table: each row is read as a plain tuple and the seals are written in one
    batch by rowid (an import writes 200,000 rows in one change)."""
    recount(register)
    lines: list[str] = []
    # Table by table, each in the order it was first written, and each table's rows in the
    # order they were first written; only one table's seals are held at a time.
    for (table,) in list(register.tuples(
            "SELECT tbl FROM touched GROUP BY tbl ORDER BY MIN(n)")):
        pks = [pk for (pk,) in register.tuples(
            "SELECT pk FROM touched WHERE tbl = ? GROUP BY pk ORDER BY MIN(n)", (table,))]
        present = _seal_rows(sealer, register, table, pks, seq)
        if sealer.listed:
            lines += [f"+{table}\t{pk}\t{present[pk]}" if pk in present else f"-{table}\t{pk}"
                      for pk in pks]
        else:
            lines += [f"{'+' if pk in present else '-'}{table}\t{pk}" for pk in pks]
    register.execute("DELETE FROM touched")
    return "\n".join(lines)


def _seal_rows(sealer: RowSeals, register: Register, table: str, pks: list[str],
               seq: int) -> dict[str, str]:
    """Seal the rows of one table with these keys; returns the keys of those still present,
    with their seals."""
    names = columns(register, table)
    at = names.index("sealed_seq")
    keys = SEALED[table]
    dialect = register.dialect
    found: Iterable[tuple[Any, ...]]
    if len(keys) == 1:  # one query finds them all, by the key's index (read as they come)
        found = register.tuples(
            f"SELECT t.{dialect.rowref}, t.{keys[0]}, "
            f"{', '.join(f't.{name}' for name in names)} "
            f"FROM (SELECT DISTINCT pk FROM touched WHERE tbl = ?) k "
            f"JOIN {table} t ON {dialect.as_text(f't.{keys[0]}')} = k.pk", (table,))
    else:
        where = " AND ".join(f"{dialect.as_text(column)} = ?" for column in keys)
        select = (f"SELECT {dialect.rowref}, {_key_text(register, keys)}, "
                  f"{', '.join(names)} FROM {table} WHERE {where}")
        found = [row for pk in pks for row in register.tuples(select, pk.split("\t"))]
    present, updates = {}, []
    seal_of = sealer.of_table(table)
    for row in found:
        values = list(row[2:])
        values[at] = seq
        seal = seal_of(values)
        updates.append((seq, seal, row[0]))
        present[str(row[1])] = seal
    register.execute_many(
        f"UPDATE {table} SET sealed_seq = ?, seal = ? WHERE {dialect.rowref_is()}", updates)
    return present


def _key_text(register: Register, keys: Sequence[str]) -> str:
    """The SQL of a row's key as text, its columns joined by tabs (as `row_key` joins them)."""
    return " || '\t' || ".join(register.dialect.as_text(column) for column in keys)
