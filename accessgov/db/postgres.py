"""The shared register: PostgreSQL, for several administrators on their own machines.

psycopg 3 talks to the server, loaded only when a register on PostgreSQL is opened. The same
named queries run here as on SQLite: their `?` and `:name` placeholders become psycopg's, and
the few fragments that differ come from `PostgresDialect`.

Changes from several machines serialise on the audit chain's head: every write transaction
takes one advisory lock first (held until it ends), so the chain stays one chain and no change
is lost; waiting for it is bounded, and a register busy for longer answers with a plain line
(exit 4). Which rows a change wrote is noted by triggers that the schema's owner created with
the tables (accessgov.db.migrations_postgres), into temporary tables of the change's own
session.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from accessgov.db.register import DatabaseUrl, Dialect, Params, Register, Row
from accessgov.errors import AccessGovError, BackendUnavailable, InputError, RegisterBusy

if TYPE_CHECKING:
    import psycopg

    from accessgov.db.libpq import QuickReader

# How long a change waits for another machine's change to finish before it gives up.
LOCK_TIMEOUT_SECONDS = 10
CONNECT_TIMEOUT_SECONDS = 10
# The advisory lock every write transaction of a register takes: one per schema.
_LOCK_NAMESPACE = "accessgov register"


class PostgresDialect(Dialect):
    """PostgreSQL's spelling of the fragments that differ."""

    name = "postgresql"
    rowref = "ctid"

    def rowref_is(self) -> str:
        return "ctid = ?::tid"

    def as_text(self, expr: str) -> str:
        return f"{expr}::text"

    def json_items(self, expr: str, alias: str) -> str:
        return (f"LATERAL (SELECT x.value, x.n - 1 AS key FROM jsonb_array_elements_text("
                f"({expr})::jsonb) WITH ORDINALITY AS x(value, n)) {alias}")

    def json_text(self, expr: str, key: str) -> str:
        return f"(({expr})::jsonb ->> '{key}')"

    def json_pair_items(self, param: str, alias: str) -> str:
        return (f"(SELECT value ->> 0 AS first, value ->> 1 AS second FROM "
                f"jsonb_array_elements(({param})::jsonb)) {alias}")

    def joined(self, expr: str, separator: str = ",", *, distinct: bool = False) -> str:
        return f"string_agg({'DISTINCT ' if distinct else ''}({expr})::text, '{separator}')"

    def json_array(self, expr: str) -> str:
        return f"COALESCE(json_agg({expr}), '[]'::json)::text"


def shown_url(url: str) -> str:
    """The connection string with any password taken out (it may be shown and logged)."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1@", re.sub(r"password=\S+", "password=...", url))


def _pieces(sql: str) -> Iterator[tuple[str, str]]:
    """The statement as ("sql", text) pieces and its placeholders: ("?", "") for a `?`,
    (":", name) for a `:name`; string literals, quoted names and `::` casts are text."""
    i, n = 0, len(sql)
    while i < n:
        char = sql[i]
        if char in "'\"":
            end = sql.index(char, i + 1) if char in sql[i + 1:] else n - 1
            yield "sql", sql[i:end + 1]
            i = end + 1
        elif char == "?":
            yield "?", ""
            i += 1
        elif char == ":" and i + 1 < n and sql[i + 1] == ":":
            yield "sql", "::"
            i += 2
        elif char == ":" and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_"):
            match = re.match(r"[A-Za-z_][A-Za-z0-9_]*", sql[i + 1:])
            assert match is not None
            yield ":", match.group()
            i += 1 + match.end()
        else:
            yield "sql", char
            i += 1


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """`?` and `:name` placeholders as psycopg's `%s` and `%(name)s`, and every `%` doubled;
    string literals, quoted names and `::` casts are left as they are."""
    return "".join(text.replace("%", "%%") if kind == "sql" else
                   "%s" if kind == "?" else f"%({text})s" for kind, text in _pieces(sql))


@functools.lru_cache(maxsize=1024)
def numbered(sql: str) -> tuple[str, tuple[int | str, ...]]:
    """The statement with libpq's own `$1`, `$2`... placeholders, and what each one takes:
    the position of a `?` among the parameters, or the name of a `:name` (once, however
    often the statement uses it)."""
    out: list[str] = []
    takes: list[int | str] = []
    positional = 0
    for kind, text in _pieces(sql):
        if kind == "sql":
            out.append(text)
            continue
        if kind == "?":
            takes.append(positional)
            positional += 1
        elif text in takes:  # a name used twice is one parameter, as psycopg sends it
            out.append(f"${takes.index(text) + 1}")
            continue
        else:
            takes.append(text)
        out.append(f"${len(takes)}")
    return "".join(out), tuple(takes)


class PostgresRegister(Register):
    """A register in a PostgreSQL database (or schema: the connection's search_path)."""

    dialect = PostgresDialect()
    parallel_reads = True

    def __init__(self, location: DatabaseUrl, conn: psycopg.Connection[Any] | None,
                 quick: QuickReader | None = None) -> None:
        super().__init__(location)
        self._psycopg = conn
        # Reads a few rows without loading psycopg, until something needs psycopg itself.
        self._quick = quick
        self._in_transaction = False
        self._made_tables = False

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def create(cls, location: DatabaseUrl) -> PostgresRegister:  # type: ignore[override]
        """A new register in a database that holds none yet: its tables are made, or were
        made by the database's owner beforehand with `prepare` ('accessgov db setup'), so
        that an operator's own login, which may make no table, can start the register."""
        register = cls(location, _connect(location))
        try:
            if register.is_started():
                raise InputError(f"the database {location} already holds a register")
            register._made_tables = "settings" not in register.table_names()
            register.migrate()
        except BaseException:
            register.close()
            raise
        return register

    @classmethod
    def prepare(cls, location: DatabaseUrl) -> PostgresRegister:
        """The register's tables in that database, made or brought up to date (by the
        database's owner), whether or not a register was started in them yet."""
        register = cls(location, _connect(location))
        try:
            register.migrate()
        except BaseException:
            register.close()
            raise
        return register

    def is_started(self) -> bool:
        """Whether a register was started (by init) in these tables."""
        return "settings" in self.table_names() and self.value(
            "SELECT COUNT(*) FROM settings WHERE key = 'org_slug'") == 1

    @classmethod
    def open(cls, location: DatabaseUrl) -> PostgresRegister:  # type: ignore[override]
        """The register in that database; one that is not a register, or is from a newer
        accessgov, is refused."""
        from accessgov.db.migrations_postgres import LATEST_VERSION

        quick = _quick_reader(location)
        register = cls(location, None, quick) if quick else cls(location, _connect(location))
        try:
            if not register.is_started():
                raise InputError(
                    f"there is no register in the database {location}; run 'accessgov init "
                    "--org NAME --database ...' first (or point --database / "
                    "ACCESSGOV_DATABASE_URL at your register)")
            version = register.check_schema(LATEST_VERSION)
            if version < LATEST_VERSION:
                register.upgrade_pending = version
        except BaseException:
            register.close()
            raise
        return register

    @classmethod
    def holds_register(cls, location: DatabaseUrl) -> bool:
        """Whether the database holds a register."""
        register = cls(location, _connect(location))
        try:
            return register.is_started()
        finally:
            register.close()

    def reopen(self) -> PostgresRegister:
        """The same register on a connection of its own."""
        return PostgresRegister(self.path, _connect(self.path))  # type: ignore[arg-type]

    def close(self) -> None:
        """Close the connection."""
        self._stop_quick_reads()
        if self._psycopg is not None:
            self._psycopg.close()

    def _reader(self) -> PostgresRegister | None:
        # A change's own writes and a snapshot's moment are this session's alone (the quick
        # reader never opens a transaction); an older schema is read as it is migrated.
        if self.upgrade_pending is not None:
            return None
        if self._psycopg is not None:
            from psycopg import pq  # loaded with the connection

            if self._psycopg.info.transaction_status != pq.TransactionStatus.IDLE:
                return None
        return self.reopen()

    @property
    def _conn(self) -> psycopg.Connection[Any]:
        """psycopg's connection, made on first need; from then on it does all the work, so a
        command's statements after that share one session."""
        if self._psycopg is None:
            self._psycopg = _connect(self.path)  # type: ignore[arg-type]
            self._stop_quick_reads()
        return self._psycopg

    def _stop_quick_reads(self) -> None:
        if self._quick is not None:
            self._quick.close()
            self._quick = None

    def discard(self) -> None:
        """Drop the tables (and their trigger functions) of a register this process has just
        created in the database; tables the owner prepared stay, as empty as they were (the
        failed start was one transaction)."""
        if not self._made_tables:
            self.close()
            return
        with contextlib.suppress(Exception):
            for table in self.table_names():
                self._run(f"DROP TABLE IF EXISTS {table} CASCADE")
            self._run("DO $$ DECLARE f record; BEGIN FOR f IN SELECT p.oid::regprocedure AS "
                      "name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                      "WHERE n.nspname = current_schema() AND p.proname LIKE 'accessgov%' "
                      "LOOP EXECUTE 'DROP FUNCTION ' || f.name; END LOOP; END $$")
        self.close()

    # -- schema ----------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        """The latest migration the register records."""
        if "schema_history" not in self.table_names():
            return 0
        return int(self.value("SELECT COALESCE(MAX(version), 0) FROM schema_history"))

    def table_names(self) -> set[str]:
        """The tables of the connection's schema."""
        return {row["table_name"] for row in self.rows(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")}

    def _table_columns(self, table: str) -> list[str]:
        return [row["column_name"] for row in self.rows(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = ? ORDER BY ordinal_position", (table,))]

    def migrate(self) -> None:
        """Bring the schema up to date in place, in one transaction."""
        from accessgov.db.migrations_postgres import LATEST_VERSION, apply_migrations

        with self.transaction():
            current = self.schema_version
            if current < LATEST_VERSION:
                apply_migrations(self, current, LATEST_VERSION)
                self._columns.clear()
        self.upgrade_pending = None

    # -- who may write ------------------------------------------------------------------------

    def set_up_operators_role(self, role: str) -> None:
        """Create (if need be) the group role operators log in through, and give it what the
        program writes and nothing more: rows of every table, but the audit log only read
        and appended to (never updated, deleted or emptied), no tables made or dropped, no
        triggers disabled (only the tables' owner may). Run by the tables' owner."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
            raise InputError(f"'{role}' is not a role name accessgov makes (lower-case letters, "
                             "digits and _, starting with a letter)")
        with self.transaction():
            exists = self.value("SELECT 1 FROM pg_roles WHERE rolname = ?", (role,))
            if not exists:
                self._run(f"CREATE ROLE {role} NOLOGIN")
            self._run(f"GRANT USAGE ON SCHEMA {self._schema()} TO {role}")
            self._run(f"GRANT TEMPORARY ON DATABASE {self._database()} TO {role}")
            self._run(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "
                      f"{self._schema()} TO {role}")
            self._run(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM {role}")
            self._run(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {self._schema()} "
                      f"TO {role}")

    def _schema(self) -> str:
        return str(self.value("SELECT quote_ident(current_schema())"))

    def _database(self) -> str:
        return str(self.value("SELECT quote_ident(current_database())"))

    # -- transactions ----------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Register]:
        """One write transaction that first takes the register's lock (see the module
        docstring); waiting for it is bounded."""
        if self.upgrade_pending is not None and not self._in_transaction:
            self.migrate()
        self._run("BEGIN")
        self._in_transaction = True
        try:
            self._run(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_SECONDS}s'")
            self._lock()
            yield self
        except BaseException:
            self._rolled_back()
            raise
        self._in_transaction = False
        try:
            self._run("COMMIT")
        except AccessGovError:
            self._rolled_back()
            raise

    def _rolled_back(self) -> None:
        self._in_transaction = False
        with contextlib.suppress(Exception):
            self._run("ROLLBACK")
        # Temporary tables made inside the transaction went with it: make them again.
        self.__dict__.pop("_tracking", None)

    def _lock(self) -> None:
        # One lock per schema: two registers in one database do not wait for each other.
        self._run("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ?))",
                  (f" {_LOCK_NAMESPACE}",))

    @contextlib.contextmanager
    def savepoint(self, name: str = "work") -> Iterator[None]:
        self._run(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self._run(f"ROLLBACK TO SAVEPOINT {name}")
            self._run(f"RELEASE SAVEPOINT {name}")
            raise
        self._run(f"RELEASE SAVEPOINT {name}")

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        self._run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            yield
        finally:
            self._run("COMMIT")

    def prepare_bulk_writes(self, cache_kib: int) -> None:
        self._run("SET CONSTRAINTS ALL DEFERRED")

    def start_tracking(self, sealed: Mapping[str, Sequence[str]],
                       counted: Mapping[str, tuple[str, str]]) -> None:
        """The tables' triggers (made with the schema) write into these temporary tables of
        this session; without them, a write is refused by the trigger itself."""
        if self.__dict__.get("_tracking"):
            return
        self._run("CREATE TEMP TABLE IF NOT EXISTS touched (n bigserial PRIMARY KEY, "
                  "tbl text NOT NULL, pk text NOT NULL, how text NOT NULL)")
        self._run("CREATE INDEX IF NOT EXISTS touched_row ON touched (tbl, pk)")
        self._run("CREATE TEMP TABLE IF NOT EXISTS counted "
                  "(tbl text NOT NULL, parent text NOT NULL, how text NOT NULL)")
        self.__dict__["_tracking"] = True

    # -- reads and writes --------------------------------------------------------------------

    def rows(self, sql: str, params: Params = ()) -> list[Row]:
        quick = self._quick_rows(sql, params)
        if quick is not None:
            return quick
        found: list[Row] = self._cursor(sql, params, dicts=True).fetchall()
        return found

    def row(self, sql: str, params: Params = ()) -> Row | None:
        quick = self._quick_rows(sql, params)
        if quick is not None:
            return quick[0] if quick else None
        found: Row | None = self._cursor(sql, params, dicts=True).fetchone()
        return found

    def _quick_rows(self, sql: str, params: Params) -> list[Row] | None:
        """The rows read by the quick reader, or None: it has handed the statement back, and
        psycopg reads this one and every later one."""
        if self._quick is None:
            return None
        found = self._quick.rows(*numbered(sql), params or ())
        if found is None:
            self._stop_quick_reads()
        return found

    def stream(self, sql: str, params: Params = ()) -> Iterator[Row]:
        yield from _batches(self._cursor(sql, params, dicts=True))

    def tuples(self, sql: str, params: Params = ()) -> Iterator[tuple[Any, ...]]:
        yield from _batches(self._cursor(sql, params, dicts=False))

    def execute(self, sql: str, params: Params = ()) -> int:
        return int(self._cursor(sql, params, dicts=False).rowcount)

    def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        with self._errors(), self._conn.cursor() as cursor:
            cursor.executemany(translate(sql), list(rows))

    def _run(self, sql: str, params: Params = ()) -> None:
        self._cursor(sql, params, dicts=False)

    def _cursor(self, sql: str, params: Params, *, dicts: bool) -> Any:
        from psycopg.rows import dict_row, tuple_row

        cursor = self._conn.cursor(row_factory=dict_row if dicts else tuple_row)
        with self._errors():
            cursor.execute(translate(sql), params or ())
        return cursor

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        import psycopg

        try:
            yield
        except psycopg.errors.LockNotAvailable:
            raise RegisterBusy("the register is busy: another accessgov command is writing to "
                               "it; try again") from None
        except psycopg.OperationalError as error:
            raise BackendUnavailable(f"the register's database {self.path} cannot be "
                                     f"reached ({_first_line(error)})") from None


def _batches(cursor: Any) -> Iterator[Any]:
    """A cursor's rows, made into Python values a batch at a time: psycopg's C code loads a
    batch in one call, where stepping the cursor costs a Python call per row (a review's
    export reads 90,000)."""
    while batch := cursor.fetchmany(2000):
        yield from batch


def _quick_reader(location: DatabaseUrl) -> QuickReader | None:
    """A reader that needs no psycopg, connected as `_connect` connects; None where it cannot
    be had (set ACCESSGOV_PSYCOPG_ONLY to go without it)."""
    if os.environ.get("ACCESSGOV_PSYCOPG_ONLY"):
        return None
    from accessgov.db.libpq import QuickReader

    return QuickReader.connect(location.url, timeout=CONNECT_TIMEOUT_SECONDS,
                               application="accessgov")


def _connect(location: DatabaseUrl) -> psycopg.Connection[Any]:
    import psycopg

    try:
        return psycopg.connect(location.url, autocommit=True,
                               connect_timeout=CONNECT_TIMEOUT_SECONDS,
                               application_name="accessgov")
    except psycopg.OperationalError as error:
        raise BackendUnavailable(f"the register's database {location} cannot be reached "
                                 f"({_first_line(error)})") from None
    except psycopg.ProgrammingError as error:
        raise InputError(f"{shown_url(location.url)} is not a usable database address "
                         f"({_first_line(error)})") from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return shown_url(text[0]) if text else type(error).__name__
