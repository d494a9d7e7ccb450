"""The Register: one SQLite file holding people, accounts, grants, approvals and the audit log.

It owns the connection, the transaction discipline (one `BEGIN IMMEDIATE` per command), the
secure creation of the file and forward migrations. Queries are plain `sqlite3`: read commands
must start fast, and sqlite-utils (85-185 ms to import) is loaded only to migrate or import.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accessgov.db.migrations import LATEST_VERSION, apply_migrations
from accessgov.errors import AccessGovError, InputError, RegisterBusy

BUSY_TIMEOUT_MS = 5000
# Tables every accessgov register has had since its first schema: a file without them is
# some other SQLite database, never to be migrated into a register.
REGISTER_TABLES = {"settings", "schema_history", "people", "accounts", "grants", "audit"}

if TYPE_CHECKING:
    from accessgov.db.trust import Verifier

Row = dict[str, Any]
Params = Sequence[Any] | Mapping[str, Any]


def default_path(env: Mapping[str, str]) -> Path:
    """`ACCESSGOV_DB`, else `register.db` in the platform's per-user data folder."""
    if env.get("ACCESSGOV_DB"):
        return Path(env["ACCESSGOV_DB"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("accessgov", appauthor=False)) / "register.db"


def _dict_row(cursor: sqlite3.Cursor, row: Sequence[Any]) -> Row:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


class Register:
    """An open register file. Create with `Register.create`, open with `Register.open`.

    An opened register reads through a read-only connection: a read command never writes to
    the file (no migration, no switch of journal mode). The first `transaction()` reconnects
    for writing, in WAL mode, and brings an older schema up to date then.

    The core reaches the register only through these few operations (reads, writes, a
    transaction, the chain-head lock); the SQL itself lives in the named queries of
    `accessgov.db.queries`. Rows that decisions rest on are read with `sealed_row` /
    `sealed_rows`: while a change runs, a `Verifier` checks each of them (accessgov.db.trust).
    """

    def __init__(self, path: Path, conn: sqlite3.Connection, *, writable: bool = True) -> None:
        self.path = path
        self._conn = conn
        self.writable = writable
        # The schema version of the file when it was read through a migrated copy (older
        # than this accessgov's); None when the file itself is read.
        self.upgrade_pending: int | None = None
        # Checks every sealed row read while a change runs (None for read commands).
        self.verifier: Verifier | None = None
        self._columns: dict[str, list[str]] = {}

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def create(cls, path: Path) -> Register:
        """A new, empty, migrated register: folder 0700 and file 0600 before anything is written."""
        if path.exists():
            raise InputError(f"a register already exists at {path}")
        _make_private_folder(path.parent)
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except OSError as error:
            raise InputError(f"cannot create the register at {path}: {error.strerror}") from None
        os.close(fd)
        register = cls(path, _connect(path))
        register._upgrade(0)
        return register

    @classmethod
    def open(cls, path: Path) -> Register:
        """The existing register at `path`, for reading until its first transaction.

        A file that is not an accessgov register is refused, and so is one from a newer
        accessgov. One from an older accessgov is read through an up-to-date copy in memory;
        the file itself is brought up to date by the first change.
        """
        if not path.is_file():
            raise InputError(
                f"there is no register at {path}; run 'accessgov init --org NAME' first "
                "(or point --db / ACCESSGOV_DB at your register)"
            )
        conn = _connect(path, read_only=True)
        register = cls(path, conn, writable=False)
        try:
            version = register.check_schema()
            if version < LATEST_VERSION:
                register._conn = _migrated_copy(conn, version)
                register.upgrade_pending = version
        except BaseException:
            conn.close()
            raise
        if register.upgrade_pending is not None:
            conn.close()
        return register

    def reopen(self) -> Register:
        """The same register on a connection of its own (for a second process or thread)."""
        return Register(self.path, _connect(self.path))

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    # -- schema ----------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        """The schema version recorded in the file (SQLite's user_version)."""
        version: int = self._conn.execute("PRAGMA user_version").fetchone()["user_version"]
        return version

    def check_schema(self) -> int:
        """The file's schema version, once it is known to be an accessgov register that this
        accessgov can read (InputError otherwise)."""
        try:
            version = self.schema_version
            tables = {row["name"] for row in self.rows(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as error:
            raise InputError(f"{self.path} is not a usable accessgov register ({error})") \
                from None
        if version < 1 or not REGISTER_TABLES.issubset(tables):
            raise InputError(f"{self.path} is not an accessgov register (it is another SQLite "
                             "file); point --db / ACCESSGOV_DB at your register")
        if version > LATEST_VERSION:
            raise InputError(
                f"the register at {self.path} was written by a newer accessgov "
                f"(schema {version}); upgrade accessgov to use it"
            )
        return version

    def columns(self, table: str) -> list[str]:
        """The table's columns in schema order (cached)."""
        if table not in self._columns:
            info = self._conn.execute(f"PRAGMA table_info({table})").fetchall()
            self._columns[table] = [column["name"] for column in info]
        return self._columns[table]

    def migrate(self) -> None:
        """Bring the schema up to LATEST_VERSION in place (through a writable connection)."""
        self._upgrade(self.check_schema())

    def _upgrade(self, version: int) -> None:
        if version == LATEST_VERSION:
            return
        with self.transaction():
            current = self.schema_version  # another process may have done it meanwhile
            if current < LATEST_VERSION:
                apply_migrations(self._conn, current, LATEST_VERSION)
                self._columns.clear()

    def _make_writable(self) -> None:
        """Reconnect for writing (WAL) and bring the file's schema up to date."""
        old = self._conn
        self._conn = _connect(self.path)
        self.writable = True
        old.close()
        self.migrate()
        self.upgrade_pending = None

    # -- transactions ----------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Register]:
        """One write transaction: BEGIN IMMEDIATE takes the write lock up front, so two
        writers queue on the busy timeout instead of failing half-way."""
        if not self.writable:
            self._make_writable()
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise _busy_or(error) from None
        try:
            yield self
        except BaseException:
            self._conn.rollback()
            raise
        try:
            self._conn.execute("COMMIT")
        except sqlite3.OperationalError as error:
            self._conn.rollback()
            raise _busy_or(error) from None

    @contextlib.contextmanager
    def savepoint(self, name: str = "work") -> Iterator[None]:
        """Inside a transaction: undo just this part if it fails, keeping the write lock (so a
        refused attempt can be recorded before anyone else writes)."""
        self._conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self._conn.execute(f"ROLLBACK TO {name}")
            self._conn.execute(f"RELEASE {name}")
            raise
        self._conn.execute(f"RELEASE {name}")

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """A read transaction: every read inside sees the register as of one moment (WAL
        readers never block the writer)."""
        self._conn.execute("BEGIN")
        try:
            yield
        finally:
            self._conn.execute("COMMIT")

    @contextlib.contextmanager
    def verified_by(self, verifier: Verifier) -> Iterator[None]:
        """While the block runs, every row read with `sealed_row(s)` is checked by `verifier`."""
        self.verifier = verifier
        try:
            yield
        finally:
            self.verifier = None

    def lock_chain_head(self) -> None:
        """Serialise changes on the audit chain's head. In SQLite the write transaction's
        BEGIN IMMEDIATE already holds the only write lock, so there is nothing more to take."""

    def prepare_bulk_writes(self, cache_kib: int) -> None:
        """For the rest of this transaction, a large change (an import): references are
        checked at commit (a file may name a manager further down), and the page cache holds
        `cache_kib` (taken only as used), also for sealing the rows at the end."""
        self._conn.execute("PRAGMA defer_foreign_keys = ON")
        self._conn.execute(f"PRAGMA main.cache_size = -{int(cache_kib)}")

    # -- reads ------------------------------------------------------------------------------

    def rows(self, sql: str, params: Params = ()) -> list[Row]:
        """All rows of a query, as dicts."""
        return self._conn.execute(sql, params).fetchall()

    def row(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query, or None."""
        found: Row | None = self._conn.execute(sql, params).fetchone()
        return found

    def value(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None."""
        found = self._conn.execute(sql, params).fetchone()
        return None if found is None else next(iter(found.values()))

    def stream(self, sql: str, params: Params = ()) -> Iterator[Row]:
        """A query's rows as dicts, one at a time (a big table is never held whole)."""
        yield from self._conn.execute(sql, params)

    def tuples(self, sql: str, params: Params = ()) -> Iterator[tuple[Any, ...]]:
        """A query's rows as plain tuples, one at a time: no dict per row, for the loops
        that visit every row of the register."""
        cursor = self._conn.cursor()
        cursor.row_factory = None
        yield from cursor.execute(sql, params)

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

    def insert(self, table: str, values: Mapping[str, Any]) -> int:
        """Insert one row; returns its rowid."""
        columns = ", ".join(values)
        marks = ", ".join(f":{column}" for column in values)
        cursor = self._conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)
        return cursor.lastrowid or 0

    def insert_many(self, table: str, columns: Sequence[str],
                    rows: Iterable[Sequence[Any]]) -> None:
        """Insert many rows given as value sequences in `columns` order, in one statement."""
        marks = ", ".join("?" for _ in columns)
        self._conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def update(self, table: str, key: Mapping[str, Any], values: Mapping[str, Any]) -> int:
        """Update the rows matching every `key` column; returns how many changed."""
        assignments = ", ".join(f"{column} = :set_{column}" for column in values)
        conditions = " AND ".join(f"{column} = :key_{column}" for column in key)
        params = {f"set_{c}": v for c, v in values.items()}
        params |= {f"key_{c}": v for c, v in key.items()}
        cursor = self._conn.execute(f"UPDATE {table} SET {assignments} WHERE {conditions}", params)
        return cursor.rowcount

    def delete(self, table: str, key: Mapping[str, Any]) -> int:
        """Delete the rows matching every `key` column; returns how many went."""
        conditions = " AND ".join(f"{column} = :{column}" for column in key)
        return self._conn.execute(f"DELETE FROM {table} WHERE {conditions}", key).rowcount

    def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement of a named query (an UPDATE with conditions...); returns how
        many rows it changed."""
        return self._conn.execute(sql, params).rowcount

    def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement of a named query once per parameter set."""
        self._conn.executemany(sql, rows)

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
        self._conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """A connection to the file: read-only (nothing is ever written through it), or for
    writing in WAL mode with foreign keys on."""
    try:
        if read_only:
            uri = f"{path.resolve().as_uri()}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, isolation_level=None,
                                   timeout=BUSY_TIMEOUT_MS / 1000)
        else:
            # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, because Python's
            # implicit deferred BEGIN can fail with SQLITE_BUSY when two writers read then write.
            conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.row_factory = _dict_row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        # The change tracking of row seals (accessgov.db.seals) lives in temp tables: memory.
        conn.execute("PRAGMA temp_store = MEMORY")
        if not read_only and conn.execute("PRAGMA journal_mode").fetchone()[
                "journal_mode"] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
    except sqlite3.DatabaseError as error:
        raise InputError(f"{path} is not a usable accessgov register ({error})") from None
    return conn


def _migrated_copy(conn: sqlite3.Connection, version: int) -> sqlite3.Connection:
    """An in-memory copy of an older register, brought up to date: what a read command
    reads, so that it neither writes to the file nor misses what this accessgov expects."""
    copy = sqlite3.connect(":memory:", isolation_level=None)
    conn.backup(copy)
    copy.row_factory = _dict_row
    copy.execute("BEGIN")
    apply_migrations(copy, version, LATEST_VERSION)
    copy.execute("COMMIT")
    return copy


def _make_private_folder(folder: Path) -> None:
    """Create `folder` (and parents) so that a folder we make is 0700 from the start."""
    if folder.is_dir():
        return
    old_umask = os.umask(0o077)
    try:
        folder.mkdir(parents=True, mode=0o700)
    except OSError as error:
        raise InputError(f"cannot create the folder {folder}: {error.strerror}") from None
    finally:
        os.umask(old_umask)


def _busy_or(error: sqlite3.OperationalError) -> AccessGovError:
    if "locked" in str(error) or "busy" in str(error):
        return RegisterBusy(
            "the register is busy: another accessgov command is writing to it; try again"
        )
    return InputError(f"the register could not be written: {error}")
