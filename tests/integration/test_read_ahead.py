"""Reading ahead (accessgov.db.ahead): a review's export asks for its items on a connection
of their own before it runs the policy checks, so the database reads them meanwhile. The
rows must be the ones the register's own connection would give, errors must reach the user
as they would have, no connection or thread may be left behind, and inside a change (whose
writes only its own connection sees) nothing is read ahead. On both engines, each on a real
database: a file, and the suite's PostgreSQL server.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from accessgov.db.ahead import ReadAhead, ReadNow
from accessgov.db.register import DatabaseUrl, Register
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.integration

NUMBERS = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :last) "
           "SELECT i, 'row ' || i AS label FROM n ORDER BY i")


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Path | DatabaseUrl:
    if request.param == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        return DatabaseUrl(server.new_database())
    return tmp_path / "data" / "register.db"


@pytest.fixture
def writer(location: Path | DatabaseUrl) -> Iterator[Register]:
    """The register as `init` made it, writable, with a scratch table of numbers."""
    created = Register.create(location)
    created.start_tracking({}, {})  # PostgreSQL's triggers note every write to settings
    created.execute("INSERT INTO settings (key, value) VALUES ('org_slug', 'test')")
    created.execute("CREATE TABLE scratch (n integer)")
    created.execute("INSERT INTO scratch VALUES (1)")
    try:
        yield created
    finally:
        created.close()


@pytest.fixture
def register(writer: Register) -> Iterator[Register]:
    """The register as a read command opens it (on PostgreSQL, through the quick reader)."""
    opened = Register.open(writer.path)
    try:
        yield opened
    finally:
        opened.close()


def read_ahead_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "accessgov-read-ahead"]


def connections_of(register: Register) -> int:
    """How many sessions are connected to the register's database (0 for a file)."""
    if not isinstance(register.path, DatabaseUrl):
        return 0
    with psycopg.connect(register.path.url, autocommit=True) as pg:
        found = pg.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                           "current_database() AND pid != pg_backend_pid()").fetchone()
    assert found is not None
    return int(found[0])


def assert_connections_back_to(register: Register, before: int) -> None:
    """A closed session leaves pg_stat_activity when its server process has ended, which
    PostgreSQL does just after the client goes: wait for it, a bounded while."""
    deadline = time.monotonic() + 10
    while (now := connections_of(register)) != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert now == before, "the read-ahead's connection was left open"


def test_rows_read_ahead_are_the_rows_read_on_the_registers_own_connection(
        register: Register) -> None:
    ahead = register.tuples_ahead([(NUMBERS, {"last": 5000})])
    assert isinstance(ahead, ReadAhead)
    assert list(ahead) == list(register.tuples(NUMBERS, {"last": 5000}))
    assert list(register.tuples_ahead([(NUMBERS + " LIMIT 0", {"last": 3})])) == []


def test_several_queries_read_at_once_come_back_one_after_another(register: Register) -> None:
    """Each on a connection of its own (a large review's two halves): in the order asked."""
    halves = [(NUMBERS.replace("ORDER BY i", "WHERE i <= :half ORDER BY i"),
               {"last": 3000, "half": 1500}),
              (NUMBERS.replace("ORDER BY i", "WHERE i > :half ORDER BY i"),
               {"last": 3000, "half": 1500})]
    ahead = register.tuples_ahead(halves)
    assert isinstance(ahead, ReadAhead) and len(ahead._parts) == 2
    assert list(ahead) == list(register.tuples(NUMBERS, {"last": 3000}))
    with register.transaction():
        assert list(register.tuples_ahead(halves)) == list(register.tuples(NUMBERS,
                                                                           {"last": 3000}))


def test_a_failure_in_a_later_query_is_raised_after_the_earlier_rows(
        register: Register) -> None:
    before = connections_of(register)
    ahead = register.tuples_ahead([(NUMBERS, {"last": 2}),
                                   ("SELECT no_such_column FROM settings", ())])
    read = []
    with pytest.raises(Exception, match="no_such_column"):
        for row in ahead:
            read.append(row)
    assert read == [(1, "row 1"), (2, "row 2")]
    assert not read_ahead_threads()
    assert_connections_back_to(register, before)


def test_the_rows_are_asked_for_when_read_ahead_not_when_iterated(
        register: Register, writer: Register) -> None:
    """A row written after the export began is not among its items: the query ran first."""
    ahead = register.tuples_ahead([("SELECT n FROM scratch ORDER BY n", ())])
    assert isinstance(ahead, ReadAhead)
    ahead._parts[0]._thread.join()  # the query has run
    writer.execute("INSERT INTO scratch VALUES (2)")
    assert list(ahead) == [(1,)]
    assert list(register.tuples_ahead([("SELECT n FROM scratch ORDER BY n", ())])) == [(1,), (2,)]


def test_inside_a_change_the_rows_are_read_on_its_own_connection(writer: Register) -> None:
    """Another connection would not see the change's own writes: nothing is read ahead."""
    with writer.transaction():
        writer.execute("CREATE TEMP TABLE mine (n integer)")
        writer.execute("INSERT INTO mine VALUES (7)")
        ahead = writer.tuples_ahead([("SELECT n FROM mine", ())])
        assert isinstance(ahead, ReadNow)
        assert list(ahead) == [(7,)]
        assert not read_ahead_threads()


def test_where_the_server_allows_no_more_connections_the_rows_are_read_on_the_registers_own(
        postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A managed PostgreSQL may cap an operator's connections: reading ahead only saves time,
    so when the second half's connection is refused, both halves are read on the register's
    own connection, and the one already made is let go."""
    url = postgres_server.new_database()
    location = DatabaseUrl(url)
    created = Register.create(location)
    created.start_tracking({}, {})
    created.execute("INSERT INTO settings (key, value) VALUES ('org_slug', 'test')")
    created.close()
    role = f"capped_{secrets.token_hex(4)}"
    postgres_server.sql(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 2")
    postgres_server.sql(f"GRANT pg_read_all_data TO {role}")
    monkeypatch.setenv("ACCESSGOV_PSYCOPG_ONLY", "1")  # its own is one connection, throughout
    database = url.split("/")[3].split("?")[0]
    register = Register.open(DatabaseUrl(postgres_server.url(database, role)))
    try:
        halves = [(NUMBERS.replace("ORDER BY i", "WHERE i <= 5 ORDER BY i"), {"last": 9}),
                  (NUMBERS.replace("ORDER BY i", "WHERE i > 5 ORDER BY i"), {"last": 9})]
        ahead = register.tuples_ahead(halves)
        assert isinstance(ahead, ReadNow)
        assert list(ahead) == list(register.tuples(NUMBERS, {"last": 9}))
        assert_connections_back_to(register, 1)
    finally:
        register.close()


def test_a_register_read_through_its_up_to_date_copy_is_not_read_ahead(
        register: Register) -> None:
    register.upgrade_pending = 11  # as `open` marks a register from an older accessgov
    try:
        assert isinstance(register.tuples_ahead([(NUMBERS, {"last": 3})]), ReadNow)
    finally:
        register.upgrade_pending = None


def test_a_failed_read_is_raised_where_the_rows_are_read_and_leaves_nothing_open(
        register: Register) -> None:
    before = connections_of(register)
    ahead = register.tuples_ahead([("SELECT no_such_column FROM settings", ())])  # no error yet
    with pytest.raises(Exception, match="no_such_column"):
        list(ahead)
    assert not read_ahead_threads()
    assert_connections_back_to(register, before)


def test_rows_never_read_are_let_go_with_their_connection(register: Register) -> None:
    before = connections_of(register)
    ahead = register.tuples_ahead([(NUMBERS, {"last": 50_000})] * 2)
    ahead.close()
    assert not read_ahead_threads()
    assert_connections_back_to(register, before)
    ahead.close()  # twice is harmless


def test_rows_read_ahead_leave_no_connection_once_read(register: Register) -> None:
    before = connections_of(register)
    assert len(list(register.tuples_ahead([(NUMBERS, {"last": 10})]))) == 10
    assert not read_ahead_threads()
    assert_connections_back_to(register, before)
