"""The embedded register: one SQLite file, on one local disk.

It owns the connection, the transaction discipline (one `BEGIN IMMEDIATE` per command, which
takes SQLite's only write lock, so changes serialise on the chain head by themselves), the
secure creation of the file and forward migrations. Queries are plain `sqlite3`: read commands
must start fast, and sqlite-utils (85-185 ms to import) is loaded only to migrate or import.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from accessgov.db.migrations import LATEST_VERSION, apply_migrations
from accessgov.db.register import Params, Register, Row
from accessgov.errors import AccessGovError, InputError, RegisterBusy

if TYPE_CHECKING:
    from pathlib import Path

# A register's file is named by a Path, or by a plain string where a read command opened it
# (no pathlib at start-up).
FilePath = str | os.PathLike[str]

BUSY_TIMEOUT_MS = 5000


def _dict_row(cursor: sqlite3.Cursor, row: Sequence[Any]) -> Row:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


class SqliteRegister(Register):
    """An open register file.

    An opened register reads through a read-only connection: a read command never writes to
    the file (no migration, no switch of journal mode). The first `transaction()` reconnects
    for writing, in WAL mode, and brings an older schema up to date then.
    """

    def __init__(self, path: FilePath, conn: sqlite3.Connection, *,
                 writable: bool = True) -> None:
        super().__init__(os.fspath(path))
        self.path: str = os.fspath(path)
        self._conn = conn
        self.writable = writable

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def create(cls, path: Path) -> SqliteRegister:  # type: ignore[override]
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
    def open(cls, path: FilePath) -> SqliteRegister:  # type: ignore[override]
        """The existing register at `path`, for reading until its first transaction.

        A file that is not an accessgov register is refused, and so is one from a newer
        accessgov. One from an older accessgov is read through an up-to-date copy in memory;
        the file itself is brought up to date by the first change.
        """
        if not os.path.isfile(path):
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

    def reopen(self) -> SqliteRegister:
        """The same register on a connection of its own (for a second process or thread)."""
        return SqliteRegister(self.path, _connect(self.path))

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def _reader(self) -> SqliteRegister | None:
        # A change's own writes, and a register read through its up-to-date copy in memory,
        # are seen on this connection only.
        if self.upgrade_pending is not None or self._conn.in_transaction:
            return None
        return SqliteRegister(self.path, _connect(self.path, read_only=True, any_thread=True),
                              writable=False)

    def discard(self) -> None:
        """Remove the file (and its WAL) of a register this process has just created."""
        self.close()
        for leftover in (self.path, f"{self.path}-wal", f"{self.path}-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)

    # -- schema ----------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        """The schema version recorded in the file (SQLite's user_version)."""
        version: int = self._conn.execute("PRAGMA user_version").fetchone()["user_version"]
        return version

    def table_names(self) -> set[str]:
        """The tables of the file."""
        return {row["name"] for row in self.rows(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}

    def _schema_facts(self) -> tuple[int, set[str]]:
        try:
            return self.schema_version, self.table_names()
        except sqlite3.DatabaseError as error:
            raise InputError(f"{self.path} is not a usable accessgov register ({error})") \
                from None

    def check_schema(self, latest: int = LATEST_VERSION) -> int:
        """The file's schema version, once it is known to be an accessgov register that this
        accessgov can read (InputError otherwise)."""
        return super().check_schema(latest)

    def _table_columns(self, table: str) -> list[str]:
        return [column["name"] for column in
                self._conn.execute(f"PRAGMA table_info({table})").fetchall()]

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
            self._rolled_back()
            raise
        try:
            self._conn.execute("COMMIT")
        except sqlite3.OperationalError as error:
            self._rolled_back()
            raise _busy_or(error) from None

    def _rolled_back(self) -> None:
        self._conn.rollback()
        # Temporary tables made inside the transaction went with it: make them again.
        self.__dict__.pop("_tracking", None)

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

    # -- writes ------------------------------------------------------------------------------

    def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement of a named query (an UPDATE with conditions...); returns how
        many rows it changed."""
        return self._conn.execute(sql, params).rowcount

    def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement of a named query once per parameter set."""
        self._conn.executemany(sql, rows)

    # -- noting what a change writes -------------------------------------------------------

    def start_tracking(self, sealed: Mapping[str, Sequence[str]],
                       counted: Mapping[str, tuple[str, str]]) -> None:
        """Temporary triggers on this connection note every write (see `Register`)."""
        if self.__dict__.get("_tracking"):
            return
        self.execute("CREATE TEMP TABLE IF NOT EXISTS touched (n INTEGER PRIMARY KEY, "
                     "tbl TEXT NOT NULL, pk TEXT NOT NULL, how TEXT NOT NULL)")
        self.execute("CREATE INDEX IF NOT EXISTS temp.touched_row ON touched (tbl, pk)")
        for table, keys in sealed.items():
            # Writing the seal itself is not a change to note (sealing does it for them all).
            written = ", ".join(f'"{name}"' for name in self.columns(table)
                                if name not in ("seal", "sealed_seq"))
            new, old = (" || char(9) || ".join(f"{ref}.{column}" for column in keys)
                        for ref in ("NEW", "OLD"))
            note = f"INSERT INTO touched (tbl, pk, how) VALUES ('{table}', {{}}, '{{}}');"
            # An update that changes key columns leaves the old key behind: noted too.
            for event, what, notes in (
                    ("insert", "INSERT", note.format(new, "INSERT")),
                    ("update", f"UPDATE OF {written}",
                     note.format(new, "UPDATE") + f" INSERT INTO touched (tbl, pk, how) SELECT "
                     f"'{table}', {old}, 'UPDATE' WHERE ({old}) IS NOT ({new});"),
                    ("delete", "DELETE", note.format(old, "DELETE"))):
                self.execute(f"CREATE TEMP TRIGGER IF NOT EXISTS touched_{table}_{event} "
                             f"AFTER {what} ON main.{table} BEGIN {notes} END")
        self.execute("CREATE TEMP TABLE IF NOT EXISTS counted "
                     "(tbl TEXT NOT NULL, parent TEXT NOT NULL, how TEXT NOT NULL)")
        for child, (parent, column) in counted.items():
            # Only moving a child to another parent changes counts: sealing a child (an
            # import seals 100,000 approvals) must not note its parent twice over.
            for event, refs in (("INSERT", ("NEW",)), ("UPDATE", ("NEW", "OLD")),
                                ("DELETE", ("OLD",))):
                values = " ".join(f"INSERT INTO counted (tbl, parent, how) VALUES "
                                  f"('{parent}', {ref}.{column}, '{event}');" for ref in refs)
                what = f"UPDATE OF {column}" if event == "UPDATE" else event
                self.execute(
                    f"CREATE TEMP TRIGGER IF NOT EXISTS counted_{child}_{event.lower()} "
                    f"AFTER {what} ON main.{child} BEGIN {values} END")
        self.__dict__["_tracking"] = True

    # -- a copy -----------------------------------------------------------------------------

    def backup_to(self, target: Path) -> None:
        """A consistent copy of the register at `target` (SQLite's online backup)."""
        copy = sqlite3.connect(target)
        try:
            self._conn.backup(copy)
            # A single file: a copy in WAL mode would grow side files wherever it is read.
            copy.execute("PRAGMA journal_mode = DELETE")
        finally:
            copy.close()


def _connect(path: FilePath, *, read_only: bool = False,
             any_thread: bool = False) -> sqlite3.Connection:
    """A connection to the file: read-only (nothing is ever written through it), or for
    writing in WAL mode with foreign keys on. `any_thread`: a read-only connection opened in
    one thread and read in another (one thread at a time)."""
    try:
        if read_only:
            uri = f"{_file_uri(path)}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, isolation_level=None,
                                   timeout=BUSY_TIMEOUT_MS / 1000,
                                   check_same_thread=not any_thread)
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


def _file_uri(path: FilePath) -> str:
    """SQLite's `file:` URI of a path: absolute, with the three characters a URI gives a
    meaning to escaped (SQLite decodes %XX escapes; ? starts the options, # a fragment)."""
    absolute = os.path.realpath(path)
    for char, escape in (("%", "%25"), ("?", "%3f"), ("#", "%23")):
        absolute = absolute.replace(char, escape)
    return f"file:{absolute}"


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
