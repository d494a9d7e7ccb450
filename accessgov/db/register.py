"""The Register: one SQLite file holding people, accounts, grants, approvals and the audit log.

It owns the connection, the transaction discipline (one `BEGIN IMMEDIATE` per command), the
secure creation of the file and forward migrations. Queries are plain `sqlite3`: read commands
must start fast, and sqlite-utils (85-185 ms to import) is loaded only to migrate or import.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from accessgov.db.migrations import LATEST_VERSION, apply_migrations
from accessgov.errors import AccessGovError, InputError, RegisterBusy

BUSY_TIMEOUT_MS = 5000

Row = dict[str, Any]


def default_path(env: Mapping[str, str]) -> Path:
    """`ACCESSGOV_DB`, else `register.db` in the platform's per-user data folder."""
    if env.get("ACCESSGOV_DB"):
        return Path(env["ACCESSGOV_DB"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("accessgov", appauthor=False)) / "register.db"


def _dict_row(cursor: sqlite3.Cursor, row: Sequence[Any]) -> Row:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


class Register:
    """An open register file. Create with `Register.create`, open with `Register.open`."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn

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
        register = cls._connect(path)
        register.migrate()
        return register

    @classmethod
    def open(cls, path: Path) -> Register:
        """The existing register at `path`, migrated forward if an older accessgov made it."""
        if not path.is_file():
            raise InputError(
                f"there is no register at {path}; run 'accessgov init --org NAME' first "
                "(or point --db / ACCESSGOV_DB at your register)"
            )
        register = cls._connect(path)
        register.migrate()
        return register

    @classmethod
    def _connect(cls, path: Path) -> Register:
        try:
            # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, because Python's implicit
            # deferred BEGIN can fail with SQLITE_BUSY when two writers read then write.
            conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
            conn.row_factory = _dict_row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            if conn.execute("PRAGMA journal_mode").fetchone()["journal_mode"] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.DatabaseError as error:
            raise InputError(f"{path} is not a usable accessgov register ({error})") from None
        return cls(path, conn)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    # -- schema ----------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        """The schema version recorded in the file (SQLite's user_version)."""
        version: int = self.conn.execute("PRAGMA user_version").fetchone()["user_version"]
        return version

    def migrate(self) -> None:
        """Bring the schema up to LATEST_VERSION in place; refuse files from a newer accessgov."""
        version = self.schema_version
        if version == LATEST_VERSION:
            return
        if version > LATEST_VERSION:
            raise InputError(
                f"the register at {self.path} was written by a newer accessgov "
                f"(schema {version}); upgrade accessgov to use it"
            )
        with self.transaction():
            apply_migrations(self.conn, version, LATEST_VERSION)

    # -- transactions ----------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Register]:
        """One write transaction: BEGIN IMMEDIATE takes the write lock up front, so two
        writers queue on the busy timeout instead of failing half-way."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise _busy_or(error) from None
        try:
            yield self
        except BaseException:
            self.conn.rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.OperationalError as error:
            self.conn.rollback()
            raise _busy_or(error) from None

    @contextlib.contextmanager
    def savepoint(self, name: str = "work") -> Iterator[None]:
        """Inside a transaction: undo just this part if it fails, keeping the write lock (so a
        refused attempt can be recorded before anyone else writes)."""
        self.conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.conn.execute(f"ROLLBACK TO {name}")
            self.conn.execute(f"RELEASE {name}")
            raise
        self.conn.execute(f"RELEASE {name}")

    # -- queries ----------------------------------------------------------------------------

    def rows(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Row]:
        """All rows of a query, as dicts."""
        return self.conn.execute(sql, params).fetchall()

    def row(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Row | None:
        """The first row of a query, or None."""
        found: Row | None = self.conn.execute(sql, params).fetchone()
        return found

    def value(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
        """The first column of the first row, or None."""
        found = self.conn.execute(sql, params).fetchone()
        return None if found is None else next(iter(found.values()))

    def insert(self, table: str, values: Mapping[str, Any]) -> int:
        """Insert one row; returns its rowid."""
        columns = ", ".join(values)
        marks = ", ".join(f":{column}" for column in values)
        cursor = self.conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)
        return cursor.lastrowid or 0

    def update(self, table: str, key: Mapping[str, Any], values: Mapping[str, Any]) -> int:
        """Update the rows matching every `key` column; returns how many changed."""
        assignments = ", ".join(f"{column} = :set_{column}" for column in values)
        conditions = " AND ".join(f"{column} = :key_{column}" for column in key)
        params = {f"set_{c}": v for c, v in values.items()}
        params |= {f"key_{c}": v for c, v in key.items()}
        cursor = self.conn.execute(f"UPDATE {table} SET {assignments} WHERE {conditions}", params)
        return cursor.rowcount

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
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


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
