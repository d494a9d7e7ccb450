"""The Register: the one interface the core reaches the database through, on either engine.

The register holds people, accounts, grants, approvals, the workflows and the audit log. The
embedded default is one SQLite file (accessgov.db.sqlite); several administrators on their own
machines share one PostgreSQL database (accessgov.db.postgres). The domain never asks which:
it asks `accessgov.db.queries` for rows, and writes with insert, update and delete, inside a
transaction that serialises changes on the audit chain's head.

SQL here and in the named queries is written once, in what both engines understand: `?` and
`:name` placeholders (the PostgreSQL engine translates them), and the few fragments that
differ come from the register's `dialect`.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from accessgov.errors import AccessGovError, InputError

if TYPE_CHECKING:
    from pathlib import Path

    from accessgov.db.ahead import ReadAhead, ReadNow
    from accessgov.db.trust import Verifier

# Tables every accessgov register has had since its first schema: a database without them is
# some other database, never to be migrated into a register.
REGISTER_TABLES = {"settings", "schema_history", "people", "accounts", "grants", "audit"}

Row = dict[str, Any]
Params = Sequence[Any] | Mapping[str, Any]


def default_path(env: Mapping[str, str]) -> str:
    """`ACCESSGOV_DB`, else `register.db` in the platform's per-user data folder.

    A plain string: a read command opens the file without loading pathlib (which brings
    urllib and ipaddress, a tenth of the start-up of `grant list`)."""
    if env.get("ACCESSGOV_DB"):
        return os.path.expanduser(env["ACCESSGOV_DB"])
    import platformdirs

    return os.path.join(platformdirs.user_data_dir("accessgov", appauthor=False), "register.db")


@dataclasses.dataclass(frozen=True)
class DatabaseUrl:
    """Where a PostgreSQL register is: a libpq connection string or URL (`postgresql://...`;
    an empty `postgresql://` takes everything from PGHOST, PGSERVICE, ~/.pgpass...). It stands
    where a SQLite register has its file's path, and names the register the same way on every
    machine (without its password, which never leaves libpq)."""

    url: str

    def resolve(self) -> DatabaseUrl:
        """Itself (a path would be made absolute)."""
        return self

    def exists(self) -> bool:
        """Whether the database already holds a register."""
        from accessgov.db.postgres import PostgresRegister

        return PostgresRegister.holds_register(self)

    def __str__(self) -> str:
        from accessgov.db.postgres import shown_url

        return shown_url(self.url)


Location: TypeAlias = "Path | DatabaseUrl"


class Dialect:
    """The few SQL fragments that differ between the engines (SQLite's spelling here)."""

    name = "sqlite"
    rowref = "rowid"  # what names one stored row for a quick update

    def rowref_is(self) -> str:
        """A condition: the row is the one `rowref` (a parameter) named."""
        return f"{self.rowref} = ?"

    def as_text(self, expr: str) -> str:
        """`expr` compared as text (a key column, whatever its type, against a row key)."""
        return expr

    def json_items(self, expr: str, alias: str) -> str:
        """A FROM item yielding each element of the JSON array `expr` as `alias.value`
        (text) with its 0-based position `alias.key`."""
        return f"json_each({expr}) {alias}"

    def json_text(self, expr: str, key: str) -> str:
        """The text of member `key` of the JSON object `expr`."""
        return f"json_extract({expr}, '$.{key}')"

    def json_pair_items(self, param: str, alias: str) -> str:
        """A FROM item of the JSON array of pairs `param` as `alias.first`, `alias.second`."""
        return (f"(SELECT json_extract(value, '$[0]') AS first, json_extract(value, '$[1]') "
                f"AS second FROM json_each({param})) {alias}")

    def joined(self, expr: str, separator: str = ",", *, distinct: bool = False) -> str:
        """The aggregate of `expr`'s values as text joined by `separator`."""
        if distinct:
            return f"group_concat(DISTINCT {expr})" if separator == "," else \
                f"group_concat({expr}, '{separator}')"
        return f"group_concat({expr}, '{separator}')"

    def json_array(self, expr: str) -> str:
        """The aggregate of `expr`'s values as a JSON array (text)."""
        return f"json_group_array({expr})"


class Register(abc.ABC):
    """An open register. Create with `Register.create`, open with `Register.open`, with a
    file's path (SQLite) or a `DatabaseUrl` (PostgreSQL).

    The core reaches the register only through these few operations (reads, writes, a
    transaction, the chain-head lock); the SQL itself lives in the named queries of
    `accessgov.db.queries`. Rows that decisions rest on are read with `sealed_row` /
    `sealed_rows`: while a change runs, a `Verifier` checks each of them (accessgov.db.trust).
    """

    dialect: Dialect = Dialect()
    # Whether two long reads at once end sooner than one after the other: a server reads
    # each in a process of its own; SQLite reads in this process, on the cores (and, between
    # rows, the interpreter) that the rest of the command needs.
    parallel_reads = False

    def __init__(self, location: Location | str) -> None:
        self.path = location
        # The schema version of the register when it was read through a migrated copy
        # (older than this accessgov's); None when the register itself is read.
        self.upgrade_pending: int | None = None
        # Checks every sealed row read while a change runs (None for read commands).
        self.verifier: Verifier | None = None
        self._columns: dict[str, list[str]] = {}

    # -- opening -------------------------------------------------------------------------

    @staticmethod
    def create(location: Location) -> Register:
        """A new, empty, migrated register (for a file: folder 0700 and file 0600 before
        anything is written; a database must hold no register yet)."""
        if isinstance(location, DatabaseUrl):
            from accessgov.db.postgres import PostgresRegister

            return PostgresRegister.create(location)
        from accessgov.db.sqlite import SqliteRegister

        return SqliteRegister.create(location)

    @staticmethod
    def open(location: Location | str) -> Register:
        """The existing register, for reading until its first transaction; one that is not
        an accessgov register, or is from a newer accessgov, is refused."""
        if isinstance(location, DatabaseUrl):
            from accessgov.db.postgres import PostgresRegister

            return PostgresRegister.open(location)
        from accessgov.db.sqlite import SqliteRegister

        return SqliteRegister.open(location)

    @abc.abstractmethod
    def reopen(self) -> Register:
        """The same register on a connection of its own (for a second process or thread)."""

    def backup_to(self, target: Path) -> None:
        """A consistent copy of the register at `target`, where the engine makes one."""
        raise InputError("this register's database is backed up with its own tools (for "
                         "PostgreSQL, pg_dump: see 'Several administrators' in the README)")

    @abc.abstractmethod
    def close(self) -> None:
        """Close the connection."""

    @abc.abstractmethod
    def discard(self) -> None:
        """Take away a register this process has just created and could not finish (its
        file, or its tables), and close it."""

    # -- schema ----------------------------------------------------------------------------

    @property
    @abc.abstractmethod
    def schema_version(self) -> int:
        """The schema version the register records."""

    @abc.abstractmethod
    def table_names(self) -> set[str]:
        """The tables the database holds."""

    @abc.abstractmethod
    def _table_columns(self, table: str) -> list[str]:
        """The table's columns in schema order, as the database says."""

    @abc.abstractmethod
    def migrate(self) -> None:
        """Bring the schema up to this accessgov's latest version, in place."""

    def columns(self, table: str) -> list[str]:
        """The table's columns in schema order (cached)."""
        if table not in self._columns:
            self._columns[table] = self._table_columns(table)
        return self._columns[table]

    def check_schema(self, latest: int) -> int:
        """The register's schema version, once it is known to be an accessgov register that
        this accessgov (whose latest schema is `latest`) can read; InputError otherwise."""
        version, tables = self._schema_facts()
        if version < 1 or not REGISTER_TABLES.issubset(tables):
            raise InputError(f"{self.path} is not an accessgov register (it is another "
                             "database); point --db / ACCESSGOV_DB (or --database) at your "
                             "register")
        if version > latest:
            raise InputError(
                f"the register at {self.path} was written by a newer accessgov "
                f"(schema {version}); upgrade accessgov to use it"
            )
        return version

    def _schema_facts(self) -> tuple[int, set[str]]:
        return self.schema_version, self.table_names()

    # -- transactions ----------------------------------------------------------------------

    @abc.abstractmethod
    def transaction(self) -> contextlib.AbstractContextManager[Register]:
        """One write transaction, which holds the register's write lock (changes queue
        behind each other instead of failing half-way)."""

    @abc.abstractmethod
    def savepoint(self, name: str = "work") -> contextlib.AbstractContextManager[None]:
        """Inside a transaction: undo just this part if it fails, keeping the write lock."""

    @abc.abstractmethod
    def snapshot(self) -> contextlib.AbstractContextManager[None]:
        """A read transaction: every read inside sees the register as of one moment."""

    @contextlib.contextmanager
    def verified_by(self, verifier: Verifier) -> Iterator[None]:
        """While the block runs, every row read with `sealed_row(s)` is checked by `verifier`."""
        self.verifier = verifier
        try:
            yield
        finally:
            self.verifier = None

    def lock_chain_head(self) -> None:  # noqa: B027 - nothing to take on most engines
        """Serialise changes on the audit chain's head (engines whose write transaction does
        not already hold the only write lock take one here)."""

    def prepare_bulk_writes(self, cache_kib: int) -> None:  # noqa: B027 - a hint
        """For the rest of this transaction, a large change (an import): references are
        checked at commit (a file may name a manager further down)."""

    @abc.abstractmethod
    def start_tracking(self, sealed: Mapping[str, Sequence[str]],
                       counted: Mapping[str, tuple[str, str]]) -> None:
        """Note every write to the `sealed` tables (key columns) in the temporary table
        `touched` (n, tbl, pk, how), and the parent of every write to a `counted` child in
        `counted` (tbl, parent, how), for the rest of this connection (idempotent)."""

    # -- reads ------------------------------------------------------------------------------

    @abc.abstractmethod
    def rows(self, sql: str, params: Params = ()) -> list[Row]:
        """All rows of a query, as dicts."""

    @abc.abstractmethod
    def row(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query, or None."""

    def value(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None."""
        found = self.row(sql, params)
        return None if found is None else next(iter(found.values()))

    @abc.abstractmethod
    def stream(self, sql: str, params: Params = ()) -> Iterator[Row]:
        """A query's rows as dicts, one at a time (a big table is never held whole)."""

    @abc.abstractmethod
    def tuples(self, sql: str, params: Params = ()) -> Iterator[tuple[Any, ...]]:
        """A query's rows as plain tuples, one at a time: no dict per row, for the loops
        that visit every row of the register."""

    def tuples_ahead(self, statements: Sequence[tuple[str, Params]]) -> ReadAhead | ReadNow:
        """The rows `tuples` would give for each statement, one statement after another,
        each asked for now on a connection of its own, so that the database reads them (at
        once, on as many cores as it has) while this process does other work; iterating
        waits for them, once. Close what is not iterated. Inside a transaction, or on a
        register read through an up-to-date copy, another connection would see other rows:
        those are read on this one, when iterated; so are they where a connection of their
        own cannot be had (a server at its limit of connections): reading ahead only saves
        time, it never makes a read fail."""
        from accessgov.db.ahead import ReadAhead, ReadNow

        readers: list[Register] = []
        try:
            for _ in statements:
                reader = self._reader()
                if reader is None:
                    break
                readers.append(reader)
        except AccessGovError:
            pass
        if len(readers) < len(statements):
            for reader in readers:
                reader.close()
            return ReadNow(self, statements)
        return ReadAhead([(reader, sql, params)
                          for reader, (sql, params) in zip(readers, statements, strict=True)])

    def _reader(self) -> Register | None:
        """The register on a connection of its own, for reading only, that another thread may
        use, where it sees exactly what this connection sees; None elsewhere."""
        return None

    def sealed_row(self, table: str, sql: str, params: Params = ()) -> Row | None:
        """One whole row of a sealed table, checked by the verifier while a change runs."""
        found = self.row(sql, params)
        if found is not None and self.verifier is not None:
            self.verifier.check(table, found)
        return found

    def sealed_rows(self, table: str, sql: str, params: Params = ()) -> list[Row]:
        """Whole rows of a sealed table, each checked by the verifier while a change runs."""
        found = self.rows(sql, params)
        if self.verifier is not None:
            for row in found:
                self.verifier.check(table, row)
        return found

    # -- writes ------------------------------------------------------------------------------

    @abc.abstractmethod
    def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement of a named query (an UPDATE with conditions...); returns how
        many rows it changed."""

    @abc.abstractmethod
    def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement of a named query once per parameter set."""

    def insert(self, table: str, values: Mapping[str, Any]) -> None:
        """Insert one row."""
        columns = ", ".join(values)
        marks = ", ".join(f":{column}" for column in values)
        self.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)

    def insert_many(self, table: str, columns: Sequence[str],
                    rows: Iterable[Sequence[Any]]) -> None:
        """Insert many rows given as value sequences in `columns` order, in one statement."""
        marks = ", ".join("?" for _ in columns)
        self.execute_many(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def update(self, table: str, key: Mapping[str, Any], values: Mapping[str, Any]) -> int:
        """Update the rows matching every `key` column; returns how many changed."""
        assignments = ", ".join(f"{column} = :set_{column}" for column in values)
        conditions = " AND ".join(f"{column} = :key_{column}" for column in key)
        params = {f"set_{c}": v for c, v in values.items()}
        params |= {f"key_{c}": v for c, v in key.items()}
        return self.execute(f"UPDATE {table} SET {assignments} WHERE {conditions}", params)

    def delete(self, table: str, key: Mapping[str, Any]) -> int:
        """Delete the rows matching every `key` column; returns how many went."""
        conditions = " AND ".join(f"{column} = :{column}" for column in key)
        return self.execute(f"DELETE FROM {table} WHERE {conditions}", key)

    # -- settings ---------------------------------------------------------------------------

    def settings(self) -> dict[str, str]:
        """Every setting, as strings."""
        return {row["key"]: row["value"] for row in self.rows("SELECT key, value FROM settings")}

    def setting(self, key: str) -> str | None:
        """One setting, or None when unset."""
        found: str | None = self.value("SELECT value FROM settings WHERE key = ?", (key,))
        return found

    def set_setting(self, key: str, value: str) -> None:
        """Create or replace a setting (inside the caller's transaction)."""
        self.execute("INSERT INTO settings (key, value) VALUES (?, ?) "
                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))
